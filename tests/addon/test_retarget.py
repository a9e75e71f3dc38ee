"""Retargeting in Blender: an ARKit-named character, weighted and stored mappings, foreign bones, the Mapping UI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

ARKIT_KEYS = ("EyeBlink_L", "JawOpen", "MouthSmile_L", "Blink")


@pytest.fixture
def ui(blender):
    """The Blender context with the add-on (and so its Mapping panel and operators) registered."""
    return blender


def make_clip(T=10, start_frame=5):
    from engine.motion import MotionClip

    t = np.linspace(0, 1, T, dtype=np.float32)
    channels = {"eyeBlinkLeft": t, "eyeBlinkRight": 1 - t, "mouthSmileLeft": 0.5 * t ** 2, "jaw_rx": 0.3 * t,
                "jaw_ry": 0.1 * np.sin(5 * t), "neck_rx": 0.2 * np.sin(3 * t), "neck_ry": -0.3 * t,
                "neck_rz": 0.1 * t, "notAKey": t}
    return MotionClip(names=list(channels), values=np.stack(list(channels.values()), axis=1), fps=24.0,
                      start_frame=start_frame)


def arkit_character(context, name="ArkitFace", keys=ARKIT_KEYS):
    """A quad with ARKit-named shape keys, each moving one vertex, and no armature."""
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new(name, mesh)
    context.collection.objects.link(obj)
    obj.shape_key_add(name="Basis", from_mix=False)
    for i, key in enumerate(keys):
        block = obj.shape_key_add(name=key, from_mix=False)
        block.data[i % 4].co.z += 0.1
        block.value = 0.0
    return obj


def key_values(id_block, path, index=0):
    """(frames [n], values [n]) keyed on `path[index]` in the ID's active Action."""
    from addon.blender.action_compat import fcurves_of

    fcurve = next(fc for fc in fcurves_of(id_block.animation_data.action)
                  if fc.data_path == path and fc.array_index == index)
    keys = np.array([tuple(k.co) for k in fcurve.keyframe_points])
    return keys[:, 0], keys[:, 1]


def test_arkit_character_gets_keys_by_alias(blender):
    from addon.blender import keying

    obj = arkit_character(blender)
    clip = make_clip()
    result = keying.key_clip(clip, obj)
    key = obj.data.shape_keys
    expected = {"EyeBlink_L": clip.channel("eyeBlinkLeft"), "MouthSmile_L": clip.channel("mouthSmileLeft"),
                "JawOpen": clip.channel("jaw_rx") / 0.5,
                "Blink": 0.5 * (clip.channel("eyeBlinkLeft") + clip.channel("eyeBlinkRight"))}
    for name, values in expected.items():
        frames, keyed = key_values(key, f'key_blocks["{name}"].value')
        np.testing.assert_array_equal(frames, np.arange(5, 15))
        np.testing.assert_allclose(keyed, values, atol=1e-6)
    blender.scene.frame_set(9)
    assert key.key_blocks["JawOpen"].value == pytest.approx(expected["JawOpen"][4], abs=1e-6)
    assert result.keyed["jaw_rx"] == 'key_blocks["JawOpen"].value'
    assert result.targets["eyeBlinkLeft"] == ['key_blocks["EyeBlink_L"].value', 'key_blocks["Blink"].value']
    assert result.unmapped == ["jaw_ry", "neck_rx", "neck_ry", "neck_rz", "notAKey"]


def test_weighted_and_stored_mappings(blender):
    from addon.blender import keying, mapping_store
    from engine.retarget import Mapping, MappingError

    obj = arkit_character(blender)
    clip = make_clip()
    mapping = Mapping(targets={"eyeBlinkLeft": [("EyeBlink_L", 0.5), ("MouthSmile_L", 1.0)],
                               "mouthSmileLeft": [("MouthSmile_L", 2.0)]})
    result = keying.key_clip(clip, obj, mapping=mapping)
    _, smile = key_values(obj.data.shape_keys, 'key_blocks["MouthSmile_L"].value')
    np.testing.assert_allclose(smile, clip.channel("eyeBlinkLeft") + 2 * clip.channel("mouthSmileLeft"), atol=1e-6)
    assert "jaw_rx" in result.unmapped and "eyeBlinkRight" in result.unmapped

    mapping_store.store_mapping(obj, Mapping(targets={"eyeBlinkRight": [("JawOpen", 0.25)]}))
    result = keying.key_clip(clip, obj)  # the stored mapping is used
    _, jaw = key_values(obj.data.shape_keys, 'key_blocks["JawOpen"].value')
    np.testing.assert_allclose(jaw, 0.25 * clip.channel("eyeBlinkRight"), atol=1e-6)
    assert list(result.keyed) == ["eyeBlinkRight"]

    mapping_store.store_mapping(obj, Mapping(targets={"eyeBlinkRight": [("EyeBlinkRight", 1.0)]}))
    with pytest.raises(MappingError, match="'EyeBlinkRight', which the target does not have"):
        keying.key_clip(clip, obj)


def foreign_rig(context):
    """An armature turned and scaled in the world (as FBX imports are), with a tilted, rolled jaw under an
    Euler-mode neck; a mesh with one shape key parented to it."""
    data = bpy.data.armatures.new("ForeignRig")
    rig = bpy.data.objects.new("ForeignRig", data)
    context.collection.objects.link(rig)
    rig.rotation_euler = (math.pi / 2, 0.0, 0.4)
    rig.scale = (0.01, 0.01, 0.01)
    context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode='EDIT')
    root = data.edit_bones.new("Root")
    root.head, root.tail = (0, 0, 0), (0, 10, 0)
    neck = data.edit_bones.new("neck_01")
    neck.head, neck.tail, neck.roll, neck.parent = (0, 10, 0), (0, 20, 2), 0.3, root
    jaw = data.edit_bones.new("Jaw_Bone")
    jaw.head, jaw.tail, jaw.roll, jaw.parent = (0, 18, 3), (1, 14, 9), 0.7, neck
    bpy.ops.object.mode_set(mode='OBJECT')
    rig.pose.bones["neck_01"].rotation_mode = 'YXZ'
    mesh = arkit_character(context, "ForeignFace", keys=("EyeBlink_L",))
    mesh.parent = rig
    return mesh, rig


def world_delta(rig, bone):
    """The bone's posed world rotation times its rest world rotation's inverse [3, 3]."""
    world = np.array(rig.matrix_world.to_quaternion().to_matrix())
    posed = np.array(rig.pose.bones[bone].matrix.to_quaternion().to_matrix())
    rest = np.array(rig.data.bones[bone].matrix_local.to_quaternion().to_matrix())
    return world @ posed @ rest.T @ world.T


def test_foreign_bones_turn_as_flame_says(blender):
    from addon.blender import keying
    from addon.blender.axes import FLAME_TO_BLENDER as C
    from engine.head.lbs import batch_rodrigues

    mesh, rig = foreign_rig(blender)
    clip = make_clip()
    result = keying.key_clip(clip, mesh, bones={"jaw": "Jaw_Bone", "neck": "neck_01"})
    assert result.keyed["jaw_rx"] == 'pose.bones["Jaw_Bone"].rotation_quaternion'
    assert result.keyed["neck_ry"] == 'pose.bones["neck_01"].rotation_euler'
    assert rig.pose.bones["neck_01"].rotation_mode == 'YXZ'  # the artist's rotation mode is kept
    assert "jaw_ry" in result.keyed  # on the bone, so no JawLeft/JawRight shapes are needed
    neck = batch_rodrigues(np.stack([clip.channel(f"neck_r{a}") for a in "xyz"], axis=1))
    jaw = batch_rodrigues(np.stack([clip.channel("jaw_rx"), clip.channel("jaw_ry"), 0 * clip.channel("jaw_rx")], 1))
    for t in (0, 4, 9):
        blender.scene.frame_set(clip.start_frame + t)
        np.testing.assert_allclose(world_delta(rig, "neck_01"), C @ neck[t] @ C.T, atol=1e-5)
        np.testing.assert_allclose(world_delta(rig, "Jaw_Bone"), C @ neck[t] @ jaw[t] @ C.T, atol=1e-5)


def test_bones_named_like_joints_and_missing_bones(blender):
    from addon.blender import keying
    from engine.retarget import MappingError

    mesh, rig = foreign_rig(blender)
    rig.data.bones["Jaw_Bone"].name = "Jaw"
    result = keying.key_clip(make_clip(), mesh)
    assert result.keyed["jaw_rx"] == 'pose.bones["Jaw"].rotation_quaternion'
    assert "neck_rx" in result.unmapped  # "neck_01" is not named like the joint: only chosen bones take it
    with pytest.raises(MappingError, match="puts the neck joint on bone 'Neck_Bone'"):
        keying.key_clip(make_clip(), mesh, bones={"neck": "Neck_Bone"})


def test_artist_actions_survive_on_a_foreign_rig(blender):
    from addon.blender import keying

    mesh, rig = foreign_rig(blender)
    rig.pose.bones["Jaw_Bone"].keyframe_insert("rotation_quaternion", frame=1)
    rig_take = rig.animation_data.action
    rig_take.name = "ArtistRigTake"
    key = mesh.data.shape_keys
    key.key_blocks["EyeBlink_L"].keyframe_insert("value", frame=1)
    face_take = key.animation_data.action
    face_take.name = "ArtistFaceTake"
    for _ in range(2):
        keying.key_clip(make_clip(), mesh, bones={"jaw": "Jaw_Bone"})
    for id_block, take in ((rig, rig_take), (key, face_take)):
        assert take.name in bpy.data.actions and id_block.animation_data.action != take
        tracks = [t for t in id_block.animation_data.nla_tracks if t.strips and t.strips[0].action == take]
        assert len(tracks) == 1 and tracks[0].mute


# ---- the Mapping UI ---------------------------------------------------------------------------

class Recorder:
    """A stand-in for UILayout that records every label text (and swallows everything else)."""

    def __init__(self, texts):
        self.texts = texts

    def label(self, text="", **_):
        self.texts.append(text)

    def __getattr__(self, _name):
        return lambda *args, **kwargs: Recorder(self.texts)


def drawn_labels(context):
    from addon.ui.mapping_panel import TALKINGHEAD_PT_mapping

    texts = []
    panel = type("FakePanel", (), {"layout": Recorder(texts)})()
    TALKINGHEAD_PT_mapping.draw(panel, context)
    return texts


def test_map_by_name_choose_bone_and_panel(ui):
    from addon.blender import mapping_store

    mesh, _ = foreign_rig(ui)
    ui.scene.talking_head.target = mesh
    labels = drawn_labels(ui)
    assert "By name (default, not stored)" in labels and "EyeBlink_L" in labels
    assert bpy.ops.talking_head.mapping_by_name() == {'FINISHED'}
    assert mapping_store.stored_mapping(mesh).targets["eyeBlinkLeft"] == [("EyeBlink_L", 1.0)]
    assert bpy.ops.talking_head.mapping_choose_bone(joint="jaw", bone="Jaw_Bone") == {'FINISHED'}
    assert bpy.ops.talking_head.mapping_by_name() == {'FINISHED'}  # rebuilding keeps the chosen bones
    stored = json.loads(mesh[mapping_store.MAPPING_PROP])
    assert stored["bones"] == {"jaw": "Jaw_Bone"} and stored["method"] == "name"
    labels = drawn_labels(ui)
    assert "Stored (name)" in labels and "Jaw_Bone" in labels and any("mouthSmileLeft" in t for t in labels)
    assert bpy.ops.talking_head.mapping_clear() == {'FINISHED'}
    assert mapping_store.MAPPING_PROP not in mesh


def test_edit_as_text_round_trip_and_errors(ui):
    from addon.ops import mapping_ops
    from addon.blender import mapping_store

    obj = arkit_character(ui)
    ui.scene.talking_head.target = obj
    assert not bpy.ops.talking_head.mapping_apply_text.poll()
    bpy.ops.talking_head.mapping_edit_text()
    text = bpy.data.texts[mapping_ops.TEXT_PREFIX + obj.name]
    edited = json.loads(text.as_string())
    edited["targets"]["eyeBlinkLeft"] = [["EyeBlink_L", 0.7]]
    text.from_string(json.dumps(edited))
    assert bpy.ops.talking_head.mapping_apply_text() == {'FINISHED'}
    assert mapping_store.stored_mapping(obj).targets["eyeBlinkLeft"] == [("EyeBlink_L", 0.7)]
    assert mapping_store.stored_mapping(obj).method == "edited"
    text.from_string('{"targets": {"eyeBlinkLeft": [["EyeBlink_X", 1.0]]}}')
    with pytest.raises(RuntimeError, match="'EyeBlink_X', which the target does not have"):
        bpy.ops.talking_head.mapping_apply_text()
    obj[mapping_store.MAPPING_PROP] = '{"targets": {"eyeBlinkLeft": [["EyeBlink_L", -1]]}}'
    assert any("weights must be finite and zero or more" in t for t in drawn_labels(ui))


def test_find_landmarks_then_fit(ui):
    from addon.blender import fitting, head_object, mapping_store
    from addon.blender.axes import to_blender
    from engine import load_head

    head = load_head()
    assert not bpy.ops.talking_head.mapping_fit.poll()  # no target yet
    # A rig made of the built-in head's surface: three keys with meaningless names, known scales.
    jaw_open, _ = head.forward(pose=np.array([[0, 0, 0], [0, 0, 0], [0.5, 0, 0], [0, 0, 0], [0, 0, 0]], np.float32))
    shapes = {"K1": head.v_template + 2.0 * head.exprdirs[:, :, head.expression_index("mouthSmileLeft")],
              "K2": jaw_open[0],
              "K3": head.v_template + 0.5 * head.exprdirs[:, :, head.expression_index("browInnerUp")]}
    mesh = bpy.data.meshes.new("Alien")
    mesh.from_pydata(to_blender(head.v_template).tolist(), [], head.faces.tolist())
    obj = bpy.data.objects.new("Alien", mesh)
    ui.collection.objects.link(obj)
    obj.shape_key_add(name="Basis", from_mix=False)
    for name, verts in shapes.items():
        obj.shape_key_add(name=name, from_mix=False).data.foreach_set("co", to_blender(verts).ravel())
    obj.location, obj.rotation_euler, obj.scale = (3, 1, 0), (0, 0, 0.5), (40, 40, 40)
    ui.scene.talking_head.target = obj
    assert not bpy.ops.talking_head.mapping_fit.poll()  # no landmarks stored yet
    assert not bpy.ops.talking_head.find_landmarks.poll()  # no built-in head laid over it
    overlay, _ = head_object.add_head(ui, head)
    ui.view_layer.update()
    overlay.parent.matrix_world = obj.matrix_world.copy()
    ui.view_layer.update()
    assert bpy.ops.talking_head.find_landmarks() == {'FINISHED'}
    assert len(fitting.landmark_indices(obj)) == 68
    assert bpy.ops.talking_head.mapping_fit() == {'FINISHED'}
    mapping = mapping_store.stored_mapping(obj)
    assert mapping.method == "fit"
    assert dict(mapping.targets["mouthSmileLeft"])["K1"] == pytest.approx(0.5, rel=0.05)
    assert dict(mapping.targets["jawOpen"])["K2"] == pytest.approx(1.0, rel=0.05)
    assert dict(mapping.targets["browInnerUp"])["K3"] == pytest.approx(2.0, rel=0.05)
    assert "eyeBlinkLeft" in mapping.unmapped
