"""Writing a motion file (`.npz`, `.json`, ARKit CSV): atomically, with a sentence when it cannot be written."""

from __future__ import annotations

from pathlib import Path

from ..errors import MotionClipError
from ..files import os_reason, write_atomically


def write_motion_file(path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file renamed over it (see `engine.files.write_atomically`),
    so a killed run leaves the old file or none; MotionClipError when the folder cannot be written."""
    try:
        return write_atomically(Path(path), data)
    except OSError as error:
        raise MotionClipError(f"The motion file '{path}' could not be written ({os_reason(error)}); "
                              "choose a folder you can write to and a shorter name.") from error
