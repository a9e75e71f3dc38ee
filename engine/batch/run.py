"""Run a batch job: skip the lines an earlier run finished, hand the rest to warm workers (local
processes, or Ray actors on a cluster), and write OUT/summary.csv with one row per line.

Memory stays bounded whatever the manifest's length: lines are read one at a time, a worker holds
one line's clip while it works, and the parent holds only the records (a few hundred bytes each) of
lines that finished ahead of an earlier, slower one, to write the summary in manifest order; it
stops handing out lines while more than `MAX_AHEAD` wait so.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..drivers.registry import default_driver
from ..progress import Reporter, silent
from .job import BatchJob
from .lines import count_lines, read_lines
from .line_job import WORK, read_record

SUMMARY = "summary.csv"
SUMMARY_COLUMNS = ("row", "id", "status", "audio", "driver", "audio_s", "frames", "fps", "seconds", "cpu_s",
                   "animate_s", "render_s", "x_real_time", "worker", "outputs", "warnings", "error")
DONE_EARLIER = "done earlier"
MAX_AHEAD = 256


@dataclass(frozen=True)
class BatchResult:
    """What a batch did: lines finished now, failed, and skipped as finished by an earlier run; the
    summary file; the wall time; the workers started (more than asked when some died)."""

    done: int
    failed: int
    skipped: int
    summary: Path
    seconds: float
    workers_started: int = 0


def run(job: BatchJob, reporter: Optional[Reporter] = None) -> BatchResult:
    """Validate the batch job and do every line not finished yet (see the module's docstring)."""
    reporter = reporter or silent()
    job.validate()
    out = Path(job.out)
    out.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(out)
    total = count_lines(job.lines)
    summary = SummaryWriter(out, total, reporter)
    pool = _pool(job)
    try:
        summary.start()
        for record in pool.run(_todo(job, out, summary), more=lambda: summary.waiting < MAX_AHEAD):
            summary.add(record)
    finally:  # cancelled or stopped: the lines finished so far are still summarised
        pool.close()
        summary.close()
        path = summary.publish()
        shutil.rmtree(out / WORK, ignore_errors=True)
    return BatchResult(summary.done, summary.failed, summary.skipped, path, summary.elapsed(), pool.started)


def _todo(job: BatchJob, out: Path, summary: "SummaryWriter"):
    """The lines still to do; each one finished earlier goes straight into the summary."""
    for line in read_lines(job.lines, job.line_defaults()):
        earlier = read_record(out, line)
        if earlier is not None:
            summary.add(dict(earlier, row=line.row, status=DONE_EARLIER))
        else:
            yield line


def _pool(job: BatchJob):
    drivers = (job.driver or default_driver(models_dir=job.models_dir),)   # warmed up once per worker
    if job.cluster:
        from .cluster import RayPool

        return RayPool(job.cluster, job.workers or None, job.out, job.device, job.models_dir, drivers)
    from .local import LocalPool

    return LocalPool(job.workers, job.out, job.device, job.models_dir, drivers)


def _clear_leftovers(out: Path) -> None:
    """Remove what a killed run left half-written: its lines' work folders and its unfinished summary."""
    shutil.rmtree(out / WORK, ignore_errors=True)


class SummaryWriter:
    """Writes records into a temporary summary in manifest order (holding those that came early),
    reports progress with an ETA, and renames the summary into place at the end."""

    def __init__(self, out: Path, total: int, reporter: Reporter) -> None:
        self.out, self.total, self.reporter = out, total, reporter
        self.done = self.failed = self.skipped = 0
        self._ahead: dict = {}        # row -> record that finished before an earlier row
        self._next_row = 1
        self._started = time.monotonic()
        (out / WORK).mkdir(exist_ok=True)  # written there, so a killed run leaves no half summary beside the lines
        handle, name = tempfile.mkstemp(prefix=f"{SUMMARY}.", suffix=".part", dir=out / WORK)
        self._path = Path(name)
        self._stream = io.open(handle, "w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._stream, SUMMARY_COLUMNS, extrasaction="ignore")

    @property
    def waiting(self) -> int:
        return len(self._ahead)

    def start(self) -> None:
        self._writer.writeheader()
        self.reporter.stage("batch lines", self.total, f"0/{self.total} lines")

    def add(self, record: dict) -> None:
        """Count a line's record and write every record now in manifest order."""
        status = record.get("status")
        self.skipped += status == DONE_EARLIER
        self.done += status == "ok"
        self.failed += status == "failed"
        self._ahead[record["row"]] = record
        while self._next_row in self._ahead:
            self._writer.writerow(summary_row(self._ahead.pop(self._next_row)))
            self._next_row += 1
        self._stream.flush()
        self.reporter.update(self.done + self.failed + self.skipped, self.progress_message())

    def progress_message(self) -> str:
        """'12/40 lines, 1 failed, ETA 2 min 10 s' (the ETA from this run's own pace, skipped lines aside)."""
        finished = self.done + self.failed + self.skipped
        text = f"{finished}/{self.total} lines" + (f", {self.failed} failed" if self.failed else "")
        worked = self.done + self.failed
        if worked and finished < self.total:
            text += f", ETA {_duration(self.elapsed() / worked * (self.total - finished))}"
        return text

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def close(self) -> None:
        for row in sorted(self._ahead):  # a stopped run: what finished is still listed
            self._writer.writerow(summary_row(self._ahead.pop(row)))
        self._stream.close()

    def publish(self) -> Path:
        """The summary, renamed into place (OUT/summary.csv) with the user's usual permissions."""
        target = self.out / SUMMARY
        os.chmod(self._path, 0o644)
        os.replace(self._path, target)
        return target


def summary_row(record: dict) -> dict:
    """A line's record as the summary's cells."""
    row = {k: record.get(k, "") for k in SUMMARY_COLUMNS}
    audio_s, seconds = record.get("audio_s"), record.get("seconds")
    if audio_s and seconds:
        row["x_real_time"] = round(audio_s / seconds, 2)
    row["audio"] = Path(str(record.get("audio", ""))).name
    row["outputs"] = " ".join(record.get("outputs") or ())
    row["warnings"] = " | ".join(record.get("warnings") or ())
    return row


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
