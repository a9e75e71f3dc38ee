"""The target rig as Blender holds it: its armature and the bones for FLAME's joints, the shape keys a
mapping may drive, the character's other meshes, and its evaluated vertices. Reads only; main thread."""

from __future__ import annotations

import bpy
import numpy as np

from . import key_names
from .axes import to_flame
from ..engine_link import engine, retarget
from .mapping_store import skipped_meshes

JOINTS = engine.head.model.JOINT_NAMES


def find_armature(obj):
    """The armature deforming `obj` (its Armature modifier or armature parent), or None."""
    if obj is None:
        return None
    if obj.type == 'ARMATURE':
        return obj
    for modifier in getattr(obj, "modifiers", []):
        if modifier.type == 'ARMATURE' and modifier.object is not None:
            return modifier.object
    return obj.parent if obj.parent is not None and obj.parent.type == 'ARMATURE' else None

def bones_for_joints(armature, mapping=None, bones=None) -> dict:
    """{FLAME joint: bone name} of `armature`: bones named like the joint, then the mapping's, then `bones`.

    A chosen bone the armature lacks, or an unknown joint, raises MappingError.
    """
    chosen = dict(mapping.bones) if mapping is not None else {}
    chosen.update(retarget.Mapping(bones=dict(bones or {})).bones)
    by_key = {retarget.name_key(b.name): b.name for b in armature.pose.bones}
    found = {j: by_key[retarget.name_key(j)] for j in JOINTS if retarget.name_key(j) in by_key}
    found.update(chosen)
    retarget.Mapping(bones=found).validate(bone_names=[b.name for b in armature.pose.bones])
    return found

def shape_key_targets(mesh_obj) -> list:
    """Names of the mesh's shape keys a mapping may drive: all but the basis and pose correctives."""
    key = mesh_obj.data.shape_keys if mesh_obj is not None and mesh_obj.type == 'MESH' else None
    if key is None:
        return []
    names = [b.name for b in key.key_blocks[1:]]
    correctives = key_names.corrective_keys(names)
    return [n for n in names if n not in correctives]

def character_meshes(mesh_obj) -> list:
    """The other meshes of `mesh_obj`'s character, sorted by name: those under its armature (or, without
    one, under its parent), those the armature deforms, and its own children; only meshes sharing a
    scene with it."""
    armature = find_armature(mesh_obj)
    root = armature or mesh_obj.parent
    family = set(mesh_obj.children_recursive) | (set(root.children_recursive) if root is not None else set())
    if armature is not None:
        family |= {o for o in bpy.data.objects if o.type == 'MESH' and find_armature(o) == armature}
    scenes = {s.name_full for s in mesh_obj.users_scene}
    return sorted((o for o in family if o.type == 'MESH' and o != mesh_obj
                   and scenes & {s.name_full for s in o.users_scene}), key=lambda o: o.name)

def mapped_meshes(mesh_obj, mapping) -> list:
    """The character's other meshes (`character_meshes`) with a shape key that `mapping` drives."""
    driven = set(mapping.target_names()) if mapping is not None else set()
    return [o for o in character_meshes(mesh_obj) if driven & set(shape_key_targets(o))]

def companion_meshes(mesh_obj, mapping) -> list:
    """The meshes Animate keys beside `mesh_obj`: `mapped_meshes` less the ones the user unticked."""
    skipped = skipped_meshes(mesh_obj)
    return [o for o in mapped_meshes(mesh_obj, mapping) if o.name not in skipped]

def evaluated_vertices(context, obj) -> np.ndarray:
    """The object's evaluated mesh (shape keys, armature, ...) at the current frame: world-space
    vertices [V, 3] in FLAME's frame, comparable with `HeadModel.forward`."""
    obj_eval = obj.evaluated_get(context.evaluated_depsgraph_get())
    mesh = obj_eval.to_mesh()
    co = np.empty(len(mesh.vertices) * 3, np.float32)
    mesh.vertices.foreach_get("co", co)
    obj_eval.to_mesh_clear()
    world = np.array(obj.matrix_world)
    return to_flame(co.reshape(-1, 3) @ world[:3, :3].T + world[:3, 3])
