"""MediaPipe Face Mesh landmarks (478 points with irises) for every frame of a video.

MediaPipe runs in a child process (`mediapipe_worker.py`) of a "tracker Python":
TALKING_HEAD_TRACKER_PYTHON when set, else this Python when it has mediapipe,
else the project's `.venv-video` (made by `python build.py setup`). The child
decodes the video with ffmpeg itself and sends back only the landmarks, so the
decoding and MediaPipe run beside the fitting on a second core, and a Blender
whose Python has no MediaPipe wheel (3.13) tracks through the same door.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..progress import Reporter, silent
from . import decode
from .errors import TrackerMissingError, VideoError

NUM_POINTS = 478
RECORD = 2 + 3 * NUM_POINTS
WORKER = Path(__file__).with_name("mediapipe_worker.py")
TRACKER_ENV = "TALKING_HEAD_TRACKER_PYTHON"
PROJECT_TRACKER = Path(__file__).resolve().parents[2] / ".venv-video" / "bin" / "python"
SECOND_FACE_RATIO = 0.15   # a second face at least this big (by area) earns a warning


@dataclass
class VideoLandmarks:
    """Landmarks of a stretch of video.

    points [T, 478, 3] float32 in full-size upright pixels (x right, y down, z
    MediaPipe's relative depth in x's units), NaN on frames without a face;
    faces [T] how many faces MediaPipe saw; second_face [T] the second face's
    area over the first's (0 without one); fps the time grid, start seconds.
    """

    points: np.ndarray
    faces: np.ndarray
    second_face: np.ndarray
    fps: float
    start: float
    width: int
    height: int

    @property
    def found(self) -> np.ndarray:
        """Frames [T] bool where a face was found."""
        return self.faces > 0


def tracker_python() -> str:
    """The Python that runs MediaPipe; TrackerMissingError (one sentence) when there is none."""
    chosen = os.environ.get(TRACKER_ENV)
    if chosen:
        if not Path(chosen).is_file():
            raise TrackerMissingError(f"{TRACKER_ENV} names '{chosen}', which does not exist.")
        return chosen
    if importlib.util.find_spec("mediapipe") is not None:
        return sys.executable
    if PROJECT_TRACKER.is_file():
        return str(PROJECT_TRACKER)
    raise TrackerMissingError("Finding face landmarks needs MediaPipe 0.10.14 in a Python 3.11 or 3.12: "
                              f"run 'python build.py setup' (it makes .venv-video) or set {TRACKER_ENV}.")


def track_landmarks(info: decode.VideoInfo, start: float = 0.0, end: Optional[float] = None,
                    reporter: Optional[Reporter] = None, meanwhile: Optional[Callable[[], None]] = None
                    ) -> VideoLandmarks:
    """MediaPipe landmarks of every frame of `info` between start and end seconds.

    `meanwhile` (optional) is called once the child runs, for work that can overlap with it.
    """
    reporter = reporter or silent()
    expected = info.frame_count(start, end)
    reporter.stage("finding face landmarks", expected)
    records = _run_worker(info, start, end, expected, reporter, meanwhile)
    if records.shape[0] == 0:
        raise VideoError(f"No frames could be read from '{info.name}' between {start:g} s and "
                         f"{'the end' if end is None else f'{end:g} s'}.")
    points = records[:, 2:].reshape(-1, NUM_POINTS, 3)
    return VideoLandmarks(points, records[:, 0].astype(np.int32), records[:, 1], float(info.fps), start,
                          info.width, info.height)


def _run_worker(info, start, end, expected: int, reporter: Reporter, meanwhile=None) -> np.ndarray:
    width, height = info.analysis_size()
    job = {"command": decode.decode_command(info, start, end), "width": width, "height": height,
           "full_width": info.width, "full_height": info.height, "max_faces": 2}
    out = np.empty((max(expected, 1) + 8, RECORD), np.float32)
    with tempfile.TemporaryFile() as log:     # a file, not a pipe: MediaPipe's logging can never block it
        process = subprocess.Popen([tracker_python(), str(WORKER), json.dumps(job)], stdout=subprocess.PIPE,
                                   stderr=log, env=_quiet_env())
        n = 0
        try:
            if meanwhile is not None:
                meanwhile()
            n, out = _read_records(process, out, reporter)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            log.seek(0)
            err = log.read().decode(errors="replace")
    _check_worker(process.returncode, err, info)
    return out[:n]


def _read_records(process, out: np.ndarray, reporter: Reporter):
    n, size = 0, RECORD * 4
    while True:
        data = process.stdout.read(size)
        if len(data) < size:
            return n, out
        if n == out.shape[0]:
            out = np.concatenate([out, np.empty_like(out[: max(64, n // 2)])])
        out[n] = np.frombuffer(data, np.float32)
        n += 1
        reporter.update(n)


def _quiet_env() -> dict:
    env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    env.pop("PYTHONPATH", None)  # the worker needs only numpy and mediapipe of its own Python
    return env


def _check_worker(code: int, err: str, info) -> None:
    lines = [line for line in err.splitlines() if line.startswith(("error: ", "decoder: "))]
    if code == 3:
        message = lines[-1][len("error: "):] if lines else "MediaPipe could not start."
        raise TrackerMissingError(message)
    if code not in (0, -9):
        last = lines[-1] if lines else (err.strip().splitlines() or ["no message"])[-1]
        raise VideoError(f"Finding face landmarks in '{info.name}' failed ({last[:200]}).")
