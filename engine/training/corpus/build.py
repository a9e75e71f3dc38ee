"""Build a corpus folder: shards made in worker processes, resumable, with progress.

    <out>/config.json     the resolved CorpusConfig (a different one is refused)
    <out>/shard_00000.npz one shard per unit of work (see shard.py)
    <out>/manifest.json   the finished shards with their clips and seconds

A shard that exists is finished (shards are renamed into place when whole),
so a re-run with the same config makes only the missing ones. libespeak-ng is
process global and its output depends on what it spoke before, so every
shard is made in a fresh worker process (forked from a server that has the
code imported): shards are reproducible whatever the number of workers.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ...errors import InputError
from ...progress import Reporter, silent
from .config import CorpusConfig, save_or_check_config
from .recipe import make_shard, shard_plan
from .shard import PARTIAL_SUFFIX, save_shard, shard_name, shard_paths, shard_seconds

MANIFEST_FILE = "manifest.json"
STAGE = "synthetic corpus"
MAX_WORKERS = 64


@dataclass(frozen=True)
class BuildSummary:
    """What a build did: shards written now and found finished, and the whole corpus's size."""

    shards_written: int
    shards_skipped: int
    clips: int
    seconds: float
    wall_seconds: float

    def line(self) -> str:
        """One summary sentence for the CLI."""
        return (f"{self.seconds / 60:.2f} minutes of audio in {self.clips} clips, "
                f"{self.shards_written + self.shards_skipped} shards ({self.shards_written} new, "
                f"{self.shards_skipped} already there), {self.wall_seconds:.1f} s wall time.")


def build_corpus(config: CorpusConfig, out, workers: int = 2, reporter: Optional[Reporter] = None) -> BuildSummary:
    """Make every missing shard of `config` in the folder `out`; returns a BuildSummary.

    `workers` processes make shards in parallel, each shard in a process of
    its own. The reporter counts finished shards; cancelling it starts no
    new shard and leaves only whole shards behind.
    """
    started, out, reporter = time.monotonic(), Path(out), reporter or silent()
    if not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"The number of workers must be between 1 and {MAX_WORKERS}, not {workers}.")
    save_or_check_config(config, out)
    _remove_partials(out)
    plan, manifest = shard_plan(config), Manifest(out)
    missing = [k for k in range(len(plan)) if not (out / shard_name(k)).exists()]
    reporter.stage(STAGE, len(plan), f"{len(plan) - len(missing)} shards already there")
    reporter.update(len(plan) - len(missing))
    _run(config, out, {k: plan[k] for k in missing}, workers, reporter, manifest)
    manifest.write()
    return BuildSummary(len(missing), len(plan) - len(missing), manifest.clips, manifest.seconds,
                        time.monotonic() - started)


def make_and_save_shard(config: CorpusConfig, out: Path, index: int, seconds: float) -> dict:
    """Make shard `index` and write it into `out` (the unit of work of a worker); returns its
    manifest entry {"file", "clips", "seconds"}."""
    clips = make_shard(config, index, seconds)
    path = save_shard(clips, out / shard_name(index))
    return _entry(path.name, len(clips), sum(c.audio.duration for c in clips))


class Manifest:
    """manifest.json of a corpus folder: its finished shards, rewritten as each one lands."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.entries = {path.name: _entry(path.name, *shard_seconds(path)) for path in shard_paths(out)}

    @property
    def clips(self) -> int:
        """Clips in the finished shards."""
        return sum(e["clips"] for e in self.entries.values())

    @property
    def seconds(self) -> float:
        """Seconds of audio in the finished shards."""
        return float(sum(e["seconds"] for e in self.entries.values()))

    def add(self, entry: dict) -> None:
        """Record a finished shard and rewrite the file."""
        self.entries[entry["file"]] = entry
        self.write()

    def write(self) -> None:
        """Write manifest.json atomically: {"shards": [entry...], "clips", "seconds"}."""
        shards = [self.entries[name] for name in sorted(self.entries)]
        manifest = {"shards": shards, "clips": self.clips, "seconds": round(self.seconds, 3)}
        tmp = self.out / (MANIFEST_FILE + PARTIAL_SUFFIX)
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        tmp.replace(self.out / MANIFEST_FILE)


def _entry(name: str, clips: int, seconds: float) -> dict:
    return {"file": name, "clips": int(clips), "seconds": round(float(seconds), 3)}


def _run(config: CorpusConfig, out: Path, todo: dict, workers: int, reporter: Reporter,
         manifest: Manifest) -> None:
    """Make the shards {index: seconds} in `todo`, each in a fresh worker process, at most
    `workers` at a time, recording each in the manifest; no new shard starts once the
    reporter is cancelled."""
    if not todo:
        return
    queue = list(todo.items())
    with ProcessPoolExecutor(max_workers=min(workers, len(queue)), mp_context=_worker_context(),
                             max_tasks_per_child=1) as pool:
        running = set()
        try:
            while queue or running:
                while queue and len(running) < workers:
                    reporter.cancel.check()
                    running.add(pool.submit(make_and_save_shard, config, out, *queue.pop(0)))
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    manifest.add(future.result())
                    reporter.advance(1, future.result()["file"])
        except BaseException:
            for future in running:
                future.cancel()
            raise


def _worker_context():
    """Processes forked from a server that has imported the corpus code but never synthesized:
    each shard starts from a fresh espeak-ng (whose output depends on what it spoke before),
    so a shard is the same whichever worker makes it, and workers start fast."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _remove_partials(out: Path) -> None:
    """Delete temporary files an interrupted run left behind (they never count as shards)."""
    for path in out.glob(f"*{PARTIAL_SUFFIX}*"):
        path.unlink(missing_ok=True)
