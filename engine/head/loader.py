"""Load a head: the built-in one, a FLAME `.pkl`, or our `.npz`; save heads as `.npz`.

The `.npz` holds FLAME's keys as plain arrays (v_template, f, shapedirs,
posedirs, J_regressor, weights, kintree_table), so a FLAME file converted
with other tools loads too (its shapedirs split 300 shape + the rest
expression). Files written by `save_head_npz` add `exprdirs` (then
`shapedirs` is the shape basis only), component names, joint limits,
regions, the landmark embedding and vertex colours. No pickles are ever
loaded from an `.npz`.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..errors import HeadModelError
from .flame_file import (flame_arrays, head_from_arrays, load_flame_pickle, read_bytes,
                         to_array, unpickle_restricted)
from .model import HeadModel, LandmarkEmbedding

NPZ_FORMAT = "talking-head head npz 1"


def load_head(path=None, landmarks=None) -> HeadModel:
    """The head at `path` (None: the built-in head), optionally with a landmark embedding file.

    `.pkl` is read as a FLAME model, `.npz` as a saved head; anything else is
    an error. Raises HeadModelError with one sentence.
    """
    if path is None:
        head = _builtin_head()
    else:
        suffix = Path(path).suffix.lower()
        if suffix not in (".pkl", ".npz"):
            raise HeadModelError(f"'{path}' is not a head model file: use a FLAME .pkl or a head .npz.")
        head = load_flame_pickle(path) if suffix == ".pkl" else load_head_npz(path)
    if landmarks is not None:
        head.landmark_embedding = fitted_embedding(load_landmark_embedding(landmarks), head, landmarks)
    return head


def _builtin_head() -> HeadModel:
    try:
        from .builtin import build_builtin_head
    except ImportError as e:
        if not (e.name or "").startswith(__package__ + ".builtin"):
            raise
        raise HeadModelError("The built-in head is missing from this installation; "
                             "reinstall the add-on or choose a FLAME file.") from None
    return build_builtin_head()


def fitted_embedding(embedding: LandmarkEmbedding, head: HeadModel, path) -> LandmarkEmbedding:
    """`embedding` after checking that its triangles exist on `head`."""
    if embedding.faces.size and embedding.faces.max() >= len(head.faces):
        raise HeadModelError(f"The landmark embedding '{path}' uses triangle {int(embedding.faces.max())}, "
                             f"but the head '{head.name}' has only {len(head.faces)} triangles.")
    return embedding


# ---- npz -------------------------------------------------------------------

def save_head_npz(head: HeadModel, path) -> None:
    """Write `head` to `path` as an uncompressed `.npz` that `load_head` reads back exactly."""
    path = Path(path)
    try:
        with open(path, "wb") as f:
            np.savez(f, **head_to_npz_arrays(head))
    except OSError as e:
        raise HeadModelError(f"The head could not be saved to '{path}' ({e.strerror}).") from None


def head_to_npz_arrays(head: HeadModel) -> dict:
    """Plain arrays (no Python objects) for every field of `head`."""
    out = {"format": np.array(NPZ_FORMAT), "name": np.array(head.name),
           "v_template": head.v_template, "f": head.faces, "shapedirs": head.shapedirs,
           "exprdirs": head.exprdirs, "posedirs": head.posedirs, "J_regressor": head.j_regressor,
           "weights": head.weights, "kintree_table": np.stack([head.parents, np.arange(len(head.parents))]),
           "shape_names": _strings(head.shape_names), "expression_names": _strings(head.expression_names),
           "joint_names": _strings(head.joint_names)}
    names = list(head.joint_limits)
    out["joint_limit_names"] = _strings(names)
    out["joint_limits"] = np.array([np.stack(head.joint_limits[n]) for n in names], np.float64).reshape(-1, 2, 3)
    regions = list(head.regions)
    out["region_names"] = _strings(regions)
    out["region_sizes"] = np.array([len(head.regions[r]) for r in regions], np.int64)
    out["region_indices"] = np.concatenate([np.asarray(head.regions[r], np.int64).ravel() for r in regions]
                                           or [np.zeros(0, np.int64)])
    if head.landmark_embedding is not None:
        lmk = head.landmark_embedding
        out.update(lmk_faces=lmk.faces, lmk_bary=lmk.bary, lmk_ids=lmk.ids)
    if head.vertex_colors is not None:
        out["vertex_colors"] = head.vertex_colors
    return out


def _strings(names) -> np.ndarray:
    return np.array([str(n) for n in names], dtype=str).reshape(-1)


def load_head_npz(path) -> HeadModel:
    """A HeadModel from an `.npz` (ours, or FLAME keys as plain arrays)."""
    path = Path(path)
    data = read_npz_mapping(read_bytes(path, "head model"), path, "FLAME model file")
    try:
        extra = _npz_extras(data, path)
        name = str(data["name"]) if "name" in data else path.stem
        return head_from_arrays(flame_arrays(data, path), name, str(path), dtype=None, **extra)
    except HeadModelError:
        raise
    except Exception as e:  # noqa: BLE001 - never let a bare exception reach the user
        raise HeadModelError(f"'{path}' is not a usable head model ({e}).") from None


def _npz_extras(d: dict, path) -> dict:
    extra = {}
    for key in ("shape_names", "expression_names"):
        if key in d:
            extra[key] = [str(n) for n in d[key]]
    if "joint_names" in d:
        extra["joint_names"] = tuple(str(n) for n in d["joint_names"])
    if "joint_limit_names" in d:
        limits = d["joint_limits"]
        extra["joint_limits"] = {str(n): (limits[i, 0], limits[i, 1]) for i, n in enumerate(d["joint_limit_names"])}
    if "region_names" in d:
        parts = np.split(d["region_indices"], np.cumsum(d["region_sizes"])[:-1]) if len(d["region_sizes"]) else []
        extra["regions"] = {str(n): p for n, p in zip(d["region_names"], parts)}
    if "lmk_faces" in d:
        extra["landmark_embedding"] = checked_embedding(d["lmk_faces"], d["lmk_bary"], d["lmk_ids"], path)
    if "vertex_colors" in d:
        extra["vertex_colors"] = d["vertex_colors"]
    return extra


def read_npz_mapping(raw: bytes, path, what: str) -> dict:
    """Every array of an `.npz` (bytes of `path`), refusing pickled objects."""
    if raw[:2] != b"PK":
        raise HeadModelError(f"'{path}' is not a {what}: it is not an .npz (zip) archive.")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise HeadModelError(f"'{path}' holds Python objects, which are not loaded for safety; "
                                 "save it with plain arrays.") from None
        raise HeadModelError(f"'{path}' is not a {what}: {e}.") from None
    except Exception as e:  # noqa: BLE001 - zip, OS and format errors all mean a bad file
        raise HeadModelError(f"'{path}' is not a {what}: it is not a valid .npz ({e}).") from None


# ---- landmark embeddings -------------------------------------------------

LANDMARK_KEYS = (("faces", "bary"), ("full_lmk_faces_idx", "full_lmk_bary_coords"),
                 ("lmk_face_idx", "lmk_b_coords"), ("static_lmk_faces_idx", "static_lmk_bary_coords"))


def load_landmark_embedding(path) -> LandmarkEmbedding:
    """Landmarks as barycentric points on a FLAME-topology mesh.

    Accepts FLAME's `flame_static_embedding.pkl` (51 points, iBUG ids 17..67),
    DECA's `landmark_embedding.npy` (68 points, ids 0..67, from its
    `full_lmk_*` arrays, else the 51 `static_lmk_*` ones) and our `.npz`
    (faces [L], bary [L, 3], ids [L]). Raises HeadModelError otherwise.
    """
    path = Path(path)
    raw = read_bytes(path, "landmark embedding")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        data = read_npz_mapping(raw, path, "landmark embedding file")
    elif suffix == ".npy":
        data = _read_npy_object(raw, path)
    elif suffix == ".pkl":
        data = unpickle_restricted(raw, path, "landmark embedding file")
    else:
        raise HeadModelError(f"'{path}' is not a landmark embedding: use a .pkl, .npy or .npz file.")
    return _embedding_from_mapping(data, path)


def _read_npy_object(raw: bytes, path):
    """A .npy array; an object array (a pickled dict) goes through the restricted unpickler."""
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        dtype = read_header(f)[2]
        if not dtype.hasobject:
            return np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - any header failure is a bad file
        raise HeadModelError(f"'{path}' is not a valid .npy file ({e}).") from None
    arr = unpickle_restricted(raw[f.tell():], path, "landmark embedding file")
    return arr.item() if isinstance(arr, np.ndarray) and arr.size == 1 else arr


def _default_ids(count: int, path) -> np.ndarray:
    if count == 68:
        return np.arange(68, dtype=np.int64)
    if count == 51:
        return np.arange(17, 68, dtype=np.int64)
    raise HeadModelError(f"'{path}' has {count} landmarks; without an 'ids' array it must have 51 or 68.")


def _embedding_from_mapping(data, path) -> LandmarkEmbedding:
    if not isinstance(data, dict):
        raise HeadModelError(f"'{path}' is not a landmark embedding: it holds a {type(data).__name__}.")
    for faces_key, bary_key in LANDMARK_KEYS:
        if faces_key in data and bary_key in data:
            try:
                faces = to_array(data[faces_key]).reshape(-1)
                bary = to_array(data[bary_key]).astype(np.float64).reshape(-1, 3)
                ids = to_array(data["ids"]).reshape(-1) if "ids" in data else None
            except Exception as e:  # noqa: BLE001 - a value of the wrong kind or size
                raise HeadModelError(f"'{path}' has unreadable landmark arrays ({e}).") from None
            ids = _default_ids(len(faces), path) if ids is None else ids.astype(np.int64)
            return checked_embedding(faces, bary, ids, path)
    raise HeadModelError(f"'{path}' is not a landmark embedding: it has no lmk_face_idx/lmk_b_coords, "
                         "full_lmk_faces_idx/full_lmk_bary_coords or faces/bary arrays.")


def checked_embedding(faces, bary, ids, path) -> LandmarkEmbedding:
    """A LandmarkEmbedding after checking lengths, integer faces and finite weights."""
    faces = np.asarray(faces)
    if len(faces) != len(bary) or len(ids) != len(faces):
        raise HeadModelError(f"'{path}' has {len(faces)} landmark triangles, {len(bary)} weight rows "
                             f"and {len(ids)} ids; they must match.")
    if faces.size and (not np.all(np.mod(faces, 1) == 0) or faces.min() < 0):
        raise HeadModelError(f"'{path}' has landmark triangle indices that are not non-negative integers.")
    if not np.all(np.isfinite(bary)):
        raise HeadModelError(f"'{path}' has NaN or infinite landmark weights.")
    return LandmarkEmbedding(faces=faces.astype(np.int64), bary=bary, ids=np.asarray(ids, np.int64))
