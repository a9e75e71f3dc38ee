"""The add-on's preferences reach the engine: device, models folder (an ADF network and its style
encoder found there), alias table; a preference that cannot work is one sentence and no change."""

from __future__ import annotations

import json

import numpy as np
import pytest

from addon_fixtures import tiny_head, write_tiny_adf, write_voice

bpy = pytest.importorskip("bpy")


def tiny_target(context, tmp_path):
    """The tiny head as the target of a 1 s synthetic voice file, energy driver."""
    from addon.blender import head_object

    mesh_obj, rig = head_object.add_head(context, tiny_head())
    settings = context.scene.talking_head
    settings.target, settings.driver = mesh_obj, "energy"
    settings.audio_path = str(write_voice(tmp_path))
    return mesh_obj


def scene_state(context) -> dict:
    """What a refused Animate must leave as it was."""
    editor = context.scene.sequence_editor
    return {"actions": sorted(a.name for a in bpy.data.actions), "status": context.scene.talking_head.status,
            "frames": (context.scene.frame_start, context.scene.frame_end),
            "strips": 0 if editor is None else len(editor.strips)}


def test_preferences_are_registered_under_the_package_name():
    import addon
    from addon.settings import preferences

    assert preferences.TalkingHeadPreferences.bl_idname == addon.__name__ == "addon"


def test_a_missing_models_folder_is_one_sentence_and_changes_nothing(blender, prefs, tmp_path):
    tiny_target(blender, tmp_path)
    before = scene_state(blender)
    prefs.models_dir = str(tmp_path / "no such folder")
    sentence = (f"The models folder '{tmp_path / 'no such folder'}' set in the Talking Head preferences does "
                "not exist; choose an existing folder or clear the setting.")
    with pytest.raises(RuntimeError) as error:
        bpy.ops.talking_head.animate()
    assert str(error.value).strip().endswith(sentence)
    assert scene_state(blender) == before


def test_an_unreadable_alias_table_is_one_sentence_and_changes_nothing(blender, prefs, tmp_path):
    tiny_target(blender, tmp_path)
    before = scene_state(blender)
    table = tmp_path / "aliases.json"
    table.write_text("{not json")
    prefs.alias_table = str(table)
    with pytest.raises(RuntimeError, match=r"The alias table '.*aliases\.json' is not valid JSON \(.*\); fix the "
                                           r"file or clear the setting\."):
        bpy.ops.talking_head.animate()
    table.write_text(json.dumps({"jawOpen": ["Kiefer_Auf"], "notAShape": ["X"]}))
    with pytest.raises(RuntimeError, match="names 'notAShape', which is not one of our channels or an ARKit shape"):
        bpy.ops.talking_head.animate()
    assert scene_state(blender) == before


def custom_head(context):
    """A one-triangle mesh whose only shape key has a name nothing matches: 'Kiefer_Auf' (jaw open)."""
    mesh = bpy.data.meshes.new("Custom")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    obj = bpy.data.objects.new("Custom", mesh)
    context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis")
    obj.shape_key_add(name="Kiefer_Auf")
    return obj


def keyed_paths(obj) -> list:
    from addon.blender.action_compat import fcurves_of

    ad = obj.data.shape_keys.animation_data
    return sorted(fc.data_path for fc in fcurves_of(ad.action)) if ad is not None and ad.action else []


def test_the_alias_table_lets_a_custom_shape_key_receive_keys(blender, prefs, tmp_path):
    obj = custom_head(blender)
    settings = blender.scene.talking_head
    settings.target, settings.driver, settings.audio_path = obj, "energy", str(write_voice(tmp_path))
    bpy.ops.talking_head.animate()
    assert keyed_paths(obj) == []  # 'Kiefer_Auf' means nothing to us yet
    table = tmp_path / "aliases.json"
    table.write_text(json.dumps({"JawOpen": ["Kiefer_Auf"]}))
    prefs.alias_table = str(table)
    assert bpy.ops.talking_head.animate() == {'FINISHED'}
    assert keyed_paths(obj) == ['key_blocks["Kiefer_Auf"].value']


def test_an_adf_network_in_the_models_folder_runs_on_the_cpu(blender, prefs, tmp_path):
    from addon.settings import properties
    from addon.engine_link import results

    models = tmp_path / "models"
    models.mkdir()
    write_tiny_adf(models)
    mesh_obj = tiny_target(blender, tmp_path)
    prefs.models_dir, prefs.device = str(models), 'CPU'
    assert "adf" in properties.available_drivers(blender)
    settings = blender.scene.talking_head
    settings.driver = "adf"
    assert bpy.ops.talking_head.animate() == {'FINISHED'}
    clip = results.latest(mesh_obj)
    assert clip.metadata["driver"] == "adf" and np.ptp(clip.channel("mouthClose")) > 0
    # the tiny network gives every channel the same value: the models folder's network ran, not a shipped one
    np.testing.assert_array_equal(clip.channel("mouthClose"), clip.channel("mouthFunnel"))


def test_a_reference_clip_gives_the_style_and_ticked_sliders_override_it(blender, prefs, tmp_path):
    from addon.engine_link import results
    from engine.drivers.adf.channels import OUTPUT_CHANNELS
    from engine.motion import MotionClip
    from engine.style import RANGES

    models = tmp_path / "models"
    models.mkdir()
    write_tiny_adf(models)
    mesh_obj = tiny_target(blender, tmp_path)
    reference = tmp_path / "reference.npz"
    MotionClip(list(OUTPUT_CHANNELS), np.zeros((30, len(OUTPUT_CHANNELS))), 30.0).save(reference)
    prefs.models_dir, prefs.device = str(models), 'CPU'
    settings = blender.scene.talking_head
    settings.driver, settings.style_clip, settings.style_preset = "adf", str(reference), "subtle"
    settings.use_blink_rate, settings.blink_rate = True, 9.0
    assert bpy.ops.talking_head.animate() == {'FINISHED'}
    # the tiny encoder gives code 0 for an all-zero reference: every parameter mid-range, the preset unused
    expected = {name: (low + high) / 2 for name, (low, high) in RANGES.items()} | {"blink_rate": 9.0}
    assert results.latest(mesh_obj).metadata["style"] == pytest.approx(expected)


def test_the_gpu_device_reaches_the_network(blender, prefs, tmp_path):
    from engine.drivers.adf.runtime import providers
    from engine.errors import ModelError

    models = tmp_path / "models"
    models.mkdir()
    write_tiny_adf(models)
    tiny_target(blender, tmp_path)
    prefs.models_dir, prefs.device = str(models), 'GPU'
    blender.scene.talking_head.driver = "adf"
    try:
        providers("gpu")
    except ModelError as error:  # no CUDA here: the engine's own sentence, and nothing keyed
        before = scene_state(blender)
        with pytest.raises(RuntimeError, match=str(error).replace(".", r"\.")):
            bpy.ops.talking_head.animate()
        assert scene_state(blender) == before
    else:
        assert bpy.ops.talking_head.animate() == {'FINISHED'}
