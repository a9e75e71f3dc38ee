"""Build a HeadModel in the scene: a mesh with named shape keys, skinned to a five-bone armature.

Every bone points straight up (Blender +Z) with roll 0, so its local axes are
FLAME's axes (x, y up, z out of the face). A FLAME axis-angle rotation is then
exactly the pose bone's local rotation: no per-bone conversion when keying.
FLAME's pose correctives become shape keys `pose:<joint>:<feature>` keyed from
the joint rotations, so the Blender mesh matches the engine's skinning.
"""

from __future__ import annotations

import math

import bpy
import numpy as np

from .axes import to_blender, to_flame
from .action_compat import OWNER_TAG

BONE_LENGTH = 0.03          # metres; display only
CORRECTIVE_PREFIX = "pose:"  # shape keys holding FLAME pose correctives
MIN_CORRECTIVE = 1e-7       # posedirs columns below this (metres) are not worth a shape key
HEAD_CAMERA = "Talking Head Camera"
SENSOR_HEIGHT = 24.0        # mm, the head camera's sensor (its lens follows from the looks' field of view)
STARTUP_CAMERA = ((7.358891487121582, -6.925790786743164, 4.958309173583984),  # location and rotation of
                  (1.1093189716339111, 0.0, 0.8149281740188599))                # Blender's startup camera


def corrective_columns(head) -> list[int]:
    """Pose-corrective features [k] of the head whose displacement is not negligible."""
    return [k for k in range(head.posedirs.shape[2]) if np.abs(head.posedirs[:, :, k]).max() > MIN_CORRECTIVE]


def corrective_key_name(head, column: int) -> str:
    """Shape-key name of pose-corrective feature `column` (joint and (R - I) entry)."""
    joint = head.joint_names[1 + column // 9]
    row, col = divmod(column % 9, 3)
    return f"{CORRECTIVE_PREFIX}{joint}:{row}{col}"


def add_head(context, head, name: str = "TalkingHead"):
    """Create the head's mesh and armature in the active collection; return (mesh_obj, armature_obj)."""
    collection = context.collection
    armature = _build_armature(context, head, name + "_Rig")
    mesh_obj = bpy.data.objects.new(name, _build_mesh(head, name))
    collection.objects.link(mesh_obj)
    _add_shape_keys(mesh_obj, head)
    _add_skinning(mesh_obj, armature, head)
    mesh_obj.parent = armature
    mesh_obj[OWNER_TAG + "_head"] = head.name
    armature[OWNER_TAG + "_head"] = head.name
    return mesh_obj, armature


def make_target(context, mesh_obj, armature):
    """Put a head just added at the 3D cursor, make it the Talking Head target, selected and active; give the
    scene a camera framing it when it has none, or only Blender's startup camera (`frame_unless_set_up`).
    Returns that new camera, or None."""
    armature.location = context.scene.cursor.location
    context.scene.talking_head.target = mesh_obj
    for obj in context.selected_objects:
        obj.select_set(False)
    mesh_obj.select_set(True)
    context.view_layer.objects.active = mesh_obj
    return frame_unless_set_up(context, mesh_obj)


def frame_unless_set_up(context, head_obj):
    """A new camera framing `head_obj`, made the scene camera, when the scene has no camera or only Blender's
    startup camera as the startup file leaves it (it looks from yaw 47°, pitch 26°: no look was trained
    there); the startup camera itself is left as it is. A camera the user set up is never replaced: None."""
    scene = context.scene
    if scene.camera is not None and not is_startup_camera(scene.camera):
        return None
    camera = add_head_camera(context, head_obj)
    scene.camera = camera
    return camera


def is_startup_camera(obj) -> bool:
    """Whether `obj` is the camera of Blender's startup file, unmoved, lens unchanged, not animated."""
    if obj.type != 'CAMERA' or obj.animation_data is not None or obj.parent is not None:
        return False
    data = obj.data
    return (np.allclose(tuple(obj.location), STARTUP_CAMERA[0], atol=1e-3)
            and np.allclose(tuple(obj.rotation_euler), STARTUP_CAMERA[1], atol=1e-3)
            and tuple(obj.scale) == (1.0, 1.0, 1.0) and data.type == 'PERSP'
            and abs(data.lens - 50.0) < 1e-6 and abs(data.shift_x) + abs(data.shift_y) < 1e-9)


def add_head_camera(context, head_obj, name: str = HEAD_CAMERA):
    """A new camera in the scene's collection looking at the head mesh `head_obj` (at rest) from the front as
    the looks were distilled to see it: the engine's default framing (18° vertical field of view, the head
    filling the frame's height), whatever the render resolution's shape."""
    from mathutils import Matrix

    from .render_camera import camera_module

    rest = np.empty(3 * len(head_obj.data.vertices), np.float32)
    head_obj.data.vertices.foreach_get("co", rest)
    view = camera_module.default_framing(to_flame(rest.reshape(-1, 3)))
    right, down, forward = (to_blender(axis) for axis in view.rotation)
    local = np.eye(4)
    local[:3, 0], local[:3, 1], local[:3, 2] = right, -down, -forward  # Blender cameras look down -Z, +Y up
    local[:3, 3] = to_blender(view.position)
    data = bpy.data.cameras.new(name)
    data.sensor_fit, data.sensor_height = 'VERTICAL', SENSOR_HEIGHT
    data.lens = 0.5 * SENSOR_HEIGHT / math.tan(math.radians(view.fov_y) / 2.0)
    data.clip_start = 0.01
    camera = bpy.data.objects.new(name, data)
    context.scene.collection.objects.link(camera)
    context.view_layer.update()
    camera.matrix_world = head_obj.matrix_world @ Matrix(local.tolist())
    camera[OWNER_TAG + "_camera"] = head_obj.name
    return camera


def _build_mesh(head, name: str):
    mesh = bpy.data.meshes.new(name)
    verts = to_blender(head.v_template).astype(np.float32)
    faces = np.asarray(head.faces, dtype=np.int32)
    mesh.vertices.add(len(verts))
    mesh.vertices.foreach_set("co", verts.ravel())
    mesh.loops.add(faces.size)
    mesh.loops.foreach_set("vertex_index", faces.ravel())
    mesh.polygons.add(len(faces))
    mesh.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), dtype=bool))
    mesh.update(calc_edges=True)
    mesh.validate(verbose=False)
    if head.vertex_colors is not None:
        _add_colors(mesh, head.vertex_colors)
    mesh.materials.append(_material(name))
    return mesh


def _add_colors(mesh, colors: np.ndarray) -> None:
    attr = mesh.color_attributes.new("Color", 'FLOAT_COLOR', 'POINT')
    rgba = np.ones((len(colors), 4), dtype=np.float32)
    rgba[:, :3] = colors
    attr.data.foreach_set("color", rgba.ravel())
    mesh.color_attributes.active_color = attr


def _material(name: str):
    material = bpy.data.materials.new(name + "_Skin")
    if bpy.app.version < (5, 0, 0):
        material.use_nodes = True  # always on (and deprecated) from 5.0
    nodes, links = material.node_tree.nodes, material.node_tree.links
    bsdf = nodes.get("Principled BSDF")
    color = nodes.new("ShaderNodeVertexColor")
    color.layer_name = "Color"
    links.new(color.outputs["Color"], bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = 0.55
    return material


def _add_shape_keys(obj, head) -> None:
    """Basis, one key per expression component, one per non-negligible pose corrective."""
    obj.shape_key_add(name="Basis", from_mix=False)
    rest = head.v_template
    offsets = [(n, head.exprdirs[:, :, e]) for e, n in enumerate(head.expression_names)]
    offsets += [(corrective_key_name(head, k), head.posedirs[:, :, k]) for k in corrective_columns(head)]
    for key_name, offset in offsets:
        block = obj.shape_key_add(name=key_name, from_mix=False)
        block.data.foreach_set("co", to_blender(rest + offset).astype(np.float32).ravel())
        block.value = 0.0  # bpy 5.0 creates keys at 1.0
        limit = 10.0 if key_name.startswith(CORRECTIVE_PREFIX) else 2.0
        block.slider_min, block.slider_max = -limit, limit


def _build_armature(context, head, name: str):
    """An armature object (linked into the active collection) with one bone per FLAME joint."""
    data = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, data)
    context.collection.objects.link(obj)
    joints = to_blender(head.rest_joints())
    previous = context.view_layer.objects.active
    context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode='EDIT')
    bones = []
    for j, joint_name in enumerate(head.joint_names):
        bone = data.edit_bones.new(joint_name)
        bone.head = joints[j]
        bone.tail = joints[j] + np.array([0.0, 0.0, BONE_LENGTH])
        bone.roll = 0.0
        if head.parents[j] >= 0:
            bone.parent = bones[head.parents[j]]
        bones.append(bone)
    bpy.ops.object.mode_set(mode='OBJECT')
    context.view_layer.objects.active = previous
    for pose_bone in obj.pose.bones:
        pose_bone.rotation_mode = 'QUATERNION'
    return obj


def _add_skinning(mesh_obj, armature, head) -> None:
    for j, joint_name in enumerate(head.joint_names):
        group = mesh_obj.vertex_groups.new(name=joint_name)
        weights = head.weights[:, j]
        for value in np.unique(weights[weights > 0]):
            group.add(np.nonzero(weights == value)[0].tolist(), float(value), 'REPLACE')
    modifier = mesh_obj.modifiers.new("Armature", 'ARMATURE')
    modifier.object = armature
