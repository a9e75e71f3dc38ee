"""Errors a user can meet, each with a sentence that says what to do.

Every failure that reaches the CLI or the Blender add-on is an `EngineError`.
The CLI prints `str(error)` (one sentence, no traceback unless `--debug`);
the add-on passes it to `Operator.report({'ERROR'}, ...)`.
"""

from __future__ import annotations


def shown(value) -> str:
    """repr() of a value for a message, a numpy scalar as the Python number it holds: numpy 2 writes
    np.int64(2) where numpy 1 wrote 2, and a sentence should read the same on both."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()
    return repr(value)


class EngineError(Exception):
    """Base class of every user-facing engine error.

    `exit_code` is what the CLI returns: 1 for a failed job, 2 for bad input
    (the argparse convention).
    """

    exit_code = 1


class InputError(EngineError):
    """The user gave us something we cannot use (a file, a value, a name)."""

    exit_code = 2


class AudioError(InputError):
    """An audio file is missing, empty, corrupt, silent where it must not be, or not audio."""


class HeadModelError(InputError):
    """A head model file is missing, of the wrong kind, or has wrong shapes."""


class MotionClipError(InputError):
    """A MotionClip is invalid: NaN/inf values, wrong shapes, unknown channels, no frames."""


class ModelError(EngineError):
    """A trained network is missing, or its sidecar does not match it."""


class Cancelled(EngineError):
    """The user cancelled the job; nothing was written."""

    exit_code = 1

    def __init__(self, message: str = "The job was cancelled; nothing was written.") -> None:
        super().__init__(message)
