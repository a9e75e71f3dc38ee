"""Batch at studio scale: lines of 3-8 s through `engine.batch` with the phonetic and ADF drivers, on 1
and 2 local workers and on a local Ray cluster (2 CPUs), and the memory of a 1,000-line manifest.

Throughput is seconds of speech per wall-clock second of the whole batch, worker start-up and warm-up
included (as a user meets it), and once warm: speech over the busiest worker's seconds on its lines
(from the summary), which leaves start-up out. The scaling efficiency is the 2-worker speed-up over 1
worker, halved. On a machine other jobs share, the wall clock says as much about them as about the
batch, so the CPU seconds the lines took (each worker's own, from the summary) sit beside it: equal CPU
per line with 1 and 2 workers means the workers do not slow each other, and the wall clock then scales
with the cores that are free. Memory: the summed resident memory of the batch's process and its
workers, sampled while a 1,000-line manifest (100 in quick runs) runs in a process of its own, beside
the same for a manifest a tenth as long; bounded means the two are about equal.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .measure import SAMPLE_VOICE
from .report import Row

ROOT = Path(__file__).resolve().parents[2]
SECTION = "Batch"
LENGTHS_S = (3.0, 4.0, 5.0, 6.0, 7.0, 8.0)   # the lines' lengths, in turn
TARGET = "scaling efficiency >= 0.8 on 2 cores"


def batch_throughput(quick: bool, out: Path) -> list:
    """Speech seconds per wall second and CPU seconds per speech second: 1 vs 2 workers, and on Ray."""
    count = 6 if quick else 120   # enough lines that a worker's one start-up is paid across many, as in a real batch
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
        manifest = write_lines(Path(folder), count)
        speech = sum(LENGTHS_S[k % len(LENGTHS_S)] for k in range(count))
        for driver in ("phonetic", "adf"):
            one = timed_batch(manifest, Path(folder) / f"{driver}-1", driver, workers=1)
            two = timed_batch(manifest, Path(folder) / f"{driver}-2", driver, workers=2)
            rows += _scaling_rows(driver, count, speech, one, two)
            rows += _ray_rows(manifest, Path(folder), driver, count, speech, one)
    return rows


def write_lines(folder: Path, count: int) -> Path:
    """`count` manifest rows over six cuts (3-8 s) of the shipped voice; the manifest's path."""
    import soundfile

    samples, rate = soundfile.read(SAMPLE_VOICE, dtype="float32")
    for k, length in enumerate(LENGTHS_S):
        start = int(0.2 * k * rate)
        soundfile.write(folder / f"cut{k}.wav", samples[start:start + int(length * rate)], rate)
    manifest = folder / "lines.csv"
    with open(manifest, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "audio"])
        writer.writerows([f"line{k:04d}", f"cut{k % len(LENGTHS_S)}.wav"] for k in range(count))
    return manifest


@dataclass(frozen=True)
class BatchRun:
    """One benchmark batch: its wall seconds (start-up included), the busiest worker's seconds on lines
    (the makespan once warm), and the CPU seconds its lines took (all workers)."""

    wall: float
    makespan: float
    cpu: float

    def efficiency_over(self, one: "BatchRun", workers: int = 2) -> tuple:
        """(wall-clock, warm, CPU) scaling efficiency of this run of `workers` over the 1-worker run `one`."""
        return one.wall / self.wall / workers, one.makespan / self.makespan / workers, one.cpu / self.cpu


def timed_batch(manifest: Path, out: Path, driver: str, workers: int = 1, cluster=None) -> BatchRun:
    """Run one batch; its BatchRun, from the wall clock and the summary's per-line seconds and CPU."""
    from ..batch import BatchJob, run

    wall = time.perf_counter()
    result = run(BatchJob(lines=str(manifest), out=str(out), workers=workers, cluster=cluster, driver=driver))
    wall = time.perf_counter() - wall
    if result.failed:
        raise RuntimeError(f"{result.failed} benchmark lines failed; see {result.summary}")
    with open(result.summary, newline="") as stream:
        rows = list(csv.DictReader(stream))
    busy: dict = {}
    for row in rows:
        busy[row["worker"]] = busy.get(row["worker"], 0.0) + float(row["seconds"])
    return BatchRun(wall, max(busy.values()), sum(float(row["cpu_s"]) for row in rows))


def _scaling_rows(driver: str, count: int, speech: float, one: BatchRun, two: BatchRun) -> list:
    wall, warm, cpu = two.efficiency_over(one)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    name = f"{driver} driver, {count} lines of 3-8 s ({speech:.0f} s of speech)"
    return [
        Row(SECTION, f"{name}, 1 worker", speech / one.wall, "x real time", note=_note(one, speech)),
        Row(SECTION, f"{name}, 2 workers", speech / two.wall, "x real time", "1 worker", speech / one.wall,
            one.wall / two.wall, target=TARGET,
            note=f"scaling efficiency {wall:.2f} by the wall clock, {warm:.2f} once warm; CPU per line 1 vs 2 "
                 f"workers {cpu:.2f}; {_note(two, speech)}; load average {load:.1f} at the end")]


def _note(run: BatchRun, speech: float) -> str:
    return (f"warm {speech / run.makespan:.1f}x real time, start-up {run.wall - run.makespan:.1f} s, "
            f"{run.cpu / speech:.3f} CPU s per speech s")


def _ray_rows(manifest: Path, folder: Path, driver: str, count: int, speech: float, one: BatchRun) -> list:
    try:
        import ray
    except ImportError:
        return [Row(SECTION, f"{driver} driver on a local Ray cluster", 0.0, "", note="needs the cluster extra (ray)")]
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    start_s = time.perf_counter() - started
    try:
        on_ray = timed_batch(manifest, folder / f"{driver}-ray", driver, workers=2, cluster="auto")
    finally:
        ray.shutdown()
    wall, warm, cpu = on_ray.efficiency_over(one)
    return [Row(SECTION, f"{driver} driver, {count} lines, local Ray cluster (2 CPUs, 2 actors)", speech / on_ray.wall,
                "x real time", "1 local worker", speech / one.wall, one.wall / on_ray.wall, target=TARGET,
                note=f"scaling efficiency {wall:.2f} by the wall clock, {warm:.2f} once warm; CPU per line "
                     f"{cpu:.2f} of a local worker's; {_note(on_ray, speech)}; the cluster's own start "
                     f"({start_s:.1f} s) not included")]


def batch_memory(quick: bool, out: Path) -> list:
    """Peak memory of the batch's processes for a long manifest beside one a tenth as long."""
    count = 100 if quick else 1000
    with tempfile.TemporaryDirectory(prefix="bench-batch-memory-") as folder:
        runs = {}
        for name, lines in (("short", count // 10), ("long", count)):
            (Path(folder) / name).mkdir()
            runs[name] = peak_batch_memory(write_lines(Path(folder) / name, lines), Path(folder) / name / "out")
    (short_peak, _), (long_peak, wall) = runs["short"], runs["long"]
    return [Row(SECTION, f"peak memory of a {count:,}-line manifest (ADF driver, 2 workers)", long_peak, "MB",
                f"{count // 10} lines", short_peak, long_peak / short_peak, target="bounded: about equal",
                note=f"the batch process and its workers together, sampled every 0.1 s; {wall:.0f} s")]


def peak_batch_memory(manifest: Path, out: Path, driver: str = "adf") -> tuple:
    """(peak summed resident MB of `engine batch` and its workers, wall seconds) for one manifest."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "engine", "batch", str(manifest), "--out", str(out),
                                "--workers", "2", "--driver", driver], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    peak = [0.0]
    sampler = threading.Thread(target=_sample, args=(process, peak), daemon=True)
    sampler.start()
    process.wait()
    sampler.join()
    return peak[0], time.perf_counter() - started


def _sample(process: subprocess.Popen, peak: list) -> None:
    while process.poll() is None:
        peak[0] = max(peak[0], sum(_resident_mb(pid) for pid in [process.pid] + _descendants(process.pid)))
        time.sleep(0.1)


def _descendants(pid: int) -> list:
    found, todo = [], [pid]
    while todo:
        try:
            children = [int(c) for task in Path(f"/proc/{todo.pop()}/task").iterdir()
                        for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        found += children
        todo += children
    return found


def _resident_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
