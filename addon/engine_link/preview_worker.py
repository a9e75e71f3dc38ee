"""The live preview's render engine: one child process that stays warm, renders the frames it is asked for,
and dies with Blender.

No bpy here (testable without Blender); `live_preview` drives it from Blender's main thread. The child is
`worker.py` with a launch message of kind "preview" (`jobs` describes the launch and the JSON lines):

- parent -> child stdin: the launch message `{"job": {"kind": "preview", "look", "device", "models_dir"},
  "engine_dir", "sys_path", "output": "<tmp>/frames"}`, then one line per frame asked for:
  `{"id": int, "clip": "<tmp>/clip_N.npz", "frame": scene frame, "camera": camera fields or null, "size": int}`;
- child -> parent stdout: progress lines while the look loads, `{"ready": "<look>"}`, then per request
  `{"id", "frame", "pixels": "<tmp>/frames/frame_ID.rgba", "width", "height", "seconds"}` (raw RGBA uint8,
  rows top-down) or `{"id", "error": "<one sentence>", "kind"}`;
- the child exits when its stdin closes: when `close()` is called, or when Blender ends in any way (the
  pipe closes with the process), so no render engine outlives the Blender that started it.

A child that dies otherwise is a `failure` (a sentence with its exit code or signal).
"""

from __future__ import annotations

import importlib
import json
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Optional

import numpy as np

from . import engine, jobs

children = importlib.import_module(engine.__name__ + ".children")  # bundled or checkout engine alike

CLOSE_GRACE_S = 0.5  # seconds a closed child gets to finish its frame and exit before it is killed (it keeps nothing)


class PreviewWorker:
    """One warm render child for one look (`key` = (look, device, models_dir)).

    `start()` launches it; `ask(request)` sends a frame request and returns its id; `poll()` (main thread,
    never blocks) returns the messages that arrived since the last call; `failure` is set (a
    jobs.JobFailure) once the child has died unasked; `close()` ends it and removes its files.
    """

    def __init__(self, look: str, device: str = "auto", models_dir: Optional[str] = None,
                 python: Optional[str] = None) -> None:
        self.key = (look, device, models_dir)
        self.python = python
        self.ready = False
        self.failure: Optional[jobs.JobFailure] = None
        self.log_tail = ""
        self.folder: Optional[Path] = None
        self._process: Optional[subprocess.Popen] = None
        self._queue: queue.Queue = queue.Queue()
        self._log = None
        self._next_id = 0
        self._closing = False
        self._error: Optional[jobs.JobFailure] = None  # what the child said before it stopped

    @property
    def alive(self) -> bool:
        """Started, and neither dead nor closed."""
        return self._process is not None and self.failure is None and not self._closing

    def start(self) -> "PreviewWorker":
        """Launch the child and send it the look; jobs.JobError when it cannot be started."""
        self.folder = Path(tempfile.mkdtemp(prefix="talking_head_preview_"))
        self._log = open(self.folder / "engine.log", "wb")
        try:
            self._process = subprocess.Popen(
                [self.python or jobs.python_executable(), "-u", str(jobs.WORKER)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=self._log, cwd=self.folder, text=True, encoding="utf-8",
                creationflags=jobs._NO_WINDOW)
        except OSError as error:
            self._remove_files()
            raise jobs.JobError(f"The render engine could not start ({error.strerror or error}); "
                                "reinstall the add-on.") from None
        look, device, models_dir = self.key
        self._write({"job": {"kind": "preview", "look": look, "device": device, "models_dir": models_dir},
                     "engine_dir": str(jobs.engine_dir()), "sys_path": [p for p in sys.path if p],
                     "output": str(self.folder / "frames")})
        threading.Thread(target=self._read, name="talking-head-preview", daemon=True).start()
        return self

    def ask(self, request: dict) -> int:
        """Send a frame request (clip, frame, camera, size); returns the id its answer will carry."""
        self._next_id += 1
        self._write({**request, "id": self._next_id})
        return self._next_id

    def poll(self) -> list:
        """The child's messages since the last call (dicts, as in the module's protocol); a child that died
        unasked sets `failure` and ends the list."""
        messages = []
        while self.failure is None:
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                break
            if "exit" in message:
                self._ended(int(message["exit"]))
                break
            if "error" in message and "id" not in message:  # the child's last word before it stops
                self._error = jobs.JobFailure(str(message["error"]), str(message.get("kind", "EngineError")))
                continue
            self.ready = self.ready or "ready" in message
            messages.append(message)
        return messages

    def close(self) -> None:
        """End the child (stdin closed, then killed after CLOSE_GRACE_S) and remove its files."""
        self._closing = True
        if self._process is not None:
            children.close_child(self._process, CLOSE_GRACE_S)
        self._remove_files()

    @staticmethod
    def pixels(message: dict) -> np.ndarray:
        """The RGBA uint8 frame [H, W, 4] (row 0 at the top) of a frame answer; its file is removed."""
        path = Path(message["pixels"])
        try:
            rgba = np.fromfile(path, np.uint8).reshape(int(message["height"]), int(message["width"]), 4)
        finally:
            path.unlink(missing_ok=True)
        return rgba

    # -- the child ------------------------------------------------------------------------------

    def _write(self, message: dict) -> None:
        try:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        except (OSError, ValueError):  # the child has died (its exit code tells why) or is being closed
            pass

    def _read(self) -> None:
        """Reader thread: the child's stdout lines -> the queue, then its exit code."""
        for line in self._process.stdout:
            message = jobs._parse(line)
            if message is not None:
                self._queue.put(message)
        self._queue.put({"exit": self._process.wait()})

    def _ended(self, returncode: int) -> None:
        if self._log is not None and not self._log.closed:
            self._log.close()
        if self.folder is not None:
            self.log_tail = jobs._tail(self.folder / "engine.log")
        if not self._closing:
            self.failure = self._error or jobs.JobFailure(jobs.crash_message(returncode, "render"), "Crash")

    def _remove_files(self) -> None:
        if self._log is not None and not self._log.closed:
            self._log.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
