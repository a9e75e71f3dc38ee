"""`engine batch` on local workers: every line to its files and a summary row, bad lines recorded while
the rest are done, finished lines skipped on a rerun, and a worker or the whole run killed midway
losing nothing but the lines then in progress."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from batch_voices import leftovers, silent_voice, summary, voice_cuts, write_manifest
from engine.batch import BatchJob, run
from engine.cli.main import main
from engine.motion import MotionClip

ROOT = Path(__file__).resolve().parents[3]


def test_every_line_gets_its_files_and_a_bad_line_is_recorded_while_the_rest_are_done(tmp_path):
    voices = voice_cuts(tmp_path / "vo", (1.0, 1.2))
    manifest = write_manifest(tmp_path / "lines.csv", [
        {"id": "hello", "audio": "vo/line1.wav", "formats": "npz json csv", "fps": "24"},
        {"id": "gone", "audio": "vo/missing.wav"},
        {"id": "quiet", "audio": str(silent_voice(tmp_path / "vo" / "quiet.wav"))},
        {"id": "happy", "audio": "vo/line2.wav", "style": "happy", "driver": "energy"},
    ])
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "--out", str(out), "--workers", "2"]) == 1  # a line failed
    rows = summary(out)
    assert [(r["id"], r["status"]) for r in rows] == [("hello", "ok"), ("gone", "failed"), ("quiet", "failed"),
                                                       ("happy", "ok")]
    assert rows[1]["error"] == f"The voice file '{tmp_path / 'vo' / 'missing.wav'}' does not exist."
    assert rows[2]["error"].startswith("The voice 'quiet.wav' is silent")
    clip = MotionClip.load(out / "hello" / "hello.npz")
    assert clip.fps == 24 and clip.num_frames == 24 and clip.metadata["source_audio"] == voices[0].name
    assert MotionClip.load(out / "hello" / "hello.json").num_frames == 24
    assert (out / "hello" / "hello.csv").read_text().startswith("Timecode,BlendShapeCount")
    happy = MotionClip.load(out / "happy" / "happy.npz")
    assert happy.metadata["driver"] == "energy" and happy.metadata["style"]["smile"] > 0
    assert rows[3]["outputs"] == "happy.npz" and float(rows[3]["audio_s"]) == 1.2 and float(rows[3]["seconds"]) > 0
    assert sorted(p.name for p in out.iterdir()) == ["happy", "hello", "summary.csv"]  # no work folder, no part


def test_a_rerun_skips_finished_lines_and_redoes_a_line_whose_row_changed(tmp_path):
    voice_cuts(tmp_path / "vo", (1.0, 0.8, 0.9))
    out = tmp_path / "out"
    job = BatchJob(lines=str(tmp_path / "vo"), out=str(out), workers=1, driver="energy")
    first = run(job)
    assert (first.done, first.failed, first.skipped) == (3, 0, 0)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.npz")}
    again = run(job)
    assert (again.done, again.skipped) == (0, 3)
    assert [r["status"] for r in summary(out)] == ["done earlier"] * 3
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.npz")} == before
    changed = run(BatchJob(lines=str(tmp_path / "vo"), out=str(out), workers=1, driver="energy", fps=25))
    assert (changed.done, changed.skipped) == (3, 0)  # another frame rate: other clips
    assert MotionClip.load(out / "line1" / "line1.npz").fps == 25


def _children(pid: int) -> list:
    """The process ids of `pid`'s children (Linux)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _start_batch(folder: Path, out: Path, workers: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "engine", "batch", str(folder), "--out", str(out),
                             "--workers", str(workers), "--driver", "phonetic", "--formats", "npz,csv"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_records(out: Path, count: int, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while len(list(out.glob("*/line.json"))) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the batch did not get going in time"
        time.sleep(0.01)


@pytest.mark.slow
def test_a_killed_worker_costs_only_its_line_and_the_rerun_does_only_the_missing_ones(tmp_path):
    voice_cuts(tmp_path / "vo", (0.5, 8.0, 1.0, 1.0, 1.0))  # line1 on one worker ends while line2 is being done
    out = tmp_path / "out"
    batch = _start_batch(tmp_path / "vo", out, workers=2)
    _wait_for_records(out, 1, batch)
    first_worker = int(json.loads((out / "line1" / "line.json").read_text())["worker"].rpartition(":")[2])
    victim = next(pid for pid in _children(batch.pid) if pid != first_worker)
    os.kill(victim, signal.SIGKILL)  # the worker doing line2
    batch.communicate(timeout=180)
    assert batch.returncode == 1
    first = {r["id"]: r for r in summary(out)}
    assert [k for k, r in first.items() if r["status"] == "failed"] == ["line2"] and leftovers(out) == []
    assert first["line2"]["error"] == ("The worker stopped unexpectedly (signal SIGKILL) while doing this line; "
                                       "rerun the batch to do it again.")
    assert not (out / "line2").exists()  # nothing of the line it was doing
    assert main(["batch", str(tmp_path / "vo"), "--out", str(out), "--driver", "phonetic", "--formats",
                 "npz,csv"]) == 0
    second = {r["id"]: r["status"] for r in summary(out)}
    assert second == {"line1": "done earlier", "line2": "ok", "line3": "done earlier", "line4": "done earlier",
                      "line5": "done earlier"}
    assert MotionClip.load(out / "line2" / "line2.npz").num_frames == 240


@pytest.mark.slow
def test_a_run_killed_midway_leaves_no_half_files_and_the_rerun_finishes_only_the_missing_lines(tmp_path):
    voice_cuts(tmp_path / "vo", (1.5,) * 6)
    out = tmp_path / "out"
    batch = _start_batch(tmp_path / "vo", out, workers=1)
    _wait_for_records(out, 2, batch)
    os.killpg(batch.pid, signal.SIGKILL)  # the run and its worker, at once
    batch.communicate(timeout=60)
    finished = {p.parent.name for p in out.glob("*/line.json")}
    assert 2 <= len(finished) < 6 and leftovers(out) == [] and not (out / "summary.csv").exists()
    for name in finished:
        record = json.loads((out / name / "line.json").read_text())
        assert sorted(record["outputs"]) == [f"{name}.csv", f"{name}.npz"]
        assert MotionClip.load(out / name / f"{name}.npz").num_frames == 45
    assert main(["batch", str(tmp_path / "vo"), "--out", str(out), "--driver", "phonetic", "--formats",
                 "npz,csv"]) == 0
    rows = summary(out)
    assert {r["id"] for r in rows if r["status"] == "done earlier"} == finished
    assert {r["id"] for r in rows if r["status"] == "ok"} == {f"line{k}" for k in range(1, 7)} - finished
    assert not (out / ".work").exists() and leftovers(out) == []
    assert np.all([MotionClip.load(out / r["id"] / f"{r['id']}.npz").num_frames == 45 for r in rows])
