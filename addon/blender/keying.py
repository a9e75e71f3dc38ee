"""Key a MotionClip onto a rig: shape keys through a Mapping (and the character's other meshes), joint
rotations on bones, pose correctives, each target in a new Action of ours. Main thread only."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import existing_action, key_names
from .action_compat import ActionWriter, write_keys
from ..engine_link import retarget
from .bone_rotations import EULER_ORDERS, bone_to_flame, euler_angles, joint_rotations, quaternions
from .mapping_store import stored_mapping
from .target_rig import bones_for_joints, companion_meshes, find_armature, shape_key_targets

SLIDER_LIMIT = 10.0  # Blender's widest shape-key slider range is [-10, 10]


@dataclass
class KeyResult:
    """What `key_clip` did: channels keyed per target, channels nothing received, Actions made, and
    how an artist's Action was kept."""

    keyed: dict = field(default_factory=dict)      # clip channel -> data path (its first target)
    targets: dict = field(default_factory=dict)    # clip channel -> every data path it drives
    unmapped: list = field(default_factory=list)   # clip channels with no target
    actions: list = field(default_factory=list)
    frames: tuple = (0, 0)
    existing: str = existing_action.PUSH_TO_NLA  # what happens to an artist's Action (`existing_action`)
    meshes: list = field(default_factory=list)     # names of the meshes whose shape keys were keyed, target first

def key_clip(clip, mesh_obj, armature=None, mapping=None, bones=None, aliases=None,
             existing: str = existing_action.PUSH_TO_NLA, companions=None) -> KeyResult:
    """Key a MotionClip (already at the scene's fps) onto a mesh's shape keys and its armature.

    `mapping` (an `engine.retarget.Mapping`) says which shape keys each
    channel drives and with what weight: key k gets sum_c weight_ck * channel_c.
    None: the mapping stored on the mesh (`MAPPING_PROP`), else names matched
    by `engine.retarget.map_by_name` (case, separators, sides and the alias
    table ignored: an ARKit rig's `EyeBlink_L` takes `eyeBlinkLeft`; `aliases`, a
    table for `map_by_name`, replaces the engine's, e.g. one extended by the user's).
    Joint rotations (`jaw_rx`, ...) key the bone of that joint: `bones`
    ({"jaw": "Jaw_Bone", ...}), else the mapping's bones, else a bone named
    like the joint; the jaw and eyes also drive ARKit shape keys (JawOpen,
    EyeLook*) when they have no bone. Pose-corrective keys (ours and the FLAME
    add-on's, see `key_names`) follow the joints. A key's slider range grows
    to hold its values (Blender clamps animated values to it).
    A rig with Oculus visemes but no ARKit mouth shapes (`retarget.wants_visemes`)
    gets viseme channels (`viseme_PP`, ...) solved from the mouth, matched by name.
    The character's other meshes that carry shape keys the mapping drives
    (teeth, tongue, eyes: `companion_meshes`, less those the user unticked)
    are keyed with the same mapping on the keys they have; `companions`, a
    list of mesh objects, replaces that choice ([]: the target alone).
    Each target gets a new Action of ours (an earlier run's is replaced); an
    artist's Action is never overwritten: `existing` says where it goes
    (`existing_action.PUSH_TO_NLA`: a muted NLA track; `REPLACE`: unassigned,
    kept with a fake user). A mapping naming shape keys or bones the rig
    lacks raises `engine.retarget.MappingError`.
    """
    existing_action.check_mode(existing)  # before any data is touched
    result = KeyResult(existing=existing)
    frames = clip.start_frame + np.arange(clip.num_frames, dtype=np.float64)
    result.frames = (int(frames[0]), int(frames[-1]))
    rotations = joint_rotations(clip)
    if mapping is None:
        mapping = stored_mapping(mesh_obj)
    armature = armature or find_armature(mesh_obj)
    joint_bones = bones_for_joints(armature, mapping, bones) if armature is not None else {}
    if joint_bones:
        flame_rig = key_names.looks_like_flame(shape_key_targets(mesh_obj))
        _key_bones(armature, joint_bones, clip, frames, rotations, result, flame_rig)
    key = mesh_obj.data.shape_keys if mesh_obj is not None and mesh_obj.type == 'MESH' else None
    if key is not None:
        channels = shape_channel_set(clip, set(joint_bones), shape_key_targets(mesh_obj), mapping)
        mapping = _key_shapes(key, channels, frames, rotations, mapping, result, aliases, owner=mesh_obj.name)
        others = companion_meshes(mesh_obj, mapping) if companions is None else companions
        _key_companions(key, others, channels, frames, rotations, mapping, result)
    result.unmapped = [n for n in clip.names if n not in result.keyed]
    return result

def _key_companions(key, others, channels, frames, rotations, mapping, result: KeyResult) -> None:
    """Key the target's channels on each of the character's other meshes, through `mapping` restricted to
    the keys each has; a shape-key datablock shared with the target or another mesh is keyed once."""
    done = {key.name_full}
    for other in others:
        other_key = other.data.shape_keys
        if other_key is not None and other_key.name_full not in done:
            done.add(other_key.name_full)
            _key_shapes(other_key, channels, frames, rotations, mapping.restricted_to(shape_key_targets(other)),
                        result, owner=other.name, companion=True)

def shape_channel_set(clip, joints_on_bones=(), shape_keys=(), mapping=None) -> tuple:
    """(names [C], values [T, C], sources) the rig's shape keys can take (`retarget.shape_channels`), with the
    viseme channels when the rig speaks through visemes (`shape_keys` [K], its key names) or `mapping`
    drives a viseme channel."""
    names, values, sources = retarget.shape_channels(clip, skip_joints=joints_on_bones)
    mapped = mapping.targets if mapping is not None else {}
    if retarget.wants_visemes(shape_keys) or any(retarget.is_viseme_channel(c) for c in mapped):
        names, values = retarget.add_viseme_channels(names, values)
    return names, values, sources

def _key_shapes(key, channels, frames, rotations, mapping, result: KeyResult, aliases=None, owner="",
                companion=False):
    """Key the shape channels (`shape_channel_set`) on `key` (of the mesh object named `owner`) through
    `mapping` (None: by name), and its pose correctives; returns the mapping used. A companion's keys
    are not counted among the channels keyed."""
    correctives = key_names.corrective_keys(b.name for b in key.key_blocks[1:])
    block_names = [b.name for b in key.key_blocks[1:] if b.name not in correctives]
    names, values, sources = channels
    mapping = mapping if mapping is not None else retarget.map_by_name(names, block_names, aliases=aliases)
    mapping.validate(target_names=block_names)
    targets, W = mapping.weights(names)
    action_name = f"TalkingHead_{key.user.name}_Shapes"
    writer = None
    for k, target in enumerate(targets):
        writer = writer or _new_writer(key, action_name, 'KEY', result)
        path = f'key_blocks["{target}"].value'
        write_keys(writer.fcurve(path, 0, group="Expressions"), frames, _within_slider(key, target, values @ W[:, k]))
        for c in np.nonzero(W[:, k])[0] if not companion else ():
            inputs = viseme_inputs(names, sources) if retarget.is_viseme_channel(names[c]) else ()
            for channel in inputs or (sources.get(names[c], names[c]),):
                result.keyed.setdefault(channel, path)
                result.targets.setdefault(channel, []).append(path)
    for name, (joint, r, c) in correctives.items():
        if joint in rotations:
            writer = writer or _new_writer(key, action_name, 'KEY', result)
            entry = rotations[joint][1][:, r, c] - (1.0 if r == c else 0.0)  # (R - I)[r, c]
            write_keys(writer.fcurve(f'key_blocks["{name}"].value', 0, group="Correctives"),
                       frames, _within_slider(key, name, entry))
    if writer is not None:
        writer.assign()
        result.meshes.append(owner)
    return mapping

def viseme_inputs(names, sources) -> list:
    """The clip channels a viseme channel is solved from: the mouth channels among shape channels `names`
    (the jaw's rotation for `jawOpen`, by `sources`)."""
    mouth = {n.lower() for n in retarget.rig_visemes.mouth_channels()}
    return [sources.get(n, n) for n in names if n.lower() in mouth]

def _within_slider(key, name: str, values: np.ndarray) -> np.ndarray:
    """`values` [T], after widening the key's slider range to hold them (up to Blender's +-10)."""
    block = key.key_blocks[name]
    low, high = float(np.min(values, initial=0.0)), float(np.max(values, initial=0.0))
    if low < block.slider_min:
        block.slider_min = max(low, -SLIDER_LIMIT)
    if high > block.slider_max:
        block.slider_max = min(high, SLIDER_LIMIT)
    return values

def _key_bones(armature, joint_bones: dict, clip, frames, rotations, result: KeyResult, flame_rig=False) -> None:
    """Each driven joint's rotation on its bone, in the bone's own rest frame (see `bone_to_flame`)."""
    writer = None
    for joint, (aa, _) in rotations.items():
        bone = joint_bones.get(joint)
        if bone is None:
            continue
        writer = writer or _new_writer(armature, f"TalkingHead_{armature.name}_Pose", 'OBJECT', result)
        pose_bone = armature.pose.bones[bone]
        path = _write_rotation(writer, pose_bone, aa @ bone_to_flame(armature, bone, flame_rig), frames)
        for axis in "xyz":
            if f"{joint}_r{axis}" in clip.names:
                result.keyed[f"{joint}_r{axis}"] = path
                result.targets[f"{joint}_r{axis}"] = [path]
    if writer is not None:
        writer.assign()

def _write_rotation(writer, pose_bone, axis_angle: np.ndarray, frames) -> str:
    """Key axis-angle rotations [T, 3] (bone frame) in the bone's rotation mode (Euler kept, else quaternion)."""
    group = pose_bone.name
    if pose_bone.rotation_mode in EULER_ORDERS:
        path = f'pose.bones["{pose_bone.name}"].rotation_euler'
        eulers = euler_angles(axis_angle, pose_bone.rotation_mode)
        for i in range(3):
            write_keys(writer.fcurve(path, i, group=group), frames, eulers[:, i])
        return path
    pose_bone.rotation_mode = 'QUATERNION'
    path = f'pose.bones["{pose_bone.name}"].rotation_quaternion'
    quats = quaternions(axis_angle)
    for i in range(4):
        write_keys(writer.fcurve(path, i, group=group), frames, quats[:, i])
    return path

def _new_writer(id_block, name: str, id_type: str, result: KeyResult) -> ActionWriter:
    """A fresh Action of ours for `id_block`, after setting any previous Action aside safely."""
    existing_action.set_aside(id_block, result.existing)
    writer = ActionWriter(id_block, name, id_type)
    result.actions.append(writer.action)
    return writer
