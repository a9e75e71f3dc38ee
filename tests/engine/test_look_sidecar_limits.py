"""Look sidecars that are not what a look's export writes: one ModelError sentence each, before onnxruntime."""

from __future__ import annotations

import hashlib
import json

import pytest

from engine.errors import ModelError
from engine.nldf.sidecar import check_contents, read_sidecar

GOOD = {"kind": "nldf", "format_version": 2, "mode": "rays", "condition_channels": ["a", "b"],
        "encoding": {"input": "box-normalised segment points", "num_points": 8},
        "box": {"low": [-1, -1, -1], "high": [1, 1, 1]}}


def look_files(tmp_path, sidecar_text: bytes):
    onnx = tmp_path / "nldf_x.onnx"
    onnx.write_bytes(b"not really a graph")
    onnx.with_suffix(".json").write_bytes(sidecar_text)
    return onnx


def sealed(tmp_path, **changes) -> dict:
    sidecar = dict(GOOD, sha256=hashlib.sha256(b"not really a graph").hexdigest(), **changes)
    return read_sidecar(look_files(tmp_path, json.dumps(sidecar).encode()))


@pytest.mark.parametrize("text", [b'{"kind": "\xff\xfe"}', b"[" * 100_000, b'{"kind": ' + b"9" * 5000 + b"}",
                                  b'{"a": ' * 60 + b"1" + b"}" * 60, b"\x00\x01garbage"])
def test_unreadable_sidecars_are_one_sentence(tmp_path, text):
    with pytest.raises(ModelError, match="is not readable JSON|not a look|is a") as info:
        read_sidecar(look_files(tmp_path, text))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("changes", [
    dict(condition_channels=3), dict(condition_channels="ab"), dict(encoding=[1, 2]),
    dict(encoding={"input": "box-normalised segment points", "num_points": 10**12}),
    dict(ray_stride=0), dict(ray_stride=True), dict(trained_size=-4), dict(image_sizes=["big"]),
    dict(box={"low": [0, 0], "high": [1, 1, 1]}), dict(box={"low": {"x": 1}, "high": [1, 1, 1]}),
    dict(box={"low": [-1e300, 0, 0], "high": [1e300, 1, 1]}), dict(mode=["rays"]),
])
def test_malformed_contents_are_one_sentence(tmp_path, changes):
    sidecar = sealed(tmp_path, **changes)
    with pytest.raises(ModelError) as info:
        check_contents(sidecar, "nldf_x.onnx", ("a", "b"))
    assert "\n" not in str(info.value) and str(info.value).endswith(".")


def test_the_good_sidecar_passes(tmp_path):
    check_contents(sealed(tmp_path), "nldf_x.onnx", ("a", "b"))
