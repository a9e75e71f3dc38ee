"""Keys from a MotionClip land on the right data paths and frames, and Blender's mesh matches the engine's."""

from __future__ import annotations

import numpy as np
import pytest

from addon_fixtures import tiny_head

bpy = pytest.importorskip("bpy")


def make_clip(T=12, start_frame=5):
    from engine.motion import MotionClip

    t = np.linspace(0, 1, T, dtype=np.float32)
    names = ["mouthClose", "BROWDOWNLEFT", "jaw_rx", "jaw_ry", "eye_left_ry", "neck_rz", "notAKey"]
    values = np.stack([t, 1 - t, 0.3 * t, 0.05 * t, -0.2 * t, 0.1 * np.sin(6 * t), t], axis=1)
    return MotionClip(names=names, values=values, fps=24.0, start_frame=start_frame, metadata={})


def test_keys_paths_frames_and_unmapped(blender):
    from addon.blender import head_object, keying

    head = tiny_head()
    mesh_obj, rig = head_object.add_head(blender, head)
    clip = make_clip()
    result = keying.key_clip(clip, mesh_obj)
    assert result.keyed["mouthClose"] == 'key_blocks["mouthClose"].value'
    assert result.keyed["BROWDOWNLEFT"] == 'key_blocks["browDownLeft"].value'
    assert result.keyed["jaw_rx"] == 'pose.bones["jaw"].rotation_quaternion'
    assert result.unmapped == ["notAKey"]
    assert result.frames == (5, 16)
    from addon.blender.action_compat import fcurves_of

    fcurve = next(fc for fc in fcurves_of(mesh_obj.data.shape_keys.animation_data.action)
                  if fc.data_path == 'key_blocks["mouthClose"].value')
    keys = np.array([tuple(k.co) for k in fcurve.keyframe_points])
    np.testing.assert_allclose(keys[:, 0], np.arange(5, 17))
    np.testing.assert_allclose(keys[:, 1], clip.channel("mouthClose"), atol=1e-6)


def test_bone_frames_are_flame_axes(blender):
    from addon.blender import axes, head_object

    _, rig = head_object.add_head(blender, tiny_head())
    for bone in rig.data.bones:
        np.testing.assert_allclose(np.array(bone.matrix_local)[:3, :3], axes.FLAME_TO_BLENDER, atol=1e-6)


def test_blender_mesh_matches_engine_skinning(blender):
    from addon.blender import head_object, keying, target_rig
    from engine.motion.channels import head_params

    head = tiny_head()
    mesh_obj, _ = head_object.add_head(blender, head)
    clip = make_clip()
    keying.key_clip(clip, mesh_obj)
    params = head_params(clip.names, clip.values, head.expression_names)
    expected, _ = head.forward(params["expression"], params["pose"])
    for t in (0, 6, 11):
        blender.scene.frame_set(clip.start_frame + t)
        np.testing.assert_allclose(target_rig.evaluated_vertices(blender, mesh_obj), expected[t], atol=2e-5)


def test_artist_action_survives(blender):
    from addon.blender import head_object, keying

    mesh_obj, _ = head_object.add_head(blender, tiny_head())
    key = mesh_obj.data.shape_keys
    key.key_blocks["mouthClose"].value = 0.5
    key.key_blocks["mouthClose"].keyframe_insert("value", frame=1)
    artist_action = key.animation_data.action
    artist_action.name = "ArtistTake"
    keying.key_clip(make_clip(), mesh_obj)
    keying.key_clip(make_clip(), mesh_obj)  # a second run replaces only our own Action
    assert "ArtistTake" in bpy.data.actions
    assert key.animation_data.action.name != "ArtistTake"
    tracks = [t for t in key.animation_data.nla_tracks if t.strips and t.strips[0].action == artist_action]
    assert len(tracks) == 1 and tracks[0].mute
    ours = [a for a in bpy.data.actions if a.get("talking_head") and a.users > 0]
    assert len([a for a in ours if "Shapes" in a.name]) == 1


def test_quaternions_are_sign_continuous():
    from addon.blender.bone_rotations import quaternions

    angle = np.linspace(0, 2.5 * np.pi, 50)
    aa = np.stack([angle, 0 * angle, 0 * angle], axis=1)
    q = quaternions(aa)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-12)
    assert np.all(np.sum(q[1:] * q[:-1], axis=1) > 0)
