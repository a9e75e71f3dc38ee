"""Run one loader on one file in a forked child with memory, CPU and wall-clock limits; classify the outcome.

Outcomes: "ok" (a valid result), "refused" (an EngineError with one sentence)
are what every file must give. Failures: "escaped" (another exception),
"memory" (the loader ran into the memory limit, even if it then said so in a
sentence), "timeout", "crash" (the child died of a signal), "bad-sentence"
(an EngineError with an empty or multi-line message).
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

GOOD = ("ok", "refused")
MEMORY_MB = 300
SECONDS = 5.0


@dataclass(frozen=True)
class Outcome:
    """What one case did: `kind` (see the module docstring), a short `detail`, wall `seconds`."""

    kind: str
    detail: str
    seconds: float

    @property
    def good(self) -> bool:
        return self.kind in GOOD


def _address_space() -> int:
    """This process's current virtual size in bytes (VmSize)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _limit_self(memory_mb: int, seconds: float) -> None:
    budget = _address_space() + memory_mb * 1024**2
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    cpu = int(seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def classify(load, path: Path) -> tuple:
    """(kind, detail) of `load(path)`, in this process."""
    from engine.errors import EngineError

    try:
        load(path)
    except EngineError as error:
        text = str(error)
        if isinstance(error.__cause__, MemoryError) or isinstance(error.__context__, MemoryError):
            return "memory", text[:300]
        if not text.strip() or "\n" in text.strip():
            return "bad-sentence", text[:300]
        return "refused", text[:300]
    except MemoryError:
        return "memory", "MemoryError"
    except Exception as error:  # noqa: BLE001 - what the harness is looking for
        where = traceback.extract_tb(error.__traceback__)[-1]
        return "escaped", f"{type(error).__name__}: {str(error)[:200]} ({Path(where.filename).name}:{where.lineno})"
    return "ok", ""


def run_case(load, data: bytes, path: Path, memory_mb: int = MEMORY_MB, seconds: float = SECONDS) -> Outcome:
    """Write `data` to `path` and classify `load(path)` in a forked child within the limits."""
    path.write_bytes(data)
    read_end, write_end = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: limit, load, report, leave without running the parent's cleanup
        code = 0
        try:
            os.close(read_end)
            _limit_self(memory_mb, seconds)
            report = json.dumps(classify(load, path)).encode()
        except BaseException as error:  # noqa: BLE001 - even this must become a report
            report = json.dumps(["escaped", f"harness: {type(error).__name__}"]).encode()
            code = 3
        try:
            os.write(write_end, report[:60000])
        finally:
            os._exit(code)
    os.close(write_end)
    return _collect(pid, read_end, start, seconds)


def _collect(pid: int, read_end: int, start: float, seconds: float) -> Outcome:
    chunks, deadline = [], start + seconds
    try:
        while True:
            left = deadline - time.perf_counter()
            ready, _, _ = select.select([read_end], [], [], max(left, 0))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Outcome("timeout", f"over {seconds:g} s", time.perf_counter() - start)
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return Outcome("memory" if name == "SIGXCPU" else "crash", f"killed by {name}", elapsed)
    try:
        kind, detail = json.loads(b"".join(chunks) or b'["crash", "no report"]')
    except ValueError:
        kind, detail = "crash", "a garbled report"
    return Outcome(kind, detail, elapsed)
