"""Export: the latest clip as .npz / .json / ARKit .csv, the keyed head as glTF (morph weights) and FBX."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from addon_fixtures import tiny_head

bpy = pytest.importorskip("bpy")

COMPONENTS = {5126: ("f", 4)}                       # glTF FLOAT
WIDTHS = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}


@pytest.fixture
def keyed(blender):
    """(context, mesh, clip): the tiny head keyed from a clip, the clip remembered as its latest result."""
    from addon.blender import head_object, keying
    from addon.engine_link import results
    from engine.motion import MotionClip

    mesh, _ = head_object.add_head(blender, tiny_head())
    t = np.linspace(0, 1, 12, dtype=np.float32)
    clip = MotionClip(names=["mouthClose", "browDownLeft", "jaw_rx", "eyeBlinkLeft"],
                      values=np.stack([t, 1 - t, 0.3 * t, t ** 2], axis=1), fps=24.0, start_frame=1)
    keying.key_clip(clip, mesh)
    results.remember(mesh, clip)
    blender.scene.talking_head.target = mesh
    blender.scene.frame_start, blender.scene.frame_end = 1, 12
    return blender, mesh, clip


@pytest.mark.parametrize("file_format, name", [("NPZ", "take.npz"), ("JSON", "take.json"), ("JSON", "take.npz")])
def test_clip_files_are_lossless(keyed, tmp_path, file_format, name):
    from engine.motion import MotionClip

    _, _, clip = keyed
    assert bpy.ops.talking_head.export_clip(filepath=str(tmp_path / name), file_format=file_format) == {'FINISHED'}
    written = tmp_path / ("take.json" if file_format == "JSON" else name)
    assert MotionClip.load(written) == clip


def test_arkit_csv(keyed, tmp_path):
    from engine.motion import CSV_HEADER

    _, _, clip = keyed
    bpy.ops.talking_head.export_clip(filepath=str(tmp_path / "take"), file_format="CSV")
    lines = (tmp_path / "take.csv").read_text().splitlines()
    assert lines[0].split(",") == list(CSV_HEADER) and len(lines) == 1 + clip.num_frames
    row = lines[-1].split(",")
    assert float(row[CSV_HEADER.index("JawOpen")]) == pytest.approx(0.3 / 0.5, abs=1e-4)
    assert float(row[CSV_HEADER.index("EyeBlinkLeft")]) == pytest.approx(1.0, abs=1e-4)


def test_no_result_no_export(keyed):
    context, _, _ = keyed
    other = bpy.data.objects.new("Other", bpy.data.meshes.new("Other"))
    context.collection.objects.link(other)
    context.scene.talking_head.target = other
    assert not bpy.ops.talking_head.export_clip.poll()
    assert not bpy.ops.talking_head.export_gltf.poll()
    assert not bpy.ops.talking_head.export_fbx.poll()


def accessor(gltf, buffers, index) -> np.ndarray:
    """An accessor's values [count, width] (float, tightly packed, as Blender writes them)."""
    acc = gltf["accessors"][index]
    view = gltf["bufferViews"][acc["bufferView"]]
    code, size = COMPONENTS[acc["componentType"]]
    width = WIDTHS[acc["type"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    raw = buffers[view["buffer"]][start:start + acc["count"] * width * size]
    return np.array(struct.unpack(f"<{acc['count'] * width}{code}", raw)).reshape(acc["count"], width)


def test_gltf_has_morph_weight_animation(keyed, tmp_path):
    _, mesh, clip = keyed
    mesh.select_set(False)
    path = tmp_path / "head.gltf"
    assert bpy.ops.talking_head.export_gltf(filepath=str(path), gltf_format="GLTF_SEPARATE") == {'FINISHED'}
    assert not mesh.select_get()  # the user's selection is restored
    gltf = json.loads(path.read_text())
    buffers = [(tmp_path / b["uri"]).read_bytes() for b in gltf["buffers"]]
    node = next(i for i, n in enumerate(gltf["nodes"]) if n.get("name") == mesh.name)
    names = gltf["meshes"][gltf["nodes"][node]["mesh"]]["extras"]["targetNames"]
    (animation,) = gltf["animations"]
    (weights,) = [c for c in animation["channels"] if c["target"]["path"] == "weights"]
    assert weights["target"]["node"] == node
    assert any(c["target"]["path"] == "rotation" for c in animation["channels"])  # the jaw bone too
    sampler = animation["samplers"][weights["sampler"]]
    times = accessor(gltf, buffers, sampler["input"])[:, 0]
    values = accessor(gltf, buffers, sampler["output"]).reshape(len(times), len(names))
    np.testing.assert_allclose(times * clip.fps, np.arange(1, 13), atol=1e-4)  # glTF time = frame / fps
    np.testing.assert_allclose(values[:, names.index("mouthClose")], clip.channel("mouthClose"), atol=1e-5)
    np.testing.assert_allclose(values[:, names.index("browDownLeft")], clip.channel("browDownLeft"), atol=1e-5)


def test_glb_and_fbx_files(keyed, tmp_path):
    from addon.blender.action_compat import fcurves_of

    _, _, clip = keyed
    assert bpy.ops.talking_head.export_gltf(filepath=str(tmp_path / "head.glb"), gltf_format="GLB") == {'FINISHED'}
    glb = (tmp_path / "head.glb").read_bytes()
    assert glb[:4] == b"glTF"
    (length,) = struct.unpack("<I", glb[12:16])
    assert b'"weights"' in glb[20:20 + length] and b'"animations"' in glb[20:20 + length]
    assert bpy.ops.talking_head.export_fbx(filepath=str(tmp_path / "head.fbx")) == {'FINISHED'}
    assert (tmp_path / "head.fbx").read_bytes().startswith(b"Kaydara FBX Binary")
    before = set(bpy.data.objects)
    bpy.ops.import_scene.fbx(filepath=str(tmp_path / "head.fbx"))  # Blender reads the keys back
    (imported,) = [o for o in set(bpy.data.objects) - before if o.type == 'MESH']
    fcurve = next(fc for fc in fcurves_of(imported.data.shape_keys.animation_data.action)
                  if fc.data_path == 'key_blocks["mouthClose"].value')
    keys = np.array([tuple(k.co) for k in fcurve.keyframe_points])
    np.testing.assert_allclose(keys[:12, 1], clip.channel("mouthClose"), atol=1e-3)


def test_extensions_follow_the_format():
    from addon.ops.export_ops import with_extension

    assert with_extension("/a/take.npz", ".csv") == "/a/take.csv"
    assert with_extension("/a/take", ".json") == "/a/take.json"
    assert with_extension("/a/take.v2", ".glb") == "/a/take.v2.glb"
