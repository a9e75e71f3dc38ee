"""Model sidecars: the JSON beside each .onnx that says what the model is, checked before use."""

from __future__ import annotations

from pathlib import Path

from ...sidecar import read_checked_sidecar

FORMAT_VERSION = 1
RETRAIN = "re-export it with 'python -m engine.training.adf export' or reinstall the add-on"


def read_sidecar(onnx_path: Path, kind: str) -> dict:
    """The checked sidecar of `onnx_path` (same name, .json): see `engine.sidecar.read_checked_sidecar`."""
    return read_checked_sidecar(onnx_path, kind, FORMAT_VERSION, RETRAIN)
