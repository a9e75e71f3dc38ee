"""Fixtures of the video tests: a known-answer video of the built-in head, and ffmpeg-made variants."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engine.bench import video_known as known_answers  # noqa: E402


needs_tracker = pytest.mark.skipif(not known_answers.has_tracker(), reason="no Python with mediapipe 0.10.14 "
                                   "(.venv-video from build.py setup, or TALKING_HEAD_TRACKER_PYTHON)")


def ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True)


@pytest.fixture(scope="session")
def known_video(tmp_path_factory) -> Path:
    """40 frames (1.6 s, 256², 25 fps) of the built-in head turning, nodding, blinking twice, with a tone."""
    return known_answers.render_video(tmp_path_factory.mktemp("video") / "known.mp4")
