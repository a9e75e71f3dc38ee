"""MotionClip: named float channels over frames at a frame rate.

Channel names follow `engine.motion.channels` (expression names, `<joint>_r<axis>`
axis-angle pose channels, `global_t<axis>`). Frame k of a clip lands on scene
frame `start_frame + k`, at exactly k / fps seconds after the clip's start.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MotionClipError
from ..files import check_depth
from . import channels as _channels
from . import resample as _resample

MIN_FPS, MAX_FPS = 0.1, 1000.0          # frames per second a clip may have
MAX_START_FRAME = 100_000_000           # a day of timecode at 1000 fps (Live Link Face takes start at the time of day)
MAX_VALUES = 50_000_000                 # frames x channels (200 MB of float32): ~2 days of 61 ARKit channels
MAX_CHANNELS = 4096
MAX_ABS_VALUE = 1e4                     # no channel (weights, radians, metres) comes near it
MAX_METADATA_CHARS = 1 << 20
MAX_METADATA_DEPTH = 32


@dataclass(eq=False)
class MotionClip:
    """Named float channels over frames.

    names [C] channel names (unique, case-insensitively), values [T, C] float32,
    fps frames per second (any positive rate; 23.976 and 29.97 are read as the
    NTSC rates 24000/1001 and 30000/1001 and stored as those floats),
    start_frame the scene frame of the first row, metadata a JSON-serialisable
    dict (source audio, driver, style, model version, ...).
    """

    names: list
    values: np.ndarray
    fps: float
    start_frame: int = 1
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.metadata = {} if self.metadata is None else self.metadata
        self.names = _as_names(self.names)
        self.values = _as_values(self.values)
        self.validate()
        self.fps = float(_resample.rational_fps(self.fps))  # 29.97 -> 30000/1001, as Blender has it
        self.start_frame = int(self.start_frame)

    def __eq__(self, other) -> bool:
        """Exact equality of names, values (bitwise), fps, start frame and metadata."""
        if not isinstance(other, MotionClip):
            return NotImplemented
        return (self.names == other.names and self.fps == other.fps
                and self.start_frame == other.start_frame and self.metadata == other.metadata
                and self.values.shape == other.values.shape and np.array_equal(self.values, other.values))

    def validate(self, known_channels=None) -> None:
        """Raise MotionClipError with the first problem; with `known_channels`, also reject other names."""
        _check_names(self.names)
        _check_shape(self.values, self.names)
        _check_size(self.values)
        _check_finite(self.values, self.names, self.start_frame)
        _check_timing(self.fps, self.start_frame)
        _check_metadata(self.metadata)
        if known_channels is not None:
            _check_known(self.names, known_channels)

    @property
    def num_frames(self) -> int:
        """T, the number of frames."""
        return int(self.values.shape[0])

    @property
    def duration(self) -> float:
        """Seconds covered: T / fps (the clip spans [0, duration))."""
        rate = _resample.rational_fps(self.fps)
        return float(self.num_frames * rate.denominator / rate.numerator)

    @property
    def end_frame(self) -> int:
        """The scene frame of the last row."""
        return self.start_frame + self.num_frames - 1

    def times(self) -> np.ndarray:
        """Times [T] in seconds of each frame from the clip's start, exactly k / fps."""
        return _resample.frame_times(self.num_frames, self.fps)

    def index(self, name: str) -> int:
        """Column of a channel by name (case-insensitive)."""
        lowered = [n.lower() for n in self.names]
        try:
            return lowered.index(str(name).lower())
        except ValueError:
            raise MotionClipError(f"The motion clip has no channel named '{name}'; "
                                  f"it has {_listed(self.names)}.") from None

    def has_channel(self, name: str) -> bool:
        """Whether a channel of that name (case-insensitive) exists."""
        return str(name).lower() in {n.lower() for n in self.names}

    def channel(self, name: str) -> np.ndarray:
        """Values [T] of one channel (case-insensitive name); a copy."""
        return self.values[:, self.index(name)].copy()

    def select(self, names) -> "MotionClip":
        """A clip with only the named channels [C'], in that order (names matched case-insensitively)."""
        columns = [self.index(n) for n in names]
        return self._replace(names=[self.names[c] for c in columns], values=self.values[:, columns])

    def with_channels(self, updates: dict) -> "MotionClip":
        """A clip with channels added or replaced: updates maps a name to values [T].

        A name that exists (case-insensitively) replaces that column and keeps
        its spelling; a new name is appended.
        """
        names, values = list(self.names), [self.values[:, c] for c in range(len(self.names))]
        for name, column in updates.items():
            column = np.asarray(column, dtype=np.float32)
            if column.shape != (self.num_frames,):
                raise MotionClipError(f"The new channel '{name}' has shape {column.shape}; "
                                      f"expected ({self.num_frames},), one value per frame.")
            if self.has_channel(name):
                values[self.index(name)] = column
            else:
                names.append(str(name))
                values.append(column)
        return self._replace(names=names, values=np.stack(values, axis=1))

    def without_channels(self, names) -> "MotionClip":
        """A clip without the named channels (case-insensitive); unknown names are an error."""
        drop = {self.index(n) for n in names}
        return self.select([n for c, n in enumerate(self.names) if c not in drop])

    def head_params(self, head) -> dict:
        """The head's parameter arrays: {"expression": [T, E], "pose": [T, 5, 3], "translation": [T, 3]}."""
        return _channels.head_params(self.names, self.values, head.expression_names)

    def resample(self, fps: float, method: str = "makima") -> "MotionClip":
        """This clip at another frame rate (exact time grid; see `engine.motion.resample`).

        `method` ("makima" or "pchip") is the curve between source frames; the
        same rate gives an identical copy. T' = round(T * fps / self.fps),
        halves up. start_frame is kept; metadata gains `resampled_from_fps` and
        keeps (or sets) `source_fps`, the rate the clip was made at.
        """
        _check_timing(fps, self.start_frame)
        if _resample.rational_fps(fps) == _resample.rational_fps(self.fps):
            return self.copy()
        if method not in _resample.METHODS:
            raise MotionClipError(f"Unknown resampling method '{method}'; use 'makima' or 'pchip'.")
        frames = self.num_frames * float(fps) / float(self.fps)
        if frames * len(self.names) > MAX_VALUES:
            raise MotionClipError(f"At {float(fps):g} fps the clip would have {frames:.0f} frames of "
                                  f"{len(self.names)} channels, more than a clip may hold ({MAX_VALUES} values).")
        values = _resample.resample_values(self.values, self.fps, fps, method)
        metadata = dict(self.metadata, resampled_from_fps=float(self.fps))
        metadata.pop("timecode_offsets", None)  # a CSV take's timecodes belong to its own frames
        metadata.setdefault("source_fps", float(self.fps))
        return self._replace(values=values, fps=float(_resample.rational_fps(fps)), metadata=metadata)

    def copy(self) -> "MotionClip":
        """A deep copy."""
        return self._replace()

    def save(self, path) -> Path:
        """Write `.npz` (lossless, numpy-readable) or `.json`; returns the path."""
        from . import io
        return io.save_clip(self, path)

    @classmethod
    def load(cls, path) -> "MotionClip":
        """Read a clip written by `save` (`.npz` or `.json`)."""
        from . import io
        return io.load_clip(path)

    def to_arkit_csv(self, path, **options) -> Path:
        """Write a Live Link Face ARKit CSV; options as `engine.motion.arkit.write_arkit_csv`."""
        from . import arkit
        return arkit.write_arkit_csv(self, path, **options)

    @classmethod
    def from_arkit_csv(cls, path, **options) -> "MotionClip":
        """Read a Live Link Face ARKit CSV; options as `engine.motion.arkit.read_arkit_csv`."""
        from . import arkit
        return arkit.read_arkit_csv(path, **options)

    def _replace(self, **changes) -> "MotionClip":
        fields = dict(names=list(self.names), values=self.values.copy(), fps=self.fps,
                      start_frame=self.start_frame, metadata=copy.deepcopy(self.metadata))
        fields.update(changes)
        return MotionClip(**fields)


def _listed(names, limit: int = 8) -> str:
    shown = ", ".join(f"'{n}'" for n in list(names)[:limit])
    more = len(names) - limit
    return shown + (f" and {more} more" if more > 0 else "") if names else "no channels"


def _as_names(names) -> list:
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise MotionClipError("The motion clip's channel names must be a list of strings.")
    names = list(names)
    if not all(isinstance(n, (str, np.str_)) for n in names):
        raise MotionClipError("The motion clip's channel names must all be strings.")
    return [str(n) for n in names]


def _as_values(values) -> np.ndarray:
    try:
        with np.errstate(over="ignore"):
            return np.array(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise MotionClipError("The motion clip's values must be a numeric [frames, channels] array.") from None


def _check_names(names) -> None:
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


def _check_size(values: np.ndarray) -> None:
    """MotionClipError for more channels or values than any clip has (checked before validating values)."""
    if values.ndim == 2 and (values.shape[1] > MAX_CHANNELS or values.size > MAX_VALUES):
        raise MotionClipError(f"The motion clip has {values.shape[0]} frames of {values.shape[1]} channels, more "
                              f"than a clip may hold ({MAX_CHANNELS} channels, {MAX_VALUES} values); split it.")


def _check_shape(values: np.ndarray, names) -> None:
    if values.ndim != 2:
        raise MotionClipError(f"The motion clip's values must be a 2-D [frames, channels] array, "
                              f"not shape {values.shape}.")
    if values.shape[1] != len(names):
        raise MotionClipError(f"The motion clip has {values.shape[1]} value columns "
                              f"but {len(names)} channel names.")
    if values.shape[0] == 0:
        raise MotionClipError("The motion clip has no frames.")


def _check_finite(values: np.ndarray, names, start_frame) -> None:
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


def _check_timing(fps, start_frame) -> None:
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


def _check_metadata(metadata) -> None:
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


def _check_known(names, known_channels) -> None:
    known = {str(n).lower() for n in known_channels}
    unknown = [n for n in names if n.lower() not in known]
    if unknown:
        raise MotionClipError(f"The motion clip has channels the target does not know: {_listed(unknown)}.")
