"""Sidecars: the JSON beside each shipped .onnx that says what the model is, checked before use.

Every refusal is a `ModelError` with one sentence: what is wrong and what to do.
Each model family (ADF networks, NLDF looks) adds its own content checks on top.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import ModelError
from .files import parse_json, read_limited

MAX_SIDECAR_BYTES = 16 * 1024**2   # a sidecar is a few KB of JSON (plus its training record)


def read_checked_sidecar(onnx_path, kind: str, format_version: int, remake: str, noun: str = "model",
                         expected: str = "", hint: str = "choose the right file") -> dict:
    """The sidecar of `onnx_path` (same name, .json): present, readable, of `kind` and this
    `format_version`, and its sha256 that of the .onnx (a model and sidecar from different runs are
    refused). `remake` says how to get a good pair; `noun` names the file ("model", "look model");
    `expected` describes the kind in the wrong-kind sentence (default repr(kind))."""
    onnx_path = Path(onnx_path)
    path = onnx_path.with_suffix(".json")
    if not onnx_path.is_file():
        raise ModelError(f"The {noun} '{onnx_path}' does not exist; {remake}.")
    try:
        sidecar = parse_json(read_limited(path, MAX_SIDECAR_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise ModelError(f"The {noun} '{onnx_path.name}' has no sidecar '{path.name}'; {remake}.") from None
    except (OSError, ValueError, RecursionError) as error:  # ValueError: JSON, UTF-8 and FileRefused errors
        reason = error.strerror if isinstance(error, OSError) else str(error).split(":")[0][:80]
        raise ModelError(f"The sidecar '{path.name}' is not readable JSON ({reason}); {remake}.") from error
    if not isinstance(sidecar, dict) or sidecar.get("kind") != kind:
        got = sidecar.get("kind") if isinstance(sidecar, dict) else None
        raise ModelError(f"'{onnx_path.name}' is a {got!r} model, not {expected or repr(kind)}; {hint}.")
    if sidecar.get("format_version") != format_version:
        raise ModelError(f"'{onnx_path.name}' has sidecar format {sidecar.get('format_version')}, this engine reads "
                         f"{format_version}; {remake}.")
    if sidecar.get("sha256") != file_sha256(onnx_path, noun, remake):
        raise ModelError(f"'{onnx_path.name}' does not match its sidecar (sha256 differs): the two come from "
                         f"different exports; {remake}.")
    return sidecar


def file_sha256(path: Path, noun: str = "model", remake: str = "export it again") -> str:
    """The sha256 of `path`, read in 1 MB blocks; ModelError when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
    except OSError as error:
        raise ModelError(f"The {noun} '{path.name}' could not be read ({error.strerror or error}); {remake}.") from error
    return digest.hexdigest()
