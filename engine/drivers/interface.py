"""What every driver is: a `DriveRequest` in, channels {name: float32 [T]} out, and what it declares.

A driver is a function `run(request) -> {channel: values [T]}` with
T = `frame_count(request.audio.duration, request.fps)`, plus a `Driver`
declaration of what it reads (a transcript, the speaking style, a style
reference clip) and what it needs (a model file). Callers decide from the
declarations, never from driver names: "a reference clip needs a driver
that reads one", "the transcript is ignored by this driver".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..audio.load import Audio
from ..errors import InputError, shown
from ..progress import Reporter, silent
from ..style import NEUTRAL, SpeakingStyle
from .models import check_models_dir, find_model

DEVICES = ("auto", "cpu", "gpu")
FPS_RANGE = (1.0, 240.0)
LEAD_RANGE_MS = (-250.0, 250.0)   # how far a driver's mouth may be moved before (or, negative, after) the sound

Channels = dict  # {channel name: values [T] float32}


def frame_count(duration: float, fps: float) -> int:
    """Frames covering `duration` seconds at `fps`: ceil(duration * fps), at least 1."""
    return max(1, int(np.ceil(duration * fps - 1e-9)))


def check_fps(fps) -> float:
    """`fps` as a float; InputError unless it is a finite rate in FPS_RANGE."""
    low, high = FPS_RANGE
    if not (isinstance(fps, (int, float, np.number)) and np.isfinite(fps) and low <= fps <= high):
        raise InputError(f"The frame rate must be between {low:g} and {high:g} fps, not {shown(fps)}.")
    return float(fps)


def check_device(device: str) -> str:
    """`device` when it is one of DEVICES; InputError otherwise."""
    if device not in DEVICES:
        raise InputError(f"Unknown device '{device}'; choose one of: {', '.join(DEVICES)}.")
    return device


def check_lead_ms(lead_ms) -> Optional[float]:
    """A mouth lead in milliseconds as a float (None: the driver's default); InputError unless it is a
    finite number in LEAD_RANGE_MS."""
    if lead_ms is None:
        return None
    low, high = LEAD_RANGE_MS
    if isinstance(lead_ms, bool) or not (isinstance(lead_ms, (int, float, np.number)) and np.isfinite(lead_ms)
                                         and low <= lead_ms <= high):
        raise InputError(f"The mouth lead must be a number of milliseconds from {low:g} to {high:g}, "
                         f"not {shown(lead_ms)}.")
    return float(lead_ms)


@dataclass(frozen=True)
class DriveRequest:
    """Everything a driver may read; checked when made (bad values are one-sentence InputErrors)."""

    audio: Audio                       # the decoded voice
    fps: float                         # the clip's frame rate, in FPS_RANGE
    seed: int = 0                      # seeds every random process (blinks, gaze, sway)
    transcript: Optional[str] = None   # the words spoken, when known
    style: SpeakingStyle = NEUTRAL     # how the voice is performed
    device: str = "auto"               # where a network runs: "auto", "cpu" or "gpu"
    models_dir: Optional[Path] = None  # a folder searched for model files before the shipped ones
    reporter: Reporter = field(default_factory=silent, compare=False)
    lead_ms: Optional[float] = None    # the mouth moves this much before the sound; None: the driver's default

    def __post_init__(self) -> None:
        if not isinstance(self.audio, Audio):
            raise InputError(f"A driver needs decoded audio, not {type(self.audio).__name__}; load it first.")
        if not isinstance(self.style, SpeakingStyle):
            raise InputError(f"The style must be a SpeakingStyle, not {type(self.style).__name__}.")
        object.__setattr__(self, "fps", check_fps(self.fps))
        object.__setattr__(self, "device", check_device(self.device))
        object.__setattr__(self, "models_dir", check_models_dir(self.models_dir))
        object.__setattr__(self, "transcript", self.transcript or None)  # "" is no transcript
        object.__setattr__(self, "lead_ms", check_lead_ms(self.lead_ms))

    @property
    def lead_s(self) -> float:
        """The mouth lead in seconds (0 when none was set)."""
        return (self.lead_ms or 0.0) / 1000.0

    @property
    def frame_count(self) -> int:
        """T: the frames every channel has."""
        return frame_count(self.audio.duration, self.fps)

    @property
    def frame_times(self) -> np.ndarray:
        """[T] seconds from the start of the audio."""
        return np.arange(self.frame_count) / self.fps


@dataclass(frozen=True)
class Driver:
    """One driver's declaration: its name, what it does in a line, how to run it, what it reads and needs."""

    name: str
    summary: str                                 # one line for help texts and menus
    run: Callable[[DriveRequest], Channels]
    reads_transcript: bool = False               # aligns to the words when a transcript is given
    reads_style: bool = False                    # the SpeakingStyle shapes its performance
    reads_reference: bool = False                # a reference clip's style can be read for it (a style encoder)
    model: Optional[str] = None                  # the model file it needs (searched in models_dir, then shipped)
    label: str = ""                              # its name in menus ("ADF network"); the name titled when empty
    lead_ms: Optional[float] = None              # its mouth's default lead on the sound (ms); None: reads no lead

    @property
    def reads_lead(self) -> bool:
        """Whether its mouth can be moved ahead of the sound (`DriveRequest.lead_ms`)."""
        return self.lead_ms is not None

    @property
    def title(self) -> str:
        """The driver's name as a menu shows it."""
        return self.label or self.name.title()

    def model_path(self, models_dir=None) -> Optional[Path]:
        """The model file this driver would load (the user's folder first), None when it needs none or
        none is found."""
        return find_model(self.model, models_dir) if self.model else None

    def available(self, models_dir=None) -> bool:
        """Whether it can run: it needs no model, or its model is found (looked up now, not remembered)."""
        return self.model is None or self.model_path(models_dir) is not None

    def unread(self, request: DriveRequest) -> list[str]:
        """Sentences naming what the request gives that this driver does not read (for warnings)."""
        out = []
        if request.transcript and not self.reads_transcript:
            out.append(f"The {self.name} driver does not read the transcript; it animates from the sound alone.")
        if request.style != NEUTRAL and not self.reads_style:
            out.append(f"The {self.name} driver does not read the speaking style; it animates in its own.")
        if request.lead_ms and not self.reads_lead:
            out.append(f"The {self.name} driver does not read a mouth lead; its mouth follows the sound as it is.")
        return out
