"""The errors video tracking can raise, each one sentence that says what to do."""

from __future__ import annotations

from ..errors import EngineError, InputError


class VideoError(InputError):
    """A video file is missing, not a video, audio-only, a still image, truncated, or has no face."""


class NoFaceError(VideoError):
    """No face was found in the video (or in the chosen part of it)."""


class TrackerMissingError(EngineError):
    """No Python with MediaPipe is available to find the face landmarks."""

    exit_code = 1
