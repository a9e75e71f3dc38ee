"""`engine batch --cluster ADDRESS`: the same lines on a Ray cluster that the test starts on this machine
(two CPUs), reached by its address from the batch's own process, with the same files and summary as
local workers give, and a Ray worker killed mid-line costing only that line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batch_voices import leftovers, long_voice, silent_voice, summary, voice_cuts, write_manifest
from engine.motion import MotionClip

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # a Ray cluster takes 15-30 s to start on 2 shared cores
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of 2 CPUs; its address."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def test_a_manifest_runs_on_a_ray_cluster_as_on_local_workers(tmp_path, cluster):
    voice_cuts(tmp_path / "vo", (1.0, 1.2, 0.8))
    manifest = write_manifest(tmp_path / "lines.csv", [
        {"id": "one", "audio": "vo/line1.wav", "formats": "npz csv"},
        {"id": "two", "audio": "vo/line2.wav", "style": "expressive", "fps": "25"},
        {"id": "quiet", "audio": str(silent_voice(tmp_path / "vo" / "quiet.wav"))},
        {"id": "three", "audio": "vo/line3.wav", "driver": "energy"},
    ])
    out = tmp_path / "out"
    command = [sys.executable, "-m", "engine", "batch", str(manifest), "--out", str(out), "--cluster", cluster,
               "--workers", "2", "--driver", "phonetic"]
    done = subprocess.run(command, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]  # the silent line failed, the rest were done
    assert "3 lines done, 1 failed" in done.stdout
    rows = {r["id"]: r for r in summary(out)}
    assert {k: r["status"] for k, r in rows.items()} == {"one": "ok", "two": "ok", "quiet": "failed", "three": "ok"}
    assert rows["quiet"]["error"].startswith("The voice 'quiet.wav' is silent")
    assert len({r["worker"] for r in rows.values()}) >= 1 and all(r["worker"] for r in rows.values())
    assert MotionClip.load(out / "two" / "two.npz").fps == 25
    assert MotionClip.load(out / "three" / "three.npz").metadata["driver"] == "energy"
    assert (out / "one" / "one.csv").is_file() and leftovers(out) == [] and not (out / ".work").exists()
    again = subprocess.run(command, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                           timeout=300)
    assert "0 lines done, 1 failed, 3 finished earlier" in again.stdout, again.stderr[-2000:]


def _actor_pids() -> list:
    """The process ids of this machine's Ray workers that hold a LineActor (their title names it)."""
    return [pid for pid, _ in _processes() if b"ray::LineActor" in _cmdline(pid)]


def _processes() -> list:
    """(pid, parent pid) of every process of this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                found.append((int(entry.name), int((entry / "stat").read_text().rpartition(")")[2].split()[1])))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> list:
    """The processes `pid` forked (they keep its title, ray::LineActor...)."""
    return [child for child, parent in _processes() if parent == pid and b"ray::LineActor" in _cmdline(child)]


def test_a_ray_worker_killed_mid_line_costs_only_that_line(tmp_path, cluster):
    # line2 is long enough (>= 20 s) for the phonetic driver to recognise it on a pool of worker processes:
    # the actor with pool workers is the one doing line2, killed there (its workers must end with it, or
    # they would keep its connection to Ray open and the batch would wait for ever)
    voice_cuts(tmp_path / "vo", (0.5, 1.0, 1.0, 1.0))
    long_voice(tmp_path / "vo" / "line2.wav", 40.0)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "engine", "batch", str(tmp_path / "vo"), "--out", str(out), "--cluster", cluster,
               "--workers", "2", "--driver", "phonetic"]
    batch = subprocess.Popen(command, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (doing := [(pid, kids) for pid in _actor_pids() if (kids := _children(pid))]):
        assert batch.poll() is None and not (out / "line2").exists() and time.monotonic() < deadline, \
            batch.communicate()
        time.sleep(0.002)
    (actor, workers), = doing
    os.kill(actor, signal.SIGKILL)
    stdout, stderr = batch.communicate(timeout=240)
    rows = {r["id"]: r for r in summary(out)}
    assert {k: r["status"] for k, r in rows.items()} == {"line1": "ok", "line2": "failed", "line3": "ok",
                                                         "line4": "ok"}, stderr[-2000:]
    assert rows["line2"]["error"].startswith("The Ray worker stopped unexpectedly while doing this line")
    assert not (out / "line2").exists() and leftovers(out) == []
    assert not [pid for pid in workers if b"LineActor" in _cmdline(pid)]  # the pool went with its actor
    again = subprocess.run(command, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                           timeout=300)
    assert "1 line done, 0 failed, 3 finished earlier" in again.stdout, again.stderr[-2000:]
    assert MotionClip.load(out / "line2" / "line2.npz").num_frames == 1200
