"""What a MotionClip may hold, and the checks that say in one sentence why a clip does not.

The class (`engine.motion.clip`) and the file readers (`engine.motion.io`,
`engine.motion.arkit`) all check against these bounds; this module imports
neither, so the readers need not import the class they build.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..errors import MotionClipError
from ..files import check_depth

MIN_FPS, MAX_FPS = 0.1, 1000.0          # frames per second a clip may have
MAX_START_FRAME = 100_000_000           # a day of timecode at 1000 fps (Live Link Face takes start at the time of day)
MAX_VALUES = 50_000_000                 # frames x channels (200 MB of float32): ~2 days of 61 ARKit channels
MAX_CHANNELS = 4096
MAX_ABS_VALUE = 1e4                     # no channel (weights, radians, metres) comes near it
MAX_METADATA_CHARS = 1 << 20
MAX_METADATA_DEPTH = 32


def listed(names, limit: int = 8) -> str:
    """The first `limit` names quoted, then how many more: "'a', 'b' and 3 more"."""
    shown = ", ".join(f"'{n}'" for n in list(names)[:limit])
    more = len(names) - limit
    return shown + (f" and {more} more" if more > 0 else "") if names else "no channels"


def as_names(names) -> list:
    """Channel names [C] as a list of str; MotionClipError unless a list of strings."""
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise MotionClipError("The motion clip's channel names must be a list of strings.")
    names = list(names)
    if not all(isinstance(n, (str, np.str_)) for n in names):
        raise MotionClipError("The motion clip's channel names must all be strings.")
    return [str(n) for n in names]


def as_values(values) -> np.ndarray:
    """Values as a float32 array (any shape: `check_shape` says what it must be)."""
    try:
        with np.errstate(over="ignore"):
            return np.array(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise MotionClipError("The motion clip's values must be a numeric [frames, channels] array.") from None


def check_names(names) -> None:
    """Names [C] are at least one, none empty, unique ignoring case."""
    if not names:
        raise MotionClipError("The motion clip has no channels; give it at least one named channel.")
    for column, name in enumerate(names):
        if not name.strip():
            raise MotionClipError(f"The motion clip has an empty channel name in column {column}.")
    seen = {}
    for name in names:
        if name.lower() in seen:
            raise MotionClipError(f"The motion clip has duplicate channel names "
                                  f"'{seen[name.lower()]}' and '{name}' (names ignore case).")
        seen[name.lower()] = name


def check_size(values: np.ndarray) -> None:
    """MotionClipError for more channels or values than any clip has (checked before validating values)."""
    if values.ndim == 2 and (values.shape[1] > MAX_CHANNELS or values.size > MAX_VALUES):
        raise MotionClipError(f"The motion clip has {values.shape[0]} frames of {values.shape[1]} channels, more "
                              f"than a clip may hold ({MAX_CHANNELS} channels, {MAX_VALUES} values); split it.")


def check_shape(values: np.ndarray, names) -> None:
    """Values are [T, C] with T >= 1 and C = len(names)."""
    if values.ndim != 2:
        raise MotionClipError(f"The motion clip's values must be a 2-D [frames, channels] array, "
                              f"not shape {values.shape}.")
    if values.shape[1] != len(names):
        raise MotionClipError(f"The motion clip has {values.shape[1]} value columns "
                              f"but {len(names)} channel names.")
    if values.shape[0] == 0:
        raise MotionClipError("The motion clip has no frames.")


def check_finite(values: np.ndarray, names, start_frame) -> None:
    """Values [T, C] are finite and within +-MAX_ABS_VALUE; the error names the first bad channel and frame."""
    bad = ~np.isfinite(values)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        kind = "NaN" if np.isnan(values[row, column]) else "an infinite value"
        frame = row + start_frame if isinstance(start_frame, (int, np.integer)) else row
        raise MotionClipError(f"The motion clip has {kind} in channel '{names[column]}' "
                              f"at frame {frame} (row {row}).")
    big = np.abs(values) > MAX_ABS_VALUE
    if big.any():
        row, column = np.argwhere(big)[0]
        raise MotionClipError(f"The motion clip has the value {float(values[row, column]):.3g} in channel "
                              f"'{names[column]}' (row {row}), far outside any channel's range "
                              f"(+-{MAX_ABS_VALUE:g}).")


def check_timing(fps, start_frame) -> None:
    """fps is a number in [MIN_FPS, MAX_FPS] and start_frame a whole number within +-MAX_START_FRAME."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not math.isfinite(fps) or not MIN_FPS <= fps <= MAX_FPS:
        raise MotionClipError(f"The motion clip's frame rate must be a number from {MIN_FPS:g} to {MAX_FPS:g} "
                              f"frames per second, not {_short(fps)}.")
    if isinstance(start_frame, bool) or not isinstance(start_frame, (int, np.integer)):
        raise MotionClipError(f"The motion clip's start frame must be a whole number, not {_short(start_frame)}.")
    if abs(int(start_frame)) > MAX_START_FRAME:
        raise MotionClipError(f"The motion clip's start frame {_short(start_frame)} is outside the frames a clip "
                              f"may start at (-{MAX_START_FRAME:.0e} to {MAX_START_FRAME:.0e}).")


def _short(value) -> str:
    """repr(value), cut to 40 characters (a 400-digit number is no use in a sentence)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"{float(value):.3g}"
    return text if len(text) <= 40 else text[:37] + "..."


def check_metadata(metadata) -> None:
    """Metadata is a dict of plain JSON, at most MAX_METADATA_DEPTH deep and MAX_METADATA_CHARS long."""
    if not isinstance(metadata, dict):
        raise MotionClipError("The motion clip's metadata must be a dict.")
    try:
        check_depth(metadata, MAX_METADATA_DEPTH)
        text = json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise MotionClipError(f"The motion clip's metadata is not plain JSON ({str(error)[:80]}).") from None
    if len(text) > MAX_METADATA_CHARS:
        raise MotionClipError(f"The motion clip's metadata is {len(text)} characters of JSON, more than "
                              f"{MAX_METADATA_CHARS}; keep it to a description of the clip.")


def check_known(names, known_channels) -> None:
    """Every name [C] is one of `known_channels` (ignoring case)."""
    known = {str(n).lower() for n in known_channels}
    unknown = [n for n in names if n.lower() not in known]
    if unknown:
        raise MotionClipError(f"The motion clip has channels the target does not know: {listed(unknown)}.")
