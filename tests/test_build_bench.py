"""build.py bench: the bpy benches, then the training extra's suites (engine.training.bench), each passed to
the engine's bench as --extra rows; --quick and --only reach the training suites too."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import build  # noqa: E402


def test_bench_runs_the_training_suites_apart_and_merges_their_rows(monkeypatch):
    calls = []
    monkeypatch.setattr(build, "setup", lambda: None)
    monkeypatch.setattr(build, "in_venv", lambda *args: calls.append(args) or 0)
    args = SimpleNamespace(bench_args=["--quick", "--only", "skinning", "--only=nldf vs nerf"])
    assert build.cmd_bench(args) == 0
    training = next(c for c in calls if c[:2] == ("-m", "engine.training.bench"))
    assert training[2:] == ("--out", str(build.OUT / "bench_training.json"), "--quick", "--only=skinning",
                            "--only=nldf vs nerf")
    engine_bench = calls[-1]
    assert engine_bench[:2] == ("-m", "engine") and str(build.OUT / "bench_training.json") in engine_bench
    assert engine_bench[-4:] == ("--quick", "--only", "skinning", "--only=nldf vs nerf")
    assert calls.index(training) < len(calls) - 1  # rows first, then the report that merges them
