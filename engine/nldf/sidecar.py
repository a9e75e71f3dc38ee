"""The sidecar of a look's network (`nldf_<look>.json` beside `nldf_<look>.onnx`), checked before use.

Every refusal is a `ModelError` whose sentence says what is wrong and what to do.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelError
from ..render.rays import Box
from ..sidecar import read_checked_sidecar

FORMAT_VERSION = 2  # 2: super-resolution graphs take the grid's size as an input (any frame size)
KIND = "nldf"
MODES = ("rays", "superres")
ENCODING_INPUT = "box-normalised segment points"  # what the graph's `points` input holds
REMAKE = "re-export it with 'python -m engine.training.nldf export'"


def read_sidecar(onnx_path: Path) -> dict:
    """The sidecar of `onnx_path`: present, readable, of kind "nldf" and this format, its sha256 matching."""
    return read_checked_sidecar(onnx_path, KIND, FORMAT_VERSION, REMAKE, noun="look model",
                                expected=f"a look ({KIND!r})", hint="choose an nldf_<look>.onnx")


def check_contents(sidecar: dict, name: str, conditions: tuple) -> None:
    """Refuse a sidecar whose mode, box, encoding or condition channels this engine cannot serve.

    conditions: the channel names the head gives (`engine.nldf.condition.condition_names`).
    """
    if sidecar.get("mode") not in MODES:
        raise ModelError(f"'{name}' has an unknown mode {str(sidecar.get('mode'))[:40]!r}; {REMAKE} with this "
                         "engine.")
    channels = sidecar.get("condition_channels", ())
    if not isinstance(channels, list) or tuple(channels) != tuple(conditions):
        raise ModelError(f"'{name}' was distilled for other condition channels than this head's; distil and "
                         "export it again for this head.")
    encoding = sidecar.get("encoding", {})
    points = encoding.get("num_points") if isinstance(encoding, dict) else None
    if not isinstance(encoding, dict) or encoding.get("input") != ENCODING_INPUT or not _whole(points, 1, 4096):
        raise ModelError(f"'{name}' expects a ray encoding this engine does not make; {REMAKE} with this engine.")
    sizes = sidecar.get("image_sizes", "any")
    if not _whole(sidecar.get("ray_stride", 1), 1, 64) or not _whole(sidecar.get("trained_size", 0), 0, 8192) \
            or not (sizes == "any" or (isinstance(sizes, list) and all(_whole(n, 1, 8192) for n in sizes))):
        raise ModelError(f"'{name}' has a malformed ray stride, trained size or image sizes; {REMAKE}.")
    sidecar_box(sidecar, name)


def _whole(value, low: int, high: int) -> bool:
    """Whether `value` is an int (not a bool) from `low` to `high`."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def sidecar_box(sidecar: dict, name: str) -> Box:
    """The head box the look was distilled in; ModelError when the sidecar's box is malformed."""
    box = sidecar.get("box", {})
    try:
        low, high = (tuple(float(v) for v in box[k][:4]) for k in ("low", "high"))
    except (KeyError, TypeError, ValueError, OverflowError):
        raise ModelError(f"'{name}' has no valid head box in its sidecar; {REMAKE}.") from None
    if len(low) != 3 or len(high) != 3 or not all(-1e3 < a < b < 1e3 for a, b in zip(low, high)):
        raise ModelError(f"'{name}' has no valid head box in its sidecar; {REMAKE}.")
    return Box(low, high)
