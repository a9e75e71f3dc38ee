"""MotionClip files: `.npz` (numpy alone can read it) and `.json`, both lossless.

The format alone: `write_clip` takes any clip (names, values, fps, start_frame, metadata, validate) and
`read_clip` returns the fields a MotionClip is built from, so this module never imports the class
(`engine.motion.clip` builds it: `load_clip`, `MotionClip.load`).

`.npz` keys (read with `np.load(path, allow_pickle=False)`):
    names           [C] unicode strings
    values          [T, C] float32
    fps             float64 scalar
    start_frame     int64 scalar
    metadata        unicode scalar, a JSON object
    format_version  int64 scalar (1)

`.json`: {"format": "talking-head-motion", "version": 1, "fps", "start_frame",
"names" [C], "values" [T][C] (rows; float32 values written exactly), "metadata"}.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import MotionClipError, shown
from ..files import FILE_ERRORS, FileRefused, os_reason, parse_json, read_limited, read_npz
from .output import write_motion_file
from .validation import MAX_CHANNELS, MAX_METADATA_CHARS, MAX_VALUES

FORMAT_NAME = "talking-head-motion"
FORMAT_VERSION = 1
NPZ_KEYS = ("names", "values", "fps", "start_frame", "metadata", "format_version")
SUFFIXES = (".npz", ".json")
MAX_NAME_CHARS = 256
MAX_JSON_BYTES = 40 * MAX_VALUES // 10     # a value written as JSON takes ~4-20 characters
MAX_NPZ_BYTES = 4 * MAX_VALUES + 64 * 1024**2


def write_clip(clip, path) -> Path:
    """Write a MotionClip as `.npz` or `.json` (by suffix), atomically; returns the path."""
    path = Path(path)
    suffix = _suffix(path)
    clip.validate()
    data = _npz_bytes(clip) if suffix == ".npz" else _json_text(clip).encode("utf-8")
    return write_motion_file(path, data)


def read_clip(path) -> dict:
    """The fields of a clip file (`.npz` or `.json`): names [C], values [T, C] float32, fps, start_frame,
    metadata, as MotionClip takes them; every failure is a one-sentence MotionClipError.

    The one boundary of this loader: damaged-file errors (FILE_ERRORS) become
    a sentence naming the file; anything else is a bug of ours and propagates.
    """
    path = Path(path)
    suffix = _suffix(path)
    try:
        if not path.is_file():
            raise MotionClipError(f"The motion file '{path}' does not exist.")
        return _load_npz(path) if suffix == ".npz" else _load_json(path)
    except MemoryError as error:
        raise MotionClipError(f"The motion file '{path.name}' needs more memory than is free to read.") from error
    except OSError as error:
        raise MotionClipError(f"The motion file '{path.name}' could not be read ({os_reason(error)}).") from error
    except FileRefused as error:
        raise MotionClipError(f"The file '{path.name}' is not a motion clip this engine reads: {error}.") from error
    except FILE_ERRORS as error:
        raise MotionClipError(f"The motion file '{path.name}' is corrupt or truncated, or not a motion clip "
                              f"({type(error).__name__}); export it again.") from error


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MotionClipError(f"The motion file '{path.name}' must end in .npz or .json "
                              f"(use to_arkit_csv for ARKit CSV).")
    return suffix


def _npz_bytes(clip) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        names=np.array(clip.names, dtype=np.str_).reshape(len(clip.names)),
        values=np.ascontiguousarray(clip.values, dtype=np.float32),
        fps=np.float64(clip.fps),
        start_frame=np.int64(clip.start_frame),
        metadata=np.array(json.dumps(clip.metadata), dtype=np.str_),
        format_version=np.int64(FORMAT_VERSION),
    )
    return buffer.getvalue()


def _json_text(clip) -> str:
    document = {
        "format": FORMAT_NAME, "version": FORMAT_VERSION, "fps": float(clip.fps),
        "start_frame": int(clip.start_frame), "names": list(clip.names),
        "values": clip.values.astype(np.float64).tolist(), "metadata": clip.metadata,
    }
    return json.dumps(document, allow_nan=False)


def _clip_member_allowed(name: str, dtype, shape: tuple, headers: dict):
    """None when member `name` of a clip .npz may be read; else why not (see `engine.files.read_npz`)."""
    count = int(np.prod(shape, dtype=np.float64)) if shape else 1
    limits = {"names": MAX_CHANNELS, "values": MAX_VALUES, "metadata": 1}
    if count > limits.get(name, 1):
        return f"its '{name}' holds {count} values, more than a clip has"
    if dtype.kind == "U" and dtype.itemsize > 4 * (MAX_METADATA_CHARS if name == "metadata" else MAX_NAME_CHARS):
        return f"its '{name}' holds longer text than a clip has"
    return None


def _read_npz_arrays(path: Path) -> dict:
    with path.open("rb") as stream:
        magic = stream.read(6)
    if magic == b"\x93NUMPY":
        raise MotionClipError(f"The file '{path.name}' is not a motion clip file "
                              f"(it holds a single array, not an .npz archive).")
    if magic[:2] != b"PK":
        raise MotionClipError(f"The file '{path.name}' is not a motion clip file "
                                  f"(it is not an .npz archive).")
    arrays = read_npz(str(path), _clip_member_allowed, keys=set(NPZ_KEYS), max_bytes=MAX_NPZ_BYTES, max_members=64)
    missing = [key for key in NPZ_KEYS if key not in arrays]
    if missing:
        raise MotionClipError(f"The file '{path.name}' is not a motion clip file: "
                              f"it has no {', '.join(missing)} entries.")
    return arrays


def _load_npz(path: Path) -> dict:
    arrays = _read_npz_arrays(path)
    _check_version(path, _scalar(path, arrays["format_version"], np.integer, "format_version"))
    names, values = arrays["names"], arrays["values"]
    if names.dtype.kind != "U" or names.ndim != 1:
        raise MotionClipError(f"The motion file '{path.name}' has malformed names: "
                              f"expected a 1-D array of strings, got {names.dtype} {names.shape}.")
    if values.dtype != np.float32 or values.ndim != 2:
        raise MotionClipError(f"The motion file '{path.name}' has malformed values: "
                              f"expected a 2-D float32 array, got {values.dtype} {values.shape}.")
    return dict(
        names=[str(n) for n in names], values=values,
        fps=float(_scalar(path, arrays["fps"], np.floating, "fps")),
        start_frame=int(_scalar(path, arrays["start_frame"], np.integer, "start_frame")),
        metadata=_metadata(path, str(_scalar(path, arrays["metadata"], np.str_, "metadata"))),
    )


def _scalar(path: Path, array: np.ndarray, kind, key: str):
    if array.shape != () or not np.issubdtype(array.dtype, kind):
        raise MotionClipError(f"The motion file '{path.name}' has a malformed '{key}' entry "
                              f"({array.dtype} {array.shape}).")
    return array[()]


def _metadata(path: Path, text: str) -> dict:
    try:
        metadata = parse_json(text)
    except (ValueError, RecursionError):
        metadata = None
    if not isinstance(metadata, dict):
        raise MotionClipError(f"The motion file '{path.name}' has metadata that is not a JSON object.")
    return metadata


def _check_version(path: Path, version) -> None:
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)) or version != FORMAT_VERSION:
        raise MotionClipError(f"The motion file '{path.name}' has format version {shown(version)}; "
                              f"this engine reads version {FORMAT_VERSION}, so update the add-on.")


def _load_json(path: Path) -> dict:
    try:
        document = parse_json(read_limited(path, MAX_JSON_BYTES).decode("utf-8"), max_depth=3 + 32)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MotionClipError(f"The motion file '{path.name}' is corrupt or not JSON ({error}).") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise MotionClipError(f"The file '{path.name}' is not a motion clip file "
                              f"(its \"format\" is not \"{FORMAT_NAME}\").")
    _check_version(path, document.get("version"))
    missing = [k for k in ("fps", "names", "values") if k not in document]
    if missing:
        raise MotionClipError(f"The motion file '{path.name}' lacks {', '.join(missing)}.")
    return dict(names=_json_names(path, document["names"]),
                values=_json_values(path, document["values"], len(document["names"])),
                fps=_json_number(path, document["fps"], "fps"),
                start_frame=_json_start(path, document.get("start_frame", 1)),
                metadata=_json_metadata(path, document.get("metadata", {})))


def _json_names(path: Path, names) -> list:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise MotionClipError(f"The motion file '{path.name}' has malformed names: expected a list of strings.")
    return names


def _json_values(path: Path, rows, columns: int) -> np.ndarray:
    def is_row(row):
        return isinstance(row, list) and len(row) == columns and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in row)

    if not isinstance(rows, list) or not all(is_row(r) for r in rows):
        raise MotionClipError(f"The motion file '{path.name}' has malformed values: "
                              f"expected a list of rows of {columns} numbers.")
    with np.errstate(over="ignore"):
        return np.array(rows, dtype=np.float64).reshape(len(rows), columns).astype(np.float32)


def _json_number(path: Path, value, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MotionClipError(f"The motion file '{path.name}' has a malformed '{key}': {value!r}.")
    return float(value)


def _json_start(path: Path, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MotionClipError(f"The motion file '{path.name}' has a malformed 'start_frame': {value!r}.")
    return value


def _json_metadata(path: Path, value) -> dict:
    if not isinstance(value, dict):
        raise MotionClipError(f"The motion file '{path.name}' has metadata that is not a JSON object.")
    return value
