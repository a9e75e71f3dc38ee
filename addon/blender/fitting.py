"""Retargeting by fit in Blender: a head mesh's landmarks, its shape keys on them, and the fitted Mapping.

A fit compares the mesh's shape keys with the built-in head's expressions on
the 68 iBUG landmarks (`engine.retarget.fit_mapping`). The landmarks are 68
vertex indices kept on the mesh (custom property `LANDMARKS_PROP`), found by
laying the built-in head over the mesh: by hand (Find Landmarks, with a
built-in head the user placed), from a FLAME landmark embedding file, or,
for a FLAME head, aligned on the joints both heads share (neck, jaw, eyes).

FLAME heads (ours from a FLAME file, or the FLAME Blender add-on's) are fitted
on their expression keys only, with signed weights (`key_names`), and Animate
fits them by itself the first time (`ensure_mapping`).
"""

from __future__ import annotations

import functools

import numpy as np

from . import key_names, mapping_store, target_rig
from .axes import to_blender, to_flame
from ..engine_link import engine, retarget

LANDMARKS_PROP = "talking_head_landmarks"  # custom property: 68 vertex indices in iBUG-68 order
LANDMARK_COUNT = 68
ALIGNING_JOINTS = ("neck", "jaw", "eye_left", "eye_right")  # joints a FLAME head and the built-in head share


@functools.cache
def builtin_channels() -> tuple:
    """Channels our drivers make for shape keys: the built-in head's expressions and the joint-implied ARKit shapes."""
    names = list(engine.load_head().expression_names)
    return tuple(names + [n for n in retarget.JOINT_SHAPE_SOURCES if n not in names])


def landmark_indices(obj):
    """The 68 landmark vertex indices kept on `obj`, or None when missing or malformed."""
    value = obj.get(LANDMARKS_PROP) if obj is not None else None
    try:
        indices = [int(i) for i in (value.to_list() if hasattr(value, "to_list") else value)]
    except (TypeError, ValueError):
        return None
    return indices if len(indices) == LANDMARK_COUNT else None


def is_flame_head(obj) -> bool:
    """True when `obj`'s shape keys look like a FLAME head's expression components (`Exp1`.., `exp000`..)."""
    return key_names.looks_like_flame(target_rig.shape_key_targets(obj))


def fit_keys(obj) -> tuple:
    """(shape keys [K] a fit may use, signed): a FLAME head's expression keys with signed weights, else all."""
    names = target_rig.shape_key_targets(obj)
    if key_names.looks_like_flame(names):
        return key_names.flame_expression_keys(names), True
    return names, False


def fit_mesh(obj, landmarks) -> "retarget.Mapping":
    """The mapping of the built-in head's expressions onto `obj`'s shape keys, fitted on `landmarks` [68]."""
    names, signed = fit_keys(obj)
    basis, shapes, names = shape_key_coordinates(obj, names)
    rest, deltas = retarget.landmark_deltas(basis, shapes, landmarks)
    return retarget.fit_mapping(engine.load_head(), deltas, names, target_landmarks=rest, signed=signed)


def shape_key_coordinates(obj, names=None) -> tuple:
    """(basis [V, 3], shapes [K, V, 3], names [K]) of the mesh's keys `names` (None: every target) in FLAME
    axes, each key applied alone on the basis, relative to its own reference key."""
    blocks = obj.data.shape_keys.key_blocks
    names = target_rig.shape_key_targets(obj) if names is None else list(names)
    count = len(obj.data.vertices)

    def coordinates(block):
        co = np.empty(count * 3, np.float32)
        block.data.foreach_get("co", co)
        return co.reshape(-1, 3).astype(np.float64)

    basis = coordinates(blocks[0])
    shapes = [basis + coordinates(blocks[n]) - coordinates(blocks[n].relative_key) for n in names]
    return to_flame(basis), to_flame(np.stack(shapes) if shapes else np.zeros((0, count, 3))), names


# ---- landmarks -----------------------------------------------------------------------------------

def overlaid_landmarks(obj, to_local) -> np.ndarray:
    """The vertices [68] of `obj` under the built-in head's landmarks, the built-in head (in Blender axes)
    placed on `obj` by `to_local` [4, 4] (built-in head -> `obj`'s local coordinates)."""
    head = engine.load_head()
    to_local = np.asarray(to_local, dtype=np.float64)
    points = to_blender(retarget.head_landmarks(head)) @ to_local[:3, :3].T + to_local[:3, 3]
    directions = to_blender(retarget.landmark_directions(head)) @ to_local[:3, :3].T
    basis = to_blender(shape_key_coordinates(obj, [])[0]) if obj.data.shape_keys else mesh_vertices(obj)
    return retarget.landmark_vertices(points, directions, basis, mesh_edges(obj))


def landmarks_from_joints(obj) -> np.ndarray:
    """The vertices [68] of `obj` under the built-in head's landmarks, the built-in head aligned (scale,
    rotation, shift) on the joints both have: the bones neck, jaw and the eyes of `obj`'s armature.

    MappingError when the armature or one of those bones is missing.
    """
    armature = target_rig.find_armature(obj)
    bones = target_rig.bones_for_joints(armature) if armature is not None else {}
    missing = [j for j in ALIGNING_JOINTS if j not in bones]
    if missing:
        raise retarget.MappingError(
            f"The landmarks of '{obj.name}' are found from its armature's neck, jaw and eye bones, but it has no "
            f"{' or '.join(missing)} bone; lay the built-in head over it and press Find Landmarks (Mapping panel).")
    to_local = np.array(obj.matrix_world.inverted()) @ np.array(armature.matrix_world)
    target = np.array([armature.data.bones[bones[j]].head_local for j in ALIGNING_JOINTS], np.float64)
    target = target @ to_local[:3, :3].T + to_local[:3, 3]
    head = engine.load_head()
    index = [head.joint_names.index(j) for j in ALIGNING_JOINTS]
    scale, rotation, shift = retarget.similarity_transform(to_blender(head.rest_joints()[index]), target)
    placed = np.eye(4)
    placed[:3, :3], placed[:3, 3] = scale * rotation, shift
    return overlaid_landmarks(obj, placed)


def landmarks_from_embedding(obj, head) -> np.ndarray:
    """The vertices [68] of `obj` (made from `head`) at `head`'s landmark embedding: each landmark's
    nearest triangle corner; landmarks the embedding lacks (FLAME's 51-point one has no jaw line)
    come from `landmarks_from_joints`."""
    emb = head.landmark_embedding
    corners = np.asarray(head.faces)[emb.faces]
    exact = corners[np.arange(len(corners)), np.argmax(emb.bary, axis=1)]
    ids = np.asarray(emb.ids, dtype=np.int64)
    keep = (ids >= 0) & (ids < LANDMARK_COUNT)
    complete = set(ids[keep].tolist()) == set(range(LANDMARK_COUNT))
    index = np.zeros(LANDMARK_COUNT, np.int64) if complete else landmarks_from_joints(obj).astype(np.int64)
    index[ids[keep]] = exact[keep]
    return index


def mesh_edges(obj) -> np.ndarray:
    """The mesh's edges [E, 2] (vertex indices)."""
    pairs = np.empty(len(obj.data.edges) * 2, np.int32)
    obj.data.edges.foreach_get("vertices", pairs)
    return pairs.reshape(-1, 2)


def mesh_vertices(obj) -> np.ndarray:
    """The mesh's vertices [V, 3] in its local (Blender) coordinates."""
    co = np.empty(len(obj.data.vertices) * 3, np.float32)
    obj.data.vertices.foreach_get("co", co)
    return co.reshape(-1, 3)


# ---- the automatic fit of FLAME heads ------------------------------------------------------------

def needs_automatic_fit(obj) -> bool:
    """True for a FLAME head with no stored mapping whose shape keys match none of our channels by name."""
    if obj is None or obj.type != 'MESH' or mapping_store.stored_mapping(obj) is not None or not is_flame_head(obj):
        return False
    return not retarget.map_by_name(builtin_channels(), target_rig.shape_key_targets(obj)).targets


def ensure_mapping(obj):
    """Fit and store the mapping of a FLAME head that has none (see `needs_automatic_fit`); return it, or
    None when `obj` needs no fit. The landmarks kept on `obj` are used, else found from its joints and kept;
    its bones are mapped by name. MappingError when the landmarks cannot be found."""
    if not needs_automatic_fit(obj):
        return None
    landmarks = landmark_indices(obj)
    if landmarks is None:
        landmarks = [int(i) for i in landmarks_from_joints(obj)]
    mapping = fit_mesh(obj, landmarks)
    armature = target_rig.find_armature(obj)
    mapping.bones = target_rig.bones_for_joints(armature) if armature is not None else {}
    obj[LANDMARKS_PROP] = landmarks
    mapping_store.store_mapping(obj, mapping)
    return mapping
