"""What every CLI command shares: the progress bar, and argument types whose checks are the job layer's rules."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..jobs import rules
from ..motion.clip import MAX_FPS, MIN_FPS
from ..progress import Reporter, TerminalBar


def reporter() -> Reporter:
    """A reporter drawing a terminal progress bar for stages longer than a second."""
    return Reporter(TerminalBar())


def ranged(kind, low, high, what: str):
    """An argparse type: `kind` (int or float) from `low` to `high`, else a one-line usage error."""
    def parse(text: str):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{what} must be a number, not {text[:40]!r}") from None
        if not low <= value <= high:  # NaN fails too
            raise argparse.ArgumentTypeError(f"{what} must be from {low:g} to {high:g}, not {text[:40]}")
        return value

    return parse


def job_value(kind, check, what: str):
    """An argparse type for a job's value: `kind` (int or float) read, then the job layer's rule `check`, whose
    sentence is the usage error (so the rule is written once, in `engine.jobs.rules`)."""
    def parse(text: str):
        try:
            value = kind(text)
        except (TypeError, ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"{what} must be a number, not {text[:40]!r}") from None
        try:
            return check(value)
        except InputError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


SEED = job_value(int, rules.check_seed, "the seed")
LEAD_MS = job_value(float, rules.check_lead_ms, "the mouth lead")
START_FRAME = job_value(int, rules.check_start_frame, "the start frame")
ANIMATE_FPS = job_value(float, rules.check_fps, "the frame rate")
FRAME_SIZE = job_value(int, rules.check_size, "the frame size in pixels")
FPS = ranged(float, MIN_FPS, MAX_FPS, "the frame rate")   # a clip's rate (resampling), not a job's
