"""The add-on's own read of a look's sidecar (camera range, sizes; drawn in the Render panel) never raises:
a sidecar that is not UTF-8, nests too deeply or has fields of the wrong kind gives what is well-formed."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("bpy")


@pytest.mark.parametrize("text", [b"\xff\xfe{}", b"[" * 100_000, b'{"camera_range": [1, 2, 3]}',
                                  b'{"camera_range": {"yaw": "wide", "pitch": [5, -5]}, "training": 3}',
                                  b'{"image_sizes": ["big"], "ray_stride": true}'])
def test_a_malformed_sidecar_gives_only_what_is_well_formed(tmp_path, text):
    from addon.blender import render_camera
    from addon.settings import render_settings
    from engine.render.camera import look_at

    (tmp_path / "nldf_odd.onnx").write_bytes(b"graph")
    (tmp_path / "nldf_odd.json").write_bytes(text)
    sidecar = render_settings.look_sidecar("odd", tmp_path)
    assert set(sidecar) <= {"camera_range", "training"}
    assert render_camera.range_warning(look_at([0.0, 0.0, 1.0], [0.0, 0.0, 0.0]), sidecar, "odd") is not None


def test_a_good_sidecar_keeps_its_camera_fields(tmp_path):
    from addon.settings import render_settings

    fields = {"camera_range": {"yaw": [-5, 60], "distance": [0.8, 1.2]}, "image_sizes": [256, 512],
              "ray_stride": 4, "training": {"config": {"yaw_range": 10.0, "pitch_range": 15.0}}}
    (tmp_path / "nldf_good.onnx").write_bytes(b"graph")
    (tmp_path / "nldf_good.json").write_text(json.dumps(dict(fields, kind="nldf", mode="superres")))
    assert render_settings.look_sidecar("good", tmp_path) == fields
