"""`engine batch --cluster ADDRESS`: the same lines on a Ray cluster that the test starts on this machine
(two CPUs), reached by its address from the batch's own process, with the same files and summary as
local workers give."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from batch_voices import leftovers, silent_voice, summary, voice_cuts, write_manifest
from engine.motion import MotionClip

ray = pytest.importorskip("ray")
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
