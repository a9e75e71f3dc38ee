"""Run the engine in a child process: start it, read its progress, cancel it, collect its result.

No bpy here, so a `Job` is testable without Blender; the operators drive it
from Blender's main thread and are the only ones to write keys, images or
strips, after the child has returned a complete result. A crash of the child
cannot take Blender with it. What the child runs is an engine job
(`engine.jobs`, re-exported here), the very description the CLI builds, so
every rule of a job is checked once, by the engine:

- `AnimateJob`: a voice clip in, a complete MotionClip out (`Job.clip`);
- `RenderJob`: a MotionClip file in, one RGBA PNG per clip frame out, moved
  into the job's output folder only once every frame is there (`Job.frames`);
- `TrackJob`: a talking video in, its tracked performance out, a MotionClip
  at the video's rate whose metadata carries the fit's quality (`Job.clip`,
  as for animate).

The protocol with the child (`worker.py`, run by a plain Python interpreter):

- parent -> child stdin: one JSON line, the launch message
  `{"job": the job's JSON (`to_json()`, "kind" and "version" in it) writing into the run's own folder
  ("<tmp>/clip.npz" or "<tmp>/frames"), "engine_dir": ..., "sys_path": [...]}`; stdin then stays open:
  the child exits when it closes (the parent is gone).
- child -> parent stdout, JSON lines:
  `{"stage": str, "done": int, "total": int, "message": str}` progress,
  `{"result": "<tmp>/clip.npz"}` the complete clip, written atomically (or the folder of every frame),
  `{"error": "<one sentence>", "kind": "AudioError"}` a failure the user can act on.
- exit code 0 after a result or an error; anything else is a crash.
"""

from __future__ import annotations

import importlib
import json
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

from . import engine

engine_jobs = importlib.import_module(engine.__name__ + ".jobs")       # the engine's job layer
rules = importlib.import_module(engine.__name__ + ".jobs.rules")
AnimateJob, RenderJob, TrackJob = engine_jobs.AnimateJob, engine_jobs.RenderJob, engine_jobs.TrackJob
reads_reference, reference_refusal = rules.reads_reference, rules.reference_refusal

WORKER = Path(__file__).resolve().with_name("worker.py")
CANCEL_GRACE_S = 2.0      # seconds a cancelled child gets to stop before it is killed
LOG_TAIL_CHARS = 4000     # how much of the child's stderr a failed job keeps for the console
CRASH_KINDS = ("Crash", "InternalError")   # failures whose log tail is worth printing
_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console window for the child
Progress = engine.Progress


class JobError(engine.EngineError):
    """The engine's child process could not be started."""


@dataclass(frozen=True)
class JobFailure:
    """Why a job gave no clip: one sentence for the user, and the kind (engine error class,
    "Crash", "InternalError" or "Cancelled")."""

    message: str
    kind: str


def staged(job, folder: Path):
    """The job as the child runs it: writing into the run's own `folder` (frames/ or clip.npz)."""
    if job.kind == "render":
        return replace(job, output=str(folder / "frames"))
    if job.kind == "track":
        return replace(job, output=str(folder / "clip.npz"))
    return replace(job, outputs=(str(folder / "clip.npz"),))


def python_executable() -> str:
    """A Python interpreter to run the engine in (never Blender itself).

    Blender 4.2+ sets `sys.executable` to its bundled Python; the bpy module's
    is the interpreter it runs in. Older layouts keep Python in `sys.prefix/bin`.
    """
    exe = Path(sys.executable)
    if "python" in exe.name.lower():
        return str(exe)
    candidates = sorted((Path(sys.prefix) / "bin").glob("python3*")) + [Path(sys.prefix) / "bin" / "python.exe"]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    raise JobError("No Python interpreter was found to run the animation engine; reinstall Blender.")


def engine_dir() -> Path:
    """The folder of the engine package this add-on uses (bundled in the extension, or the checkout's)."""
    return Path(engine.__file__).resolve().parent


def crash_message(returncode: int, kind: str = "animate") -> str:
    """The sentence for a child that died without a result: exit code, or signal name on POSIX."""
    if returncode < 0:
        try:
            cause = f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            cause = f"signal {-returncode}"
    else:
        cause = f"exit code {returncode}"
    return f"The {ENGINE_NAMES.get(kind, 'engine')} stopped unexpectedly ({cause}); your scene is unchanged."


ENGINE_NAMES = {"animate": "animation engine", "render": "render engine", "track": "video tracker"}
CANCELLED = JobFailure("Animation cancelled; your scene is unchanged.", "Cancelled")
RENDER_CANCELLED = JobFailure("Rendering cancelled; your scene is unchanged.", "Cancelled")
TRACK_CANCELLED = JobFailure("Tracking cancelled; your scene is unchanged.", "Cancelled")
CANCELLED_BY_KIND = {"render": RENDER_CANCELLED, "track": TRACK_CANCELLED}
FRAME_FILES = "frame_*.png"  # the frames a render job writes (frame_0001.png, ...), and replaces


class Job:
    """One run of the engine in a child process.

    `start()` launches it; `poll()` (main thread, never blocks) returns the
    progress events that arrived since the last call; when `finished`, exactly
    one of `clip` (a MotionClip) and `failure` (a JobFailure) is set.
    `cancel()` stops the child; `wait()` blocks until the job ends.
    """

    def __init__(self, spec: "AnimateJob | RenderJob | TrackJob", python: Optional[str] = None) -> None:
        self.spec = spec
        self.python = python
        self.clip = None
        self.frames: Optional[list] = None       # render jobs: the frame files [Path], in frame order
        self.failure: Optional[JobFailure] = None
        self.latest: Optional[Progress] = None   # the last progress event
        self.returncode: Optional[int] = None
        self.log_tail = ""                       # the end of the child's stderr, kept when it ends
        self._process: Optional[subprocess.Popen] = None
        self._queue: queue.Queue = queue.Queue()
        self._folder: Optional[Path] = None
        self._log = None
        self._result_path: Optional[str] = None
        self._error: Optional[JobFailure] = None
        self._cancelled = False

    @property
    def finished(self) -> bool:
        return self.clip is not None or self.frames is not None or self.failure is not None

    @property
    def fraction(self) -> float:
        """Progress of the current stage in [0, 1]."""
        return self.latest.fraction if self.latest is not None else 0.0

    def start(self) -> "Job":
        """Launch the child and send it the job; JobError when it cannot be started."""
        self._folder = Path(tempfile.mkdtemp(prefix="talking_head_job_"))
        self._log = open(self._folder / "engine.log", "wb")
        try:
            self._process = subprocess.Popen(
                [self.python or python_executable(), "-u", str(WORKER)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=self._log, cwd=self._folder, text=True, encoding="utf-8",
                creationflags=_NO_WINDOW)
        except OSError as error:
            self._cleanup()
            raise JobError(f"The animation engine could not start ({error.strerror or error}); "
                           "reinstall the add-on.") from None
        self._send_launch()
        threading.Thread(target=self._read, name="talking-head-job", daemon=True).start()
        return self

    def poll(self) -> list:
        """Handle what the child sent since the last call; returns the new Progress events."""
        events = []
        while not self.finished:
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                break
            event = self._handle(message)
            if event is not None:
                events.append(event)
        return events

    def wait(self, timeout: Optional[float] = None, listener: Optional[Callable] = None) -> bool:
        """Block until the job ends (or `timeout` s pass), passing progress to `listener`; True if it ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.finished:
            remaining = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if remaining <= 0:
                return False
            try:
                event = self._handle(self._queue.get(timeout=remaining))
            except queue.Empty:
                continue
            if event is not None and listener is not None:
                listener(event)
        return True

    def cancel(self) -> None:
        """Stop the child (terminate, then kill after CANCEL_GRACE_S); the job ends as cancelled."""
        if self.finished or self._process is None:
            return
        self._cancelled = True
        self._process.terminate()
        try:
            self._process.wait(CANCEL_GRACE_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self.wait()

    # -- the child's messages -------------------------------------------------------------------

    def _send_launch(self) -> None:
        launch = {"job": staged(self.spec, self._folder).to_json(), "engine_dir": str(engine_dir()),
                  "sys_path": [p for p in sys.path if p]}
        try:
            self._process.stdin.write(json.dumps(launch) + "\n")
            self._process.stdin.flush()
        except OSError:  # the child died at once: its exit code tells the story
            pass

    def _read(self) -> None:
        """Reader thread: the child's stdout lines -> the queue, then its exit code."""
        for line in self._process.stdout:
            message = _parse(line)
            if message is not None:
                self._queue.put(message)
        self._queue.put({"exit": self._process.wait()})

    def _handle(self, message: dict) -> Optional[Progress]:
        if "stage" in message:
            self.latest = Progress(str(message["stage"]), int(message.get("done", 0)),
                                   int(message.get("total", 0)), str(message.get("message", "")))
            return self.latest
        if "result" in message:
            self._result_path = message["result"]
        elif "error" in message:
            self._error = JobFailure(str(message["error"]), str(message.get("kind", "EngineError")))
        elif "exit" in message:
            self._end(int(message["exit"]))
        return None

    def _end(self, returncode: int) -> None:
        """The child has exited: settle result or failure, then remove the job's files."""
        self.returncode = returncode
        self._log.close()
        self.log_tail = _tail(self._folder / "engine.log")
        if self._cancelled:
            self.failure = CANCELLED_BY_KIND.get(self.spec.kind, CANCELLED)
        elif self._error is not None:
            self.failure = self._error
        elif self._result_path is not None and returncode == 0 and self.spec.kind == "render":
            self._move_frames()
        elif self._result_path is not None and returncode == 0:
            self._load_clip()
        else:
            self.failure = JobFailure(crash_message(returncode, self.spec.kind), "Crash")
        self._cleanup()

    def _load_clip(self) -> None:
        try:
            self.clip = engine.MotionClip.load(self._result_path)
        except engine.EngineError as error:
            self.failure = JobFailure(str(error), type(error).__name__)

    def _move_frames(self) -> None:
        """Put the child's frames into the spec's output folder, in place of the frames an earlier render
        left there; a folder that cannot be written is a failure."""
        staged = sorted(Path(self._result_path).glob(FRAME_FILES))
        out = Path(self.spec.output)
        if not staged:
            self.failure = JobFailure("The render engine returned no frames; your scene is unchanged.", "Crash")
            return
        try:
            out.mkdir(parents=True, exist_ok=True)
            for old in out.glob(FRAME_FILES):
                old.unlink()
            self.frames = [Path(shutil.move(str(frame), str(out / frame.name))) for frame in staged]
        except OSError as error:
            self.failure = JobFailure(f"The frames could not be written to '{out}' ({error.strerror or error}); "
                                      "save the .blend file in a folder you can write to.", "InputError")
            return
        self.frames.sort(key=lambda path: int(path.stem.rpartition("_")[2]))

    def _cleanup(self) -> None:
        if self._process is not None and self._process.stdin is not None:
            try:
                self._process.stdin.close()
            except OSError:
                pass
        if self._log is not None and not self._log.closed:
            self._log.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def _parse(line: str) -> Optional[dict]:
    """A protocol message from one line of the child's stdout; None for anything else."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _tail(path: Path) -> str:
    try:
        return path.read_bytes()[-LOG_TAIL_CHARS:].decode("utf-8", "replace")
    except OSError:
        return ""
