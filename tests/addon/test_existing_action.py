"""An artist's Action already on the head or its rig is never overwritten: pushed to a muted NLA track,
or replaced and kept with a fake user, as the panel's "Existing Action" says."""

from __future__ import annotations

import numpy as np
import pytest

from addon_fixtures import tiny_head, write_voice
from test_keys import make_clip

bpy = pytest.importorskip("bpy")
MODES = ("PUSH_TO_NLA", "REPLACE")
SHAPES, POSE = "TalkingHead_TalkingHead_Shapes", "TalkingHead_TalkingHead_Rig_Pose"  # our Actions on the tiny head


def artist_head(context):
    """The tiny head with the artist's own keys on its shape keys (ArtistShapes) and rig (ArtistPose)."""
    from addon.blender import head_object

    mesh_obj, rig = head_object.add_head(context, tiny_head())
    key = mesh_obj.data.shape_keys
    for frame, value in ((1, 0.2), (9, 0.7)):
        key.key_blocks["mouthClose"].value = value
        key.key_blocks["mouthClose"].keyframe_insert("value", frame=frame)
        rig.pose.bones["neck"].rotation_quaternion = (1.0, value, 0.0, 0.0)
        rig.pose.bones["neck"].keyframe_insert("rotation_quaternion", frame=frame)
    key.animation_data.action.name = "ArtistShapes"
    rig.animation_data.action.name = "ArtistPose"
    return mesh_obj, rig


def curves(action) -> list:
    """Every F-Curve of `action` as (data path, index, keys [(frame, value), ...]), sorted."""
    from addon.blender.action_compat import fcurves_of

    return sorted((fc.data_path, fc.array_index, [tuple(k.co) for k in fc.keyframe_points])
                  for fc in fcurves_of(action))


def nla_actions() -> list:
    """Names of the Actions held by any NLA strip of any object or shape-key block."""
    owners = list(bpy.data.objects) + list(bpy.data.shape_keys)
    return [s.action.name for o in owners if o.animation_data is not None
            for t in o.animation_data.nla_tracks for s in t.strips if s.action is not None]


def ours() -> list:
    from addon.blender.action_compat import OWNER_TAG

    return sorted(a.name for a in bpy.data.actions if a.get(OWNER_TAG))


@pytest.mark.parametrize("mode", MODES)
def test_artists_actions_are_kept_and_ours_assigned_once_per_id(blender, mode):
    from addon.blender import keying

    mesh_obj, rig = artist_head(blender)
    key = mesh_obj.data.shape_keys
    before = {name: curves(bpy.data.actions[name]) for name in ("ArtistShapes", "ArtistPose")}
    for _ in range(2):  # the second run replaces the first run's Actions, in either mode
        result = keying.key_clip(make_clip(), mesh_obj, existing=mode)
    assert key.animation_data.action in result.actions and rig.animation_data.action in result.actions
    assert ours() == sorted(a.name for a in result.actions) == sorted([SHAPES, POSE])
    for name, owner in (("ArtistShapes", key), ("ArtistPose", rig)):
        artist = bpy.data.actions[name]
        assert artist.use_fake_user and curves(artist) == before[name]
        tracks = [(t.name, t.mute) for t in owner.animation_data.nla_tracks]
        if mode == "PUSH_TO_NLA":
            assert tracks == [(f"Previous: {name}", True)] and artist.users == 2  # the strip and the fake user
        else:
            assert tracks == [] and artist.users == 1  # the fake user alone
    assert sorted(nla_actions()) == ([] if mode == "REPLACE" else ["ArtistPose", "ArtistShapes"])


def test_replace_after_push_leaves_the_nla_track_as_it_was(blender):
    from addon.blender import keying

    mesh_obj, _ = artist_head(blender)
    keying.key_clip(make_clip(), mesh_obj, existing="PUSH_TO_NLA")
    keying.key_clip(make_clip(), mesh_obj, existing="REPLACE")  # only our own Action is on the head now
    assert sorted(nla_actions()) == ["ArtistPose", "ArtistShapes"]
    assert len(ours()) == 2


def test_an_unknown_mode_is_refused_before_anything_changes(blender):
    from addon.blender import keying

    mesh_obj, rig = artist_head(blender)
    with pytest.raises(ValueError, match="Unknown Existing Action mode 'OVERWRITE'"):
        keying.key_clip(make_clip(), mesh_obj, existing="OVERWRITE")
    assert mesh_obj.data.shape_keys.animation_data.action.name == "ArtistShapes"
    assert rig.animation_data.action.name == "ArtistPose" and ours() == [] and nla_actions() == []


def test_the_panels_choice_reaches_the_animate_operator(blender, tmp_path):
    from addon.ops import job_spec
    from addon.blender.action_compat import fcurves_of

    mesh_obj, rig = artist_head(blender)
    blender.scene.render.fps, blender.scene.render.fps_base = 24, 1.0
    settings = blender.scene.talking_head
    assert settings.existing_action == "PUSH_TO_NLA"  # today's behaviour stays the default
    settings.target, settings.driver, settings.audio_path = mesh_obj, "energy", str(write_voice(tmp_path))
    settings.existing_action = "REPLACE"
    assert job_spec.build(blender).existing == "REPLACE"
    assert bpy.ops.talking_head.animate() == {'FINISHED'}
    assert rig.animation_data.action.name == POSE and nla_actions() == []
    assert bpy.data.actions["ArtistPose"].use_fake_user and bpy.data.actions["ArtistPose"].users == 1
    jaw = [fc for fc in fcurves_of(rig.animation_data.action)
           if fc.data_path == 'pose.bones["jaw"].rotation_quaternion']
    assert len(jaw) == 4 and np.ptp([k.co[1] for k in jaw[1].keyframe_points]) > 0  # the voice moved the jaw
