"""Model sidecars: the JSON beside each .onnx that says what the model is, checked before use."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import ModelError

FORMAT_VERSION = 1
RETRAIN = "re-export it with 'python -m engine.training.adf export' or reinstall the add-on"


def read_sidecar(onnx_path: Path, kind: str) -> dict:
    """The checked sidecar of `onnx_path` (same name, .json). ModelError, with what to do, when
    the sidecar is missing or unreadable, is of another kind or format, or its sha256 does not
    match the .onnx file (a model and sidecar from different runs)."""
    onnx_path = Path(onnx_path)
    path = onnx_path.with_suffix(".json")
    if not onnx_path.exists():
        raise ModelError(f"The model file '{onnx_path}' does not exist; {RETRAIN}.")
    try:
        sidecar = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelError(f"The model '{onnx_path.name}' has no sidecar '{path.name}'; {RETRAIN}.") from None
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"The sidecar '{path.name}' is not readable JSON ({error}); {RETRAIN}.") from None
    if sidecar.get("kind") != kind:
        raise ModelError(f"'{onnx_path.name}' is a {sidecar.get('kind')!r} model, not {kind!r}; choose the right file.")
    if sidecar.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"'{onnx_path.name}' has sidecar format {sidecar.get('format_version')}, this engine reads "
                         f"{FORMAT_VERSION}; {RETRAIN}.")
    if sidecar.get("sha256") != hashlib.sha256(onnx_path.read_bytes()).hexdigest():
        raise ModelError(f"'{onnx_path.name}' does not match its sidecar (sha256 differs): the two come from "
                         f"different runs; {RETRAIN}.")
    return sidecar
