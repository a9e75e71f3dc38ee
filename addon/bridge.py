"""The one seam where engine results (numpy) become Blender data: keys, sound and image strips, images.

Everything here runs on Blender's main thread.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np
from mathutils import Quaternion

from . import existing_action, key_names
from .action_compat import OWNER_TAG, ActionWriter, write_keys
from .axes import FLAME_TO_BLENDER, to_flame
from .engine_link import engine

retarget = importlib.import_module(engine.__name__ + ".retarget")  # bundled or checkout engine alike

JOINTS = engine.head.model.JOINT_NAMES
VOICE_STRIP = "voice"
FRAMES_STRIP = "frames"  # the OWNER_TAG value of our image strip of rendered frames
PREVIEW_IMAGE = "Talking Head Preview"
MAX_CHANNEL = 128
MAPPING_PROP = "talking_head_mapping"  # custom property of a target mesh: its Mapping as JSON
SKIP_MESHES_PROP = "talking_head_skip_meshes"  # custom property of a target mesh: names of its character's
                                               # meshes the user unticked (Animate leaves them unkeyed)
EULER_ORDERS = ('XYZ', 'XZY', 'YXZ', 'YZX', 'ZXY', 'ZYX')
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


def skipped_meshes(mesh_obj) -> set:
    """Names of the character's meshes the user unticked on `mesh_obj` (custom property `SKIP_MESHES_PROP`)."""
    value = mesh_obj.get(SKIP_MESHES_PROP) if mesh_obj is not None else None
    return {str(n) for n in value} if isinstance(value, (list, tuple)) or hasattr(value, "to_list") else set()


def set_skipped(mesh_obj, other, skipped: bool) -> None:
    """Untick (`skipped`) or tick the character's mesh `other` on the target `mesh_obj`."""
    names = skipped_meshes(mesh_obj) - {other.name}
    names |= {other.name} if skipped else set()
    if names:
        mesh_obj[SKIP_MESHES_PROP] = sorted(names)
    elif SKIP_MESHES_PROP in mesh_obj:
        del mesh_obj[SKIP_MESHES_PROP]


def companion_meshes(mesh_obj, mapping) -> list:
    """The meshes Animate keys beside `mesh_obj`: `mapped_meshes` less the ones the user unticked."""
    skipped = skipped_meshes(mesh_obj)
    return [o for o in mapped_meshes(mesh_obj, mapping) if o.name not in skipped]


def stored_mapping(obj):
    """The Mapping the user keeps on `obj` (JSON in the `MAPPING_PROP` custom property), or None."""
    text = obj.get(MAPPING_PROP) if obj is not None else None
    return retarget.Mapping.from_json(text) if text else None


def store_mapping(obj, mapping) -> None:
    """Keep `mapping` on `obj` as editable JSON (custom property `MAPPING_PROP`)."""
    obj[MAPPING_PROP] = mapping.to_json()


def shape_key_targets(mesh_obj) -> list:
    """Names of the mesh's shape keys a mapping may drive: all but the basis and pose correctives."""
    key = mesh_obj.data.shape_keys if mesh_obj is not None and mesh_obj.type == 'MESH' else None
    if key is None:
        return []
    names = [b.name for b in key.key_blocks[1:]]
    correctives = key_names.corrective_keys(names)
    return [n for n in names if n not in correctives]


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


def bone_to_flame(armature, bone: str, flame_rig: bool = False) -> np.ndarray:
    """G [3, 3], the rotation from the bone's rest frame to FLAME's axes: a FLAME rotation R is R_bone = G^T R G.

    On our own head the bones' axes are FLAME's (G = I, wherever the rig is
    placed). A FLAME head (`flame_rig`: the FLAME add-on's) stands Z up and
    facing -Y in its armature's own space, however the rig is turned:
    G = C^T B, with B the bone's rest rotation in armature space and C
    FLAME_TO_BLENDER. Any other rig is taken to stand so in the world, as
    Blender characters do: G = C^T W B, W the armature object's world rotation.
    """
    if armature.get(OWNER_TAG + "_head"):
        return np.eye(3)
    rest = np.array(armature.data.bones[bone].matrix_local.to_quaternion().to_matrix())
    world = np.eye(3) if flame_rig else np.array(armature.matrix_world.to_quaternion().to_matrix())
    return FLAME_TO_BLENDER.T @ world @ rest


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


def euler_angles(axis_angle: np.ndarray, order: str) -> np.ndarray:
    """Axis-angle [T, 3] -> Blender Euler angles [T, 3] (x, y, z) in `order`, continuous over time."""
    out = np.empty((len(axis_angle), 3))
    previous = None
    for t, aa in enumerate(np.asarray(axis_angle, dtype=np.float64)):
        angle = float(np.linalg.norm(aa))
        quat = Quaternion(aa / angle if angle > 1e-12 else (1.0, 0.0, 0.0), angle)
        euler = quat.to_euler(order, previous) if previous is not None else quat.to_euler(order)
        out[t], previous = tuple(euler), euler
    return out


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
    existing_action.set_aside(id_block, result.existing)
    writer = ActionWriter(id_block, name, id_type)
    result.actions.append(writer.action)
    return writer


def sequencer_scene(context):
    """The scene the Video Sequencer shows (5.0's `context.sequencer_scene`, the workspace's), else the
    context scene."""
    shown = getattr(context, "sequencer_scene", None)
    workspace = getattr(context, "workspace", None)
    return shown or getattr(workspace, "sequencer_scene", None) or getattr(context, "scene", None)


def _strips(editor):
    """The editor's top-level strips: `strips` since 4.4, `sequences` before."""
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def all_strips(scene) -> list:
    """Every strip of `scene`'s sequencer, those inside meta strips too (none without a sequencer)."""
    editor = scene.sequence_editor if scene is not None else None
    if editor is None:
        return []
    return list(editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all)


def remove_ours(scene, tag: str) -> None:
    """Remove our strip(s) tagged `tag` (VOICE_STRIP, FRAMES_STRIP) from `scene`'s sequencer; the user's stay."""
    editor = scene.sequence_editor
    if editor is None:
        return
    strips = _strips(editor)
    for strip in list(strips):
        if strip.get(OWNER_TAG) == tag:
            strips.remove(strip)


def remove_voice(scene) -> None:
    """Remove our previous voice strip(s) from `scene`'s sequencer; the user's strips stay."""
    remove_ours(scene, VOICE_STRIP)


def place_sound(scene, filepath: str, frame_start: int, name: str = "TalkingHead Voice"):
    """Put the voice as a sound strip at `frame_start`, replacing our previous voice strip only."""
    remove_voice(scene)
    strips = _strips(scene.sequence_editor or scene.sequence_editor_create())
    channel = _free_channel(strips, frame_start)
    strip = strips.new_sound(name, filepath, channel, frame_start)
    strip[OWNER_TAG] = VOICE_STRIP
    return strip


def voice_channel(scene, user_strip: str = "") -> int:
    """The channel of our voice strip in `scene`'s sequencer, else of the user's strip named `user_strip`,
    else 0."""
    strips = all_strips(scene)
    ours = next((s for s in strips if s.get(OWNER_TAG) == VOICE_STRIP), None)
    theirs = next((s for s in strips if user_strip and s.name == user_strip), None)
    voice = ours or theirs
    return voice.channel if voice is not None else 0


def remove_frames(scene) -> None:
    """Remove our previous image strip(s) of rendered frames; the user's strips stay."""
    remove_ours(scene, FRAMES_STRIP)


def place_frames(scene, paths: list, frame_start: int, below: int = 0, name: str = "TalkingHead Frames"):
    """Put rendered frames (files of one folder, in frame order) as an image strip from `frame_start`, in
    the first channel above channel `below` free over its frames, replacing our previous frames strip only."""
    remove_frames(scene)
    strips = _strips(scene.sequence_editor or scene.sequence_editor_create())
    end = frame_start + len(paths)
    busy = {s.channel for s in strips if s.frame_final_start < end and s.frame_final_end > frame_start}
    channel = next((c for c in range(below + 1, MAX_CHANNEL + 1) if c not in busy), None)
    if channel is None:
        raise engine.InputError(f"Every sequencer channel above {below} is taken over frames {frame_start}-"
                                f"{end - 1}; free one for the rendered frames.")
    strip = strips.new_image(name, str(paths[0]), channel, frame_start, fit_method='FIT')
    for path in paths[1:]:
        strip.elements.append(Path(path).name)
    if bpy.data.filepath:  # relative to the saved .blend, so the file and its frames folder move together
        strip.directory = bpy.path.relpath(strip.directory)
    strip.blend_type = 'ALPHA_OVER'
    strip[OWNER_TAG] = FRAMES_STRIP
    return strip


def preview_image(rgba: np.ndarray, name: str = PREVIEW_IMAGE, pack: bool = True):
    """Write a straight-alpha RGBA uint8 frame [H, W, 4] (row 0 at the top) into the image `name`, made,
    or resized, to fit it, and packed (saved with the .blend, never an unsaved image); returns the image.
    `pack` False: not packed yet (packing takes ~10-20 ms a frame: the live preview packs before a save)."""
    height, width = rgba.shape[:2]
    image = bpy.data.images.get(name)
    if image is None:
        image = bpy.data.images.new(name, width, height, alpha=True)
    elif tuple(image.size) != (width, height):
        image.scale(width, height)
    image.alpha_mode = 'STRAIGHT'
    image.pixels.foreach_set((np.ascontiguousarray(rgba[::-1], np.float32) / 255.0).ravel())  # rows bottom-up
    image.update()
    if pack:
        image.pack()
    return image


def show_image(context, image) -> int:
    """Show `image` in every Image Editor that is not pinned to another; returns how many show it."""
    shown = 0
    wm = getattr(context, "window_manager", None)
    for window in (wm.windows if wm is not None else ()):
        for area in window.screen.areas:
            space = area.spaces.active if area.type == 'IMAGE_EDITOR' else None
            if space is not None and not space.use_image_pin:
                space.image = image
                area.tag_redraw()
                shown += 1
    return shown


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
