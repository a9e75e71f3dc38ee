"""The one seam where engine results (numpy) become Blender data: keys and sound strips.

Everything here runs on Blender's main thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy
import numpy as np

from .action_compat import OWNER_TAG, ActionWriter, write_keys
from .axes import to_flame
from .head_object import CORRECTIVE_PREFIX
from .engine_link import engine

JOINTS = engine.head.model.JOINT_NAMES
VOICE_STRIP = "voice"


@dataclass
class KeyResult:
    """What `key_clip` did: channels keyed per target, channels nothing received, Actions made."""

    keyed: dict = field(default_factory=dict)      # clip channel -> data path
    unmapped: list = field(default_factory=list)   # clip channels with no target
    actions: list = field(default_factory=list)
    frames: tuple = (0, 0)


def key_clip(clip, mesh_obj, armature=None) -> KeyResult:
    """Key a MotionClip (already at the scene's fps) onto a mesh's shape keys and its armature.

    Shape keys match channels by name, case-insensitively; joint channels
    (`jaw_rx`, ...) key the armature bone of that joint; pose-corrective shape
    keys follow the joint rotations. Each target gets a new Action of ours;
    an artist's Action is kept (moved to a muted NLA track), never overwritten.
    """
    result = KeyResult()
    frames = clip.start_frame + np.arange(clip.num_frames, dtype=np.float64)
    result.frames = (int(frames[0]), int(frames[-1]))
    rotations = joint_rotations(clip)
    key = mesh_obj.data.shape_keys if mesh_obj is not None and mesh_obj.type == 'MESH' else None
    if key is not None:
        _key_shapes(key, clip, frames, rotations, result)
    armature = armature or find_armature(mesh_obj)
    if armature is not None:
        _key_bones(armature, clip, frames, rotations, result)
    keyed_channels = set(result.keyed)
    result.unmapped = [n for n in clip.names if n not in keyed_channels]
    return result


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


def joint_rotations(clip) -> dict:
    """Rotation matrices [T, 3, 3] of every joint the clip drives, keyed by joint name."""
    lowered = {n.lower(): i for i, n in enumerate(clip.names)}
    out = {}
    for joint in JOINTS:
        cols = [lowered.get(f"{joint}_r{axis}") for axis in "xyz"]
        if all(c is None for c in cols):
            continue
        aa = np.stack([clip.values[:, c] if c is not None else np.zeros(clip.num_frames) for c in cols], axis=1)
        out[joint] = (aa, engine.head.lbs.batch_rodrigues(aa))
    return out


def _key_shapes(key, clip, frames, rotations, result: KeyResult) -> None:
    blocks = {b.name.lower(): b.name for b in key.key_blocks[1:]}
    action_name = f"TalkingHead_{key.user.name}_Shapes"
    writer = None
    for c, name in enumerate(clip.names):
        target = blocks.get(name.lower())
        if target is None:
            continue
        writer = writer or _new_writer(key, action_name, 'KEY', result)
        path = f'key_blocks["{target}"].value'
        write_keys(writer.fcurve(path, 0, group="Expressions"), frames, clip.values[:, c])
        result.keyed[name] = path
    for block in key.key_blocks:
        if block.name.startswith(CORRECTIVE_PREFIX):
            values = _corrective_values(block.name, rotations)
            if values is not None:
                writer = writer or _new_writer(key, action_name, 'KEY', result)
                write_keys(writer.fcurve(f'key_blocks["{block.name}"].value', 0, group="Correctives"),
                           frames, values)
    if writer is not None:
        writer.assign()


def _corrective_values(key_name: str, rotations: dict):
    """Values [T] of a `pose:<joint>:<rc>` key: the (R - I)[r, c] entry of that joint's rotation."""
    _, joint, entry = key_name.split(":")
    if joint not in rotations:
        return None
    r, c = int(entry[0]), int(entry[1])
    R = rotations[joint][1]
    return R[:, r, c] - (1.0 if r == c else 0.0)


def _key_bones(armature, clip, frames, rotations, result: KeyResult) -> None:
    bones = {b.name.lower(): b.name for b in armature.pose.bones}
    writer = None
    for joint, (aa, _) in rotations.items():
        bone = bones.get(joint)
        if bone is None:
            continue
        writer = writer or _new_writer(armature, f"TalkingHead_{armature.name}_Pose", 'OBJECT', result)
        armature.pose.bones[bone].rotation_mode = 'QUATERNION'
        path = f'pose.bones["{bone}"].rotation_quaternion'
        quats = quaternions(aa)
        for i in range(4):
            write_keys(writer.fcurve(path, i, group=bone), frames, quats[:, i])
        for axis in "xyz":
            if f"{joint}_r{axis}" in clip.names:
                result.keyed[f"{joint}_r{axis}"] = path
    if writer is not None:
        writer.assign()


def quaternions(axis_angle: np.ndarray) -> np.ndarray:
    """Axis-angle [T, 3] -> unit quaternions [T, 4] (w, x, y, z), sign-continuous over time."""
    angle = np.linalg.norm(axis_angle, axis=1, keepdims=True)
    safe = np.where(angle > 1e-12, angle, 1.0)
    q = np.concatenate([np.cos(angle / 2), np.sin(angle / 2) * axis_angle / safe], axis=1)
    for t in range(1, len(q)):
        if np.dot(q[t], q[t - 1]) < 0:
            q[t] = -q[t]
    return q


def _new_writer(id_block, name: str, id_type: str, result: KeyResult) -> ActionWriter:
    """A fresh Action of ours for `id_block`, after setting any previous Action aside safely."""
    ad = id_block.animation_data
    previous = ad.action if ad is not None else None
    if previous is not None:
        if previous.get(OWNER_TAG):
            ad.action = None
            if previous.users == 0:
                bpy.data.actions.remove(previous)
        else:
            _push_to_muted_track(id_block, previous)
    writer = ActionWriter(id_block, name, id_type)
    result.actions.append(writer.action)
    return writer


def _push_to_muted_track(id_block, action) -> None:
    """Keep an artist's Action: a muted NLA strip holds it, and a fake user keeps it saved."""
    ad = id_block.animation_data
    action.use_fake_user = True
    track = ad.nla_tracks.new()
    track.name = f"Previous: {action.name}"
    track.strips.new(action.name, int(action.frame_range[0]), action)
    track.mute = True
    ad.action = None


def sequencer_scene(context):
    """The scene the Video Sequencer shows (5.0's workspace.sequencer_scene), else the context scene."""
    workspace = getattr(context, "workspace", None)
    return getattr(workspace, "sequencer_scene", None) or context.scene


def place_sound(scene, filepath: str, frame_start: int, name: str = "TalkingHead Voice"):
    """Put the voice as a sound strip at `frame_start`, replacing our previous voice strip only."""
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences
    for strip in list(strips):
        if strip.get(OWNER_TAG) == VOICE_STRIP:
            strips.remove(strip)
    channel = _free_channel(strips, frame_start)
    strip = strips.new_sound(name, filepath, channel, frame_start)
    strip[OWNER_TAG] = VOICE_STRIP
    return strip


def _free_channel(strips, frame_start: int) -> int:
    used = {s.channel for s in strips if s.frame_final_end > frame_start}
    return next(c for c in range(1, 129) if c not in used)


def extend_frame_range(scene, first: int, last: int) -> None:
    """Grow the scene's frame range to cover [first, last]; never shorten it."""
    scene.frame_start = min(scene.frame_start, first)
    scene.frame_end = max(scene.frame_end, last)


def scene_fps(scene) -> float:
    """The scene's exact frame rate (fps / fps_base: 29.97 is 30 / 1.001)."""
    return scene.render.fps / scene.render.fps_base
