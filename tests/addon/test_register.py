"""Registering and unregistering the add-on, twice, leaves Blender clean; the built-in head operator works."""

from __future__ import annotations

import pytest

bpy = pytest.importorskip("bpy")


def test_register_unregister_twice():
    import addon

    bpy.ops.wm.read_factory_settings(use_empty=True)
    for _ in range(2):
        addon.register()
        assert hasattr(bpy.context.scene, "talking_head")
        assert bpy.ops.talking_head.animate.idname() == "TALKING_HEAD_OT_animate"
        addon.unregister()
        assert not hasattr(bpy.types.Scene, "talking_head")


def test_add_builtin_head(blender):
    assert bpy.ops.talking_head.add_builtin_head() == {'FINISHED'}
    head = blender.scene.talking_head.target
    keys = head.data.shape_keys.key_blocks
    assert len(keys) == 1 + 40 + 1  # basis, 40 expressions, the jaw corrective
    assert "mouthFunnel" in keys and "pose:jaw:21" in keys
    assert [b.name for b in head.parent.data.bones] == ["global", "neck", "jaw", "eye_left", "eye_right"]
    assert head.data.color_attributes.get("Color") is not None


def test_animate_explains_why_it_is_disabled(blender):
    assert not bpy.ops.talking_head.animate.poll()
    bpy.ops.talking_head.add_builtin_head()
    assert not bpy.ops.talking_head.animate.poll()  # no audio yet
    blender.scene.talking_head.audio_path = "//voice.wav"
    assert bpy.ops.talking_head.animate.poll()


def test_bad_audio_is_reported_and_the_scene_is_untouched(blender, tmp_path):
    bpy.ops.talking_head.add_builtin_head()
    settings = blender.scene.talking_head
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    settings.audio_path = str(bad)
    actions_before = len(bpy.data.actions)
    frame_end = blender.scene.frame_end
    with pytest.raises(RuntimeError, match="is not audio: it is a PNG image"):
        bpy.ops.talking_head.animate()
    assert len(bpy.data.actions) == actions_before and blender.scene.frame_end == frame_end
    editor = blender.scene.sequence_editor
    assert editor is None or len(editor.strips) == 0
