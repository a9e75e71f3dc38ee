"""Lip-sync All Lines: every sound strip (or a folder's files) onto the head as one Action per line on
its NLA, each line through the engine's child process, a failed line reported alone."""

from __future__ import annotations

import numpy as np
import pytest

from addon_fixtures import tiny_head, write_voice

bpy = pytest.importorskip("bpy")
FPS = 24


def tiny_target(context):
    from addon.blender import head_object

    mesh_obj, rig = head_object.add_head(context, tiny_head())
    context.scene.render.fps, context.scene.render.fps_base = FPS, 1.0
    settings = context.scene.talking_head
    settings.target, settings.driver = mesh_obj, "energy"
    return mesh_obj, rig


def line_strips(id_block) -> list:
    """(strip name, first frame, Action name, keys on its first F-Curve) of the lines on `id_block`'s NLA."""
    from addon.blender.action_compat import fcurves_of
    from addon.ops.batch_ops import LINE_TRACK

    tracks = [t for t in id_block.animation_data.nla_tracks if t.name.startswith(LINE_TRACK)]
    return sorted((s.name, round(s.frame_start), s.action.name, len(fcurves_of(s.action)[0].keyframe_points))
                  for t in tracks for s in t.strips)


def test_two_sound_strips_become_two_actions_on_the_nla_and_a_missing_sound_is_reported(blender, tmp_path):
    mesh_obj, rig = tiny_target(blender)
    from addon.blender import sequencer

    strips = sequencer.editor_strips(blender.scene.sequence_editor_create())  # 4.2 calls them sequences
    strips.new_sound("Hello", str(write_voice(tmp_path, 1.0, name="hello.wav")), 1, 5)
    strips.new_sound("Reply", str(write_voice(tmp_path, 1.5, name="reply.wav")), 2, 40)
    gone = write_voice(tmp_path, 1.0, name="gone.wav")
    strips.new_sound("Gone", str(gone), 3, 80)
    gone.unlink()
    strips_before = sorted((s.name, s.frame_start, s.channel) for s in strips)

    assert bpy.ops.talking_head.lipsync_lines() == {'FINISHED'}

    assert line_strips(rig) == [("Hello", 5, f"TH Hello ({rig.name})", 24), ("Reply", 40, f"TH Reply ({rig.name})", 36)]
    key = mesh_obj.data.shape_keys
    assert line_strips(key) == [("Hello", 5, f"TH Hello ({key.name})", 24), ("Reply", 40, f"TH Reply ({key.name})", 36)]
    assert rig.animation_data.action is None and mesh_obj.data.shape_keys.animation_data.action is None
    assert sorted((s.name, s.frame_start, s.channel) for s in strips) == strips_before  # only read
    status = blender.scene.talking_head.status
    assert status.startswith(f"Lip-synced 2 of 3 lines onto '{mesh_obj.name}'") and "1 failed" in status
    assert blender.scene.frame_end >= 40 + 36 - 1
    # the evaluated rig plays each line from its own frame
    blender.scene.frame_set(45)
    jaw = rig.pose.bones["jaw"].rotation_quaternion
    assert not np.allclose(tuple(jaw), (1, 0, 0, 0), atol=1e-6)


def test_a_folders_files_follow_one_another_with_their_sound_strips(blender, tmp_path):
    from addon.blender import sequencer

    _, rig = tiny_target(blender)
    folder = tmp_path / "lines"
    folder.mkdir()
    write_voice(folder, 1.0, name="b_second.wav")
    write_voice(folder, 0.5, name="a_first.wav")
    (folder / "notes.txt").write_text("not audio")
    blender.scene.frame_current = 10

    assert bpy.ops.talking_head.lipsync_lines(source='FOLDER', folder=str(folder)) == {'FINISHED'}

    assert [s[:2] for s in line_strips(rig)] == [("a_first", 10), ("b_second", 10 + 12 + 12)]
    sounds = sorted((s.name, s.frame_start) for s in sequencer.editor_strips(blender.scene.sequence_editor))
    assert sounds == [("a_first", 10), ("b_second", 34)]


def test_no_lines_is_one_sentence_and_nothing_changes(blender, tmp_path):
    tiny_target(blender)
    with pytest.raises(RuntimeError, match="The sequencer has no sound strips"):
        bpy.ops.talking_head.lipsync_lines()
    with pytest.raises(RuntimeError, match="has no audio files"):
        bpy.ops.talking_head.lipsync_lines(source='FOLDER', folder=str(tmp_path))
    assert len(bpy.data.actions) == 0


class ButtonLog:
    """Stands in for a UILayout: records each button (its text and the properties set on it) and label."""

    def __init__(self):
        self.buttons, self.labels = [], []

    def operator(self, idname, text="", **_):
        from types import SimpleNamespace

        self.buttons.append((idname, text, SimpleNamespace()))
        return self.buttons[-1][2]

    def label(self, text="", **_):
        self.labels.append(text)


def test_the_dialogue_lines_panel_offers_the_strips_and_a_folder(blender, tmp_path):
    from types import SimpleNamespace

    from addon.ui import batch_panel
    from addon.blender import sequencer

    tiny_target(blender)
    sequencer.editor_strips(blender.scene.sequence_editor_create()).new_sound(
        "Hello", str(write_voice(tmp_path, 0.5, name="hello.wav")), 1, 1)
    layout = ButtonLog()
    batch_panel.TALKINGHEAD_PT_lines.draw(SimpleNamespace(layout=layout), blender)
    assert [(i, t, vars(p)) for i, t, p in layout.buttons] == [
        ("talking_head.lipsync_lines", "Lip-sync 1 Sound Strip", {"source": 'STRIPS'}),
        ("talking_head.lipsync_lines", "Lip-sync a Folder...", {"source": 'FOLDER'})]
    assert "TALKINGHEAD_PT_lines" in dir(bpy.types)  # registered under the main panel
