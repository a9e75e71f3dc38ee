"""The rules a job's values must follow, each written once: every front end (the CLI, the add-on's worker,
batch) reaches them through a job's `validate()`, and the CLI's argument types call the same checks.

Each `check_*` returns the value it accepts (or raises one sentence, an InputError); `write_clip` /
`read_clip` are the clip formats every job reads and writes. What a driver accepts (frame rates, devices,
whether it reads a reference clip) is the drivers' own declaration (`engine.drivers`): the rules here ask it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, Optional

from ..drivers.interface import DEVICES, check_device, check_fps, check_lead_ms  # noqa: F401 - the drivers' rules
from ..drivers.registry import DRIVERS
from ..errors import InputError, shown
from ..motion import MotionClip, read_clip_file
from ..motion.clip import MAX_START_FRAME

MAX_SEED = 2**32 - 1
MIN_SIZE, MAX_SIZE = 8, 4096             # a rendered frame's width and height in pixels
CLIP_SUFFIXES = (".npz", ".json", ".csv")  # MotionClip files: lossless .npz / .json, ARKit (Live Link Face) .csv
VIDEO_OUT_SUFFIX = ".mp4"
REFERENCE_NEEDS_ADF = "A reference clip is read by the ADF driver only; choose it, or clear the reference clip."
TRACKER_ENV = "TALKING_HEAD_TRACKER_PYTHON"  # engine.video.landmarks reads the tracker Python from it


def check_seed(seed: int) -> int:
    """The seed of blinks, gaze and head sway: a whole number from 0 to 2**32 - 1."""
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"The seed must be a whole number from 0 to {MAX_SEED}, not {shown(seed)}.")
    return seed


def check_start_frame(frame: int) -> int:
    """The scene frame of a clip's first frame, within a day of timecode at 1000 fps either way."""
    if not -MAX_START_FRAME <= frame <= MAX_START_FRAME:
        raise InputError(f"The start frame must be from {-MAX_START_FRAME} to {MAX_START_FRAME}, not "
                         f"{shown(frame)[:40]}.")
    return frame


def check_size(size: int) -> int:
    """A rendered frame's width and height in pixels."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InputError(f"The frame size must be from {MIN_SIZE} to {MAX_SIZE} pixels, not {shown(size)[:40]}.")
    return size


def check_clip_output(path: str) -> str:
    """A MotionClip file to write: .npz, .json or ARKit .csv."""
    if Path(path).suffix.lower() not in CLIP_SUFFIXES:
        raise InputError(f"The output '{path}' must end in .npz, .json or .csv.")
    return path


def check_video_output(path: str, what: str = "video") -> str:
    """An MP4 file to write."""
    if Path(path).suffix.lower() != VIDEO_OUT_SUFFIX:
        raise InputError(f"The {what} '{path}' must be an .mp4 file.")
    return path


def check_file(path: str, what: str) -> str:
    """A file that must exist (`what` names it for the sentence: "audio file", "reference clip", ...)."""
    if not Path(path).is_file():
        raise InputError(f"The {what} '{path}' does not exist.")
    return path


def check_text(text: str, what: str) -> str:
    """Text that must not be empty (a transcript): returned without its outer white space."""
    if not text.strip():
        raise InputError(f"The {what} is empty; give the words spoken, or leave it out.")
    return text.strip()


def reads_reference(driver: Optional[str]) -> bool:
    """Whether `driver` takes its style from a reference performance (a clip or a talking video), as its
    declaration says; False for a driver that is not known."""
    return any(d.name == driver and d.reads_reference for d in DRIVERS)


def reference_reader() -> str:
    """The best driver that reads a reference clip (the one chosen for a reference when none is named)."""
    return next(d.name for d in DRIVERS if d.reads_reference)


def reference_refusal(driver: Optional[str], reference: Optional[str]) -> str:
    """Why a reference clip cannot be used with `driver` (one sentence), or "" when it can (or none is set)."""
    if reference and str(reference).strip() and not reads_reference(driver):
        return REFERENCE_NEEDS_ADF
    return ""


def read_clip(path) -> MotionClip:
    """A MotionClip from .npz / .json, or from an ARKit (Live Link Face) .csv."""
    return read_clip_file(path)


def write_clip(clip: MotionClip, path) -> Path:
    """Write a clip to .npz / .json (lossless) or .csv (ARKit layout: derived, clipped to [0, 1]), atomically
    (missing folders are made; one that cannot be is a MotionClipError)."""
    path = Path(check_clip_output(str(path)))
    return clip.to_arkit_csv(path) if path.suffix.lower() == ".csv" else clip.save(path)


def make_folder(folder) -> Path:
    """`folder`, made with its parents when missing; InputError when it cannot be."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"The folder '{folder}' cannot be made ({error.strerror or error}); choose a place you "
                         "can write to.") from error
    return folder


@contextlib.contextmanager
def tracker(python: Optional[str]) -> Iterator[None]:
    """While inside, MediaPipe runs in `python` (None: the engine's own search for a tracker Python)."""
    if not python:
        yield
        return
    before = os.environ.get(TRACKER_ENV)
    os.environ[TRACKER_ENV] = python
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(TRACKER_ENV, None)
        else:
            os.environ[TRACKER_ENV] = before
