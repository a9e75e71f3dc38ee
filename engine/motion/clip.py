"""MotionClip: named float channels over frames at a frame rate.

Channel names follow `engine.motion.channels` (expression names, `<joint>_r<axis>`
axis-angle pose channels, `global_t<axis>`). Frame k of a clip lands on scene
frame `start_frame + k`, at exactly k / fps seconds after the clip's start.

The class sits above its file formats: `io` (npz/json) and `arkit` (Live Link Face CSV) read and write
the fields, `validation` holds the bounds all of them check, and this module builds the clip
(`load_clip`, `read_arkit_csv`, and the `save` / `load` / `to_arkit_csv` / `from_arkit_csv` methods).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MotionClipError
from . import arkit, io
from . import channels as _channels
from . import resample as _resample
from . import validation
from .validation import MAX_FPS, MAX_START_FRAME, MAX_VALUES, MIN_FPS

__all__ = ["MAX_FPS", "MAX_START_FRAME", "MAX_VALUES", "MIN_FPS", "MotionClip", "load_clip", "read_arkit_csv",
           "save_clip", "write_arkit_csv"]  # the bounds stay readable here, where the CLI reads them


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
        self.names = validation.as_names(self.names)
        self.values = validation.as_values(self.values)
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
        validation.check_names(self.names)
        validation.check_shape(self.values, self.names)
        validation.check_size(self.values)
        validation.check_finite(self.values, self.names, self.start_frame)
        validation.check_timing(self.fps, self.start_frame)
        validation.check_metadata(self.metadata)
        if known_channels is not None:
            validation.check_known(self.names, known_channels)

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
                                  f"it has {validation.listed(self.names)}.") from None

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
        validation.check_timing(fps, self.start_frame)
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
        return save_clip(self, path)

    @classmethod
    def load(cls, path) -> "MotionClip":
        """Read a clip written by `save` (`.npz` or `.json`)."""
        return load_clip(path)

    def to_arkit_csv(self, path, **options) -> Path:
        """Write a Live Link Face ARKit CSV; options as `engine.motion.arkit.write_csv`."""
        return write_arkit_csv(self, path, **options)

    @classmethod
    def from_arkit_csv(cls, path, **options) -> "MotionClip":
        """Read a Live Link Face ARKit CSV; options as `engine.motion.arkit.read_take`."""
        return read_arkit_csv(path, **options)

    def _replace(self, **changes) -> "MotionClip":
        fields = dict(names=list(self.names), values=self.values.copy(), fps=self.fps,
                      start_frame=self.start_frame, metadata=copy.deepcopy(self.metadata))
        fields.update(changes)
        return MotionClip(**fields)


def save_clip(clip: MotionClip, path) -> Path:
    """Write a clip as `.npz` or `.json` (by suffix), atomically; returns the path (formats: `engine.motion.io`)."""
    return io.write_clip(clip, path)


def load_clip(path) -> MotionClip:
    """Read a clip from `.npz` or `.json`; every failure is a one-sentence MotionClipError."""
    return MotionClip(**io.read_clip(path))


def write_arkit_csv(clip: MotionClip, path, **options) -> Path:
    """Write a clip as a Live Link Face CSV, atomically; returns the path. Options (jaw_open_max,
    jaw_side_max, eye_look_max) and the mapping as `engine.motion.arkit.write_csv`."""
    return arkit.write_csv(clip, path, **options)


def read_arkit_csv(path, **options) -> MotionClip:
    """Read a Live Link Face CSV into a MotionClip. Options (fps, start_frame, jaw_as_joint, jaw_open_max,
    jaw_side_max) and how rows become frames as `engine.motion.arkit.read_take`."""
    return MotionClip(**arkit.read_take(path, **options))


def read_clip_file(path) -> MotionClip:
    """A clip from any of its files: `.npz` / `.json` (`load_clip`) or a Live Link Face `.csv` (`read_arkit_csv`)."""
    return read_arkit_csv(path) if Path(path).suffix.lower() == ".csv" else load_clip(path)
