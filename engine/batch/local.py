"""Batch lines on local worker processes that stay warm.

Each worker is a fresh Python running `engine.batch.worker` (no threads, sessions or main module of
the parent come along, in a terminal or inside Blender alike): it loads the engine and its models once
and then does line after line, one JSON line in and one record out over its pipes. Where there are at
least as many cores as workers, worker k is pinned to core k, so one line's network threads never
compete with another's. A worker that dies (killed, out of memory) costs only the line it was doing:
that line is recorded as failed with a sentence, a new worker takes its place, and the rest go on.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator

from ..children import close_child
from .lines import BatchLine

STOP_GRACE_S = 5.0
ENGINE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding the engine package


def worker_died_record(line: BatchLine, exitcode) -> dict:
    """The record of a line whose worker stopped before finishing it."""
    if exitcode is not None and exitcode < 0:
        try:
            cause = f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            cause = f"signal {-exitcode}"
    else:
        cause = f"exit code {exitcode}"
    return {"id": line.id, "row": line.row, "audio": line.audio, "status": "failed", "warnings": [],
            "error": f"The worker stopped unexpectedly ({cause}) while doing this line; rerun the batch to do "
                     "it again.", "error_kind": "WorkerDied"}


def worker_environment() -> dict:
    """The environment of a worker: this engine importable, numpy's BLAS on one thread per worker."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ENGINE_ROOT, env.get("PYTHONPATH")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


class Worker:
    """One worker process, the line it is doing (None when idle), and a thread reading its records
    into the pool's queue (None after its last one: the process has ended)."""

    def __init__(self, settings: dict, core, inbox: queue.Queue) -> None:
        self.process = subprocess.Popen([sys.executable, "-u", "-m", "engine.batch.worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=worker_environment(), text=True,
                                        encoding="utf-8")
        self.line = None
        self._send(dict(settings, core=core))
        threading.Thread(target=self._read, args=(inbox,), daemon=True, name="batch-worker-reader").start()

    def _send(self, message) -> None:
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except OSError:  # it died: its reader reports that
            pass

    def _read(self, inbox: queue.Queue) -> None:
        for text in self.process.stdout:
            try:
                inbox.put((self, json.loads(text)))
            except ValueError:
                continue
        inbox.put((self, None))

    def give(self, line: BatchLine) -> None:
        self.line = line
        self._send(line.to_json())

    def stop(self) -> None:
        """Close its input (it finishes), then kill it if it does not."""
        close_child(self.process, STOP_GRACE_S)


class LocalPool:
    """`workers` warm worker processes doing batch lines (see the module's docstring)."""

    def __init__(self, workers: int, out, device: str = "auto", models_dir=None, drivers=("phonetic",)) -> None:
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self._cores = cores if len(cores) >= workers else []
        self._settings = {"out": str(out), "device": device, "models_dir": models_dir, "drivers": list(drivers)}
        self._inbox: queue.Queue = queue.Queue()
        self.workers = [self._start(k) for k in range(workers)]
        self.started = len(self.workers)

    def _start(self, k: int) -> Worker:
        return Worker(self._settings, self._cores[k] if self._cores else None, self._inbox)

    def run(self, lines: Iterator[BatchLine], more: Callable[[], bool] = lambda: True) -> Iterator[dict]:
        """The record of each line of `lines`, as each finishes (in any order). A line is taken from
        `lines` only when a worker is free and `more()` says so (the caller's bound on what it holds)."""
        pending, exhausted = iter(lines), False
        while True:
            for worker in self.workers:
                if worker.line is None and not exhausted and more():
                    line = next(pending, None)
                    exhausted = line is None
                    if line is not None:
                        worker.give(line)
            if not any(w.line is not None for w in self.workers):
                return
            worker, message = self._inbox.get()
            record = self._collect(worker, message)
            if record is not None:
                yield record

    def _collect(self, worker: Worker, message):
        """The record a worker sent (or its line's failure when it ended without one); None for news of a
        worker no longer in the pool."""
        if worker not in self.workers:
            return None
        line, worker.line = worker.line, None
        if message is not None:
            return message
        worker.process.wait()
        self.workers[self.workers.index(worker)] = self._start(self.workers.index(worker))
        self.started += 1
        return worker_died_record(line, worker.process.returncode) if line is not None else None

    def close(self) -> None:
        """Stop every worker (a line still running is abandoned; its outputs never appear)."""
        for worker in self.workers:
            if worker.line is not None:
                worker.process.kill()
            worker.stop()
        self.workers = []
