"""The Python that runs MediaPipe, and a MediaPipe child started early for `python -m engine track`.

Standard library only at import, so that `engine/__main__.py` can start the child before the command's
imports and the video's probe: the child (`video/mediapipe_worker.py --wait`) loads MediaPipe and
builds its Face Mesh graph meanwhile, then waits for its job (one JSON line) on stdin. The video is
probed and the job sent at once (`engine.video.landmarks.send_early_job`), so ffmpeg starts decoding
during the command's imports too. The first `engine.video.landmarks.LandmarkReader` adopts the child
(`adopt`), and sends the job if that has not happened or was another; a command that fails
before then closes it (`close_early`, which `engine.cli.main.main` always calls). A child whose
parent dies sees its stdin end and exits.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Optional

TRACKER_ENV = "TALKING_HEAD_TRACKER_PYTHON"
PROJECT_TRACKER = Path(__file__).resolve().parents[1] / ".venv-video" / "bin" / "python"
WORKER = Path(__file__).with_name("video") / "mediapipe_worker.py"
WAIT = "--wait"          # the worker's argument for "load MediaPipe, then read the job from stdin"
EARLY_COMMANDS = {"track"}


def find_tracker():
    """(the Python that runs MediaPipe, "") or (None, why there is none, one sentence):
    TALKING_HEAD_TRACKER_PYTHON when set, else this Python when it has mediapipe, else `.venv-video`."""
    chosen = os.environ.get(TRACKER_ENV)
    if chosen:
        if not Path(chosen).is_file():
            return None, f"{TRACKER_ENV} names '{chosen}', which does not exist."
        return chosen, ""
    if importlib.util.find_spec("mediapipe") is not None:
        return sys.executable, ""
    if PROJECT_TRACKER.is_file():
        return str(PROJECT_TRACKER), ""
    return None, ("Finding face landmarks needs MediaPipe 0.10.14 in a Python 3.11 or 3.12: "
                  f"run 'python build.py setup' (it makes .venv-video) or set {TRACKER_ENV}.")


def quiet_env() -> dict:
    """The environment of a MediaPipe child: its logging quiet, no PYTHONPATH of ours, and numpy's
    OpenBLAS without a thread pool (the worker does no matrix work; starting the pool's threads
    cost ~0.05 CPU s of every child's start-up)."""
    env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore",
               OPENBLAS_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)  # the worker needs only numpy and mediapipe of its own Python
    return env


def start_worker(python: str, argument: str, stdin=None):
    """`video/mediapipe_worker.py` started in `python` with `argument` (its job as JSON, or WAIT): its stdout
    a pipe, its stderr a temporary file (not a pipe: MediaPipe's logging can never block it); (process, file)."""
    log = tempfile.TemporaryFile()
    try:
        return subprocess.Popen([python, str(WORKER), argument], stdin=stdin, stdout=subprocess.PIPE, stderr=log,
                                env=quiet_env()), log
    except BaseException:
        log.close()
        raise


@dataclass
class EarlyChild:
    """A waiting MediaPipe child: its Python, the process (stdin and stdout pipes) and its stderr file."""

    python: str
    process: subprocess.Popen
    log: IO[bytes]
    job: Optional[dict] = None      # the job sent already (`send`), None while it waits
    probed: object = None           # the engine.video.decode.VideoInfo that job was made from

    def send(self, job: dict) -> None:
        """Hand the child its job (it starts decoding at once); a child that has ended (MediaPipe
        could not start) is left to say why by its exit status."""
        self.job = job
        try:
            self.process.stdin.write(json.dumps(job).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            pass
        finally:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    def close(self) -> None:
        """Kill the child (it holds no work yet) and wait for it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.log):
            try:
                stream.close()
            except OSError:
                pass


_lock = threading.Lock()
_early: Optional[EarlyChild] = None


def wants_early(argv) -> bool:
    """Whether the command line (without the program) runs a command that tracks a video, and not its help."""
    if any(a in ("-h", "--help") for a in argv):
        return False
    positional = [a for a in argv if not a.startswith("-")]
    return bool(positional) and positional[0] in EARLY_COMMANDS


def waiting() -> Optional[EarlyChild]:
    """The early child not yet adopted, if any (still the caller of `adopt`'s to close)."""
    return _early


def start_early(argv=None, send_job: Optional[Callable] = None) -> bool:
    """Start the waiting MediaPipe child when `argv` (None: sys.argv[1:]) tracks a video and none is
    waiting yet; whether one is waiting now. Any trouble (no tracker Python, ...) just starts none:
    the ordinary start then says what is wrong, in its place among the command's errors.
    `send_job(argv)`, when given, is called once the child runs (`engine.cli.send_early_job`: it probes
    the video and sends the job; this module, standard library only, cannot import the video package)."""
    global _early
    argv = sys.argv[1:] if argv is None else list(argv)
    if not wants_early(argv):
        return False
    with _lock:
        if _early is not None:
            return True
        python, _ = find_tracker()
        if python is None:
            return False
        try:
            process, log = start_worker(python, WAIT, stdin=subprocess.PIPE)
        except OSError:
            return False
        _early = EarlyChild(python, process, log)
    if send_job is None:
        return True
    try:
        send_job(argv)                    # the job too, when the command line is plain enough
    except Exception:  # noqa: BLE001 - a guess only: the command's own probe reports any error in its place
        pass
    return True


def adopt(python: str) -> Optional[EarlyChild]:
    """The waiting child, now the caller's to send a job to and close, if it runs `python`; else None
    (and a waiting child of another Python is closed)."""
    global _early
    with _lock:
        child, _early = _early, None
    if child is not None and child.python != python:
        child.close()
        return None
    return child


def close_early() -> None:
    """Close the waiting child, if one was started and not adopted."""
    global _early
    with _lock:
        child, _early = _early, None
    if child is not None:
        child.close()
