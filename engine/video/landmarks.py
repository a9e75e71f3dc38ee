"""MediaPipe Face Mesh landmarks (478 points with irises) for every frame of a video.

MediaPipe runs in a child process (`mediapipe_worker.py`) of a "tracker Python":
TALKING_HEAD_TRACKER_PYTHON when set, else this Python when it has mediapipe,
else the project's `.venv-video` (made by `python build.py setup`). The child
decodes the video with ffmpeg itself and sends back only the landmarks, so the
decoding and MediaPipe run beside the fitting on a second core, and a Blender
whose Python has no MediaPipe wheel (3.13) tracks through the same door.
"""

from __future__ import annotations

import argparse
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from .. import early_tracker
from ..progress import Reporter, silent
from . import decode
from .errors import TrackerMissingError, VideoError

NUM_POINTS = 478
RECORD = 2 + 3 * NUM_POINTS
WORKER = early_tracker.WORKER
TRACKER_ENV = early_tracker.TRACKER_ENV
PROJECT_TRACKER = early_tracker.PROJECT_TRACKER
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
    python, why = early_tracker.find_tracker()
    if python is None:
        raise TrackerMissingError(why)
    return python


def track_landmarks(info: decode.VideoInfo, start: float = 0.0, end: Optional[float] = None,
                    reporter: Optional[Reporter] = None, meanwhile: Optional[Callable[[], None]] = None
                    ) -> VideoLandmarks:
    """MediaPipe landmarks of every frame of `info` between start and end seconds.

    `meanwhile` (optional) is called once the child runs, for work that can overlap with it.
    """
    reporter = reporter or silent()
    reporter.stage("finding face landmarks", info.frame_count(start, end))
    with LandmarkReader(info, start, end) as reader:
        if meanwhile is not None:
            meanwhile()
        count, ended = 0, False
        while not ended:
            count, ended = reader.wait(count, timeout=0.1)
            reporter.update(count)
    return reader.landmarks()


class LandmarkReader:
    """The MediaPipe child of one stretch of video, its records collected by a thread as they come.

    The thread drains the child's pipe at once, so MediaPipe never waits on the caller (who may be
    fitting the first frames meanwhile). Use as a context manager; `wait` for more records,
    `records(a, b)` [b - a, RECORD] float32 reads them, `landmarks()` after the block gives them all.
    """

    def __init__(self, info: decode.VideoInfo, start: float = 0.0, end: Optional[float] = None) -> None:
        self.info, self.start, self.end = info, start, end
        job = worker_job(info, start, end)
        self._records = np.empty((max(info.frame_count(start, end), 1) + 8, RECORD), np.float32)
        self._count, self._ended, self._ready = 0, False, threading.Condition()
        python = tracker_python()
        early = early_tracker.adopt(python)      # one started before the command's imports, MediaPipe loaded
        if early is not None and early.job not in (None, job):
            early.close()                        # it was sent a guess of another job (send_early_job)
            early = None
        if early is not None:
            self.process, self._log = early.process, early.log
            if early.job is None:
                early.send(job)
        else:
            self.process, self._log = early_tracker.start_worker(python, json.dumps(job))
        self._thread = threading.Thread(target=self._read, name="landmark reader", daemon=True)
        self._thread.start()

    def __enter__(self) -> "LandmarkReader":
        return self

    def __exit__(self, kind, error, trace) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._thread.join()
        self._log.seek(0)
        err = self._log.read().decode(errors="replace")
        self._log.close()
        if kind is None:
            _check_worker(self.process.returncode, err, self.info)

    def _read(self) -> None:
        size = RECORD * 4
        try:
            while True:
                data = self.process.stdout.read(size)
                if len(data) < size:
                    return
                with self._ready:
                    if self._count == self._records.shape[0]:
                        self._records = np.concatenate([self._records, np.empty_like(
                            self._records[: max(64, self._count // 2)])])
                    self._records[self._count] = np.frombuffer(data, np.float32)
                    self._count += 1
                    self._ready.notify_all()
        finally:
            with self._ready:
                self._ended = True
                self._ready.notify_all()

    def wait(self, seen: int, timeout: float = 0.1):
        """(records so far, whether the child has ended) once there are more than `seen`, it ended, or timeout."""
        with self._ready:
            self._ready.wait_for(lambda: self._count > seen or self._ended, timeout)
            return self._count, self._ended

    def records(self, first: int, stop: int) -> np.ndarray:
        """A copy of records [first, stop) [stop - first, RECORD] float32."""
        with self._ready:
            return self._records[first:stop].copy()

    def landmarks(self) -> VideoLandmarks:
        """Every record as VideoLandmarks; VideoError when the child gave none."""
        records, info = self._records[:self._count], self.info
        if records.shape[0] == 0:
            until = "the end" if self.end is None else f"{self.end:g} s"
            raise VideoError(f"No frames could be read from '{info.name}' between {self.start:g} s and {until}.")
        return as_landmarks(records, info, self.start)


def worker_job(info: decode.VideoInfo, start: float = 0.0, end: Optional[float] = None) -> dict:
    """The JSON job of `mediapipe_worker.py` for a stretch of `info`."""
    width, height = info.analysis_size()
    return {"command": decode.decode_command(info, start, end), "width": width, "height": height,
            "full_width": info.width, "full_height": info.height, "max_faces": 2}


class _Quiet(argparse.ArgumentParser):
    def error(self, message):
        raise ValueError(message)


def send_early_job(argv) -> None:
    """Probe the video of a `track` command line (`argv` without the program) and send the waiting early
    child (`early_tracker`) its job, so ffmpeg starts during the command's imports. A guess: the reader
    sends the real job, or starts another child, when this one differs; errors are the caller's to drop."""
    child = early_tracker.waiting()
    if child is None or child.job is not None:
        return
    guess = _Quiet(add_help=False)
    guess.add_argument("video")
    for option in ("-o", "--head", "--landmarks", "--overlay"):
        guess.add_argument(option)
    guess.add_argument("--start", type=float, default=0.0)
    guess.add_argument("--end", type=float, default=None)
    args, _ = guess.parse_known_args(argv[argv.index("track") + 1:])
    info = decode.probe_video(args.video)
    start, end = decode.checked_range(info, args.start, args.end)
    if early_tracker.waiting() is child:
        child.probed = info
        child.send(worker_job(info, start, end))


def early_probe(path) -> Optional[decode.VideoInfo]:
    """The probe of `path` that the early child's job was made from, if it is that video's."""
    child = early_tracker.waiting()
    info = None if child is None else child.probed
    return info if info is not None and info.path == Path(path) else None


def as_landmarks(records: np.ndarray, info: decode.VideoInfo, start: float) -> VideoLandmarks:
    """Records [T, RECORD] of the child as VideoLandmarks of `info` from `start` seconds."""
    points = records[:, 2:].reshape(-1, NUM_POINTS, 3)
    return VideoLandmarks(points, records[:, 0].astype(np.int32), records[:, 1], float(info.fps), start,
                          info.width, info.height)


def _check_worker(code: int, err: str, info) -> None:
    lines = [line for line in err.splitlines() if line.startswith(("error: ", "decoder: "))]
    if code == 3:
        message = lines[-1][len("error: "):] if lines else "MediaPipe could not start."
        raise TrackerMissingError(message)
    if code not in (0, -9):
        last = lines[-1] if lines else (err.strip().splitlines() or ["no message"])[-1]
        raise VideoError(f"Finding face landmarks in '{info.name}' failed ({last[:200]}).")
