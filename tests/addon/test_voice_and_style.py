"""The panel's voice source (a file or the user's sound strip), speaking style and the reasons a
disabled button gives."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from addon_fixtures import tiny_head, write_voice

bpy = pytest.importorskip("bpy")
FPS = 24


def tiny_target(context, tmp_path, driver="energy", seconds=1.0):
    """The tiny head as the target of a synthetic voice file at 24 fps; returns (mesh, rig)."""
    from addon.blender import head_object

    mesh_obj, rig = head_object.add_head(context, tiny_head())
    context.scene.render.fps, context.scene.render.fps_base = FPS, 1.0
    settings = context.scene.talking_head
    settings.target, settings.driver = mesh_obj, driver
    settings.audio_path = str(write_voice(tmp_path, seconds))
    return mesh_obj, rig


def keyed_frames(rig) -> np.ndarray:
    """The frames of the jaw bone's keys [T]."""
    from addon.blender.action_compat import fcurves_of

    fcurve = next(fc for fc in fcurves_of(rig.animation_data.action)
                  if fc.data_path == 'pose.bones["jaw"].rotation_quaternion')
    return np.array([k.co[0] for k in fcurve.keyframe_points])


def strip_facts(strip) -> tuple:
    return (strip.name, strip.frame_start, strip.channel, strip.sound.filepath, strip.frame_final_end)


def test_a_users_sound_strip_is_the_voice_and_stays_as_it_was(blender, tmp_path):
    _, rig = tiny_target(blender, tmp_path)
    assert bpy.ops.talking_head.animate() == {'FINISHED'}  # from the file: our own voice strip
    editor = blender.scene.sequence_editor
    strip = editor.strips.new_sound("Dialogue", str(write_voice(tmp_path, 1.5, name="dialogue.wav")), 3, 7)
    before = strip_facts(strip)
    settings = blender.scene.talking_head
    settings.audio_source, settings.sound_strip = 'STRIP', "Dialogue"
    assert bpy.ops.talking_head.animate() == {'FINISHED'}
    assert [strip_facts(s) for s in editor.strips] == [before]  # untouched; ours gone, none added
    np.testing.assert_array_equal(keyed_frames(rig), np.arange(7, 7 + 36))  # 1.5 s from the strip's frame
    assert "from dialogue.wav (strip 'Dialogue')" in settings.status


def test_the_strip_start_can_be_replaced_and_a_missing_sound_is_a_sentence(blender, tmp_path):
    from addon.ops import job_spec

    tiny_target(blender, tmp_path)
    settings = blender.scene.talking_head
    voice = write_voice(tmp_path, name="take2.wav")
    blender.scene.sequence_editor_create().strips.new_sound("Take 2", str(voice), 1, 12)
    settings.audio_source, settings.sound_strip = 'STRIP', "Take 2"
    assert job_spec.build(blender).source.start_frame == 12
    settings.use_strip_start, settings.start_frame = False, 30
    request = job_spec.build(blender)
    assert request.source.start_frame == request.spec.start_frame == 30
    assert request.source.path == str(voice) and request.source.strip == "Take 2"
    voice.unlink()
    actions = len(bpy.data.actions)
    with pytest.raises(RuntimeError, match=r"The sound of strip 'Take 2' is not a file on disk"):
        bpy.ops.talking_head.animate()
    assert len(bpy.data.actions) == actions and len(blender.scene.sequence_editor.strips) == 1


def test_only_the_users_sound_strips_are_offered(blender, tmp_path):
    from addon.settings import audio_source
    from addon.blender import sequencer

    voice = str(write_voice(tmp_path))
    editor = blender.scene.sequence_editor_create()
    editor.strips.new_sound("B", voice, 2, 1)
    editor.strips.new_sound("A", voice, 1, 5)
    sequencer.place_sound(blender.scene, voice, 1)  # ours
    settings = blender.scene.talking_head
    assert [item[0] for item in audio_source.strip_items(settings, blender)] == ["NONE", "A", "B"]
    settings.sound_strip = "B"
    editor.strips.remove(editor.strips["A"])  # the choice is kept by name
    assert settings.sound_strip == "B" and settings.sound_strip_name == "B"


def head_motion_range(clip) -> float:
    """The largest peak-to-peak range of the clip's neck rotation channels (radians)."""
    return float(max(np.ptp(clip.channel(n)) for n in clip.names if n.startswith("neck_r")))


def test_presets_and_sliders_reach_the_engine(blender, tmp_path):
    from addon.engine_link import results

    mesh_obj, _ = tiny_target(blender, tmp_path, driver="phonetic", seconds=2.0)
    settings = blender.scene.talking_head
    clips = {}
    for preset, head_motion in (("subtle", None), ("expressive", None), ("expressive", 0.2)):
        settings.style_preset = preset
        settings.use_head_motion = head_motion is not None
        if head_motion is not None:
            settings.head_motion = head_motion
        assert bpy.ops.talking_head.animate() == {'FINISHED'}
        clips[preset, head_motion] = results.latest(mesh_obj)
    subtle, expressive, calmed = (head_motion_range(c) for c in clips.values())
    assert expressive == pytest.approx(5 * subtle, rel=0.05)  # head_motion 2.0 against 0.4
    assert calmed == pytest.approx(expressive / 10, rel=0.05)  # the slider beats the preset's 2.0
    style = clips["expressive", 0.2].metadata["style"]
    assert style["head_motion"] == pytest.approx(0.2) and style["articulation"] == 1.4  # the rest: expressive


def test_a_preset_shows_its_values_on_the_sliders_it_does_not_override(blender):
    from addon.settings import properties

    settings = blender.scene.talking_head
    assert properties.style_items(settings) == ("neutral",)
    settings.style_preset = "expressive"
    assert (settings.head_motion, settings.blink_rate) == (2.0, 22.0)
    settings.use_blink_rate, settings.blink_rate = True, 5.0
    settings.style_preset = "subtle"
    assert settings.head_motion == pytest.approx(0.4) and settings.blink_rate == 5.0
    assert properties.style_items(settings) == ("subtle", "blink_rate=5.0")
    for name in properties.INTENSITIES:  # each slider spans the engine's range of its parameter
        slider = settings.bl_rna.properties[name]
        assert (slider.hard_min, slider.hard_max) == pytest.approx(properties.STYLE.RANGES[name])


def test_disabled_buttons_say_why(blender, tmp_path):
    def why(operator) -> str:
        with pytest.raises(RuntimeError) as error:
            operator()
        return str(error.value).split(".poll() ", 1)[1]

    animate = bpy.ops.talking_head.animate
    assert why(animate) == "Choose a head (or add the built-in head) first."
    tiny_target(blender, tmp_path)
    settings = blender.scene.talking_head
    settings.audio_source = 'STRIP'
    assert why(animate) == "Choose a sound strip of the sequencer first."
    blender.scene.sequence_editor_create().strips.new_sound("Line", settings.audio_path, 1, 1)
    settings.sound_strip = "Line"
    assert animate.poll()
    blender.scene.sequence_editor.strips["Line"].name = "Renamed"
    assert why(animate) == "The sound strip 'Line' is not in the sequencer any more; choose another."
    settings.audio_source, settings.style_clip = 'FILE', str(tmp_path / "reference.npz")
    assert why(animate) == "A reference clip is read by the ADF driver only; choose it, or clear the reference clip."
    assert why(bpy.ops.talking_head.cancel_animate) == "Nothing is being animated."


class RecordingLayout:
    """Stands in for a UILayout: records props, operators and labels; a property that does not exist fails."""

    def __init__(self, log):
        self.log, self.enabled, self.active = log, True, True

    def prop(self, data, name, **_):
        assert name in data.bl_rna.properties, name
        self.log.append(name)

    def operator(self, idname, **_):
        self.log.append(idname)

    def label(self, text="", **_):
        self.log.append(text)

    def row(self, **_):
        return RecordingLayout(self.log)

    column = box = row


def test_the_panel_draws_the_voice_source_and_explains_the_reference_clip(blender, tmp_path):
    from addon.ui import panel

    tiny_target(blender, tmp_path)
    settings = blender.scene.talking_head
    log = []
    panel.TALKINGHEAD_PT_main.draw(SimpleNamespace(layout=RecordingLayout(log)), blender)
    assert "audio_path" in log and "sound_strip" not in log and "talking_head.animate" in log
    assert log.index("existing_action") == log.index("talking_head.animate") - 1  # just above Animate
    assert {"style_preset", "style_clip", "articulation", "use_head_motion", "brow_accent", "blink_rate"} <= set(log)
    settings.audio_source, settings.style_clip = 'STRIP', "//reference.npz"
    log.clear()
    panel.TALKINGHEAD_PT_main.draw(SimpleNamespace(layout=RecordingLayout(log)), blender)
    assert "sound_strip" in log and "use_strip_start" in log and "audio_path" not in log
    assert "Reference clips need the ADF driver." in log


def test_the_driver_menu_names_each_driver_as_the_engine_declares_it(blender):
    """The menu's label and tooltip are the engine's declaration (no second copy), the default first."""
    from addon.settings import properties
    from engine.drivers.registry import DRIVERS, default_driver

    items = properties.driver_items(None, blender)
    assert [(i[0], i[1], i[2]) for i in items] == [(d.name, d.title, d.summary) for d in
                                                  sorted(DRIVERS, key=lambda d: d.name != default_driver())]
    assert items[0][3] == 0 and len({i[3] for i in items}) == len(items)  # stable numbers, the default's 0
    assert {i[1] for i in items} == {"ADF network", "Phonetic", "Audio energy"}
