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
        raise ModelError(f"'{name}' has an unknown mode {sidecar.get('mode')!r}; {REMAKE} with this engine.")
    if tuple(sidecar.get("condition_channels", ())) != tuple(conditions):
        raise ModelError(f"'{name}' was distilled for other condition channels than this head's; distil and "
                         "export it again for this head.")
    encoding = sidecar.get("encoding", {})
    points = encoding.get("num_points")
    if encoding.get("input") != ENCODING_INPUT or not isinstance(points, int) or points < 1:
        raise ModelError(f"'{name}' expects a ray encoding this engine does not make ({encoding}); {REMAKE} "
                         "with this engine.")
    sidecar_box(sidecar, name)


def sidecar_box(sidecar: dict, name: str) -> Box:
    """The head box the look was distilled in; ModelError when the sidecar's box is malformed."""
    box = sidecar.get("box", {})
    try:
        low, high = (tuple(float(v) for v in box[k]) for k in ("low", "high"))
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"'{name}' has no valid head box in its sidecar; {REMAKE}.") from None
    if len(low) != 3 or len(high) != 3 or not all(a < b for a, b in zip(low, high)):
        raise ModelError(f"'{name}' has no valid head box in its sidecar; {REMAKE}.")
    return Box(low, high)
