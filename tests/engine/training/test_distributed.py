"""Training beyond one box: two CPU processes under torchrun (gloo) take the steps one process takes on the
same global batch (NLDF distillation, started through its command line)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.errors import InputError  # noqa: E402
from engine.training.distributed import TORCHRUN_VARIABLES, Processes, started_by_torchrun  # noqa: E402
from engine.training.nldf.distill import distill  # noqa: E402
from tests.nldf_looks import TINY as TINY_NLDF, tiny_config  # noqa: E402
from tests.torch_fixtures import one_thread  # noqa: E402,F401  (autouse: torch on one thread)

ROOT = Path(__file__).resolve().parents[3]
RTOL, ATOL = 1e-5, 1e-7          # two processes against one, after two Adam steps
NLDF = dict(TINY_NLDF, learning_rate=1e-2, warmup_steps=1)   # steps large enough to tell runs apart


def torchrun(*module_and_args: str, timeout: float = 240.0) -> str:
    """`python -m MODULE ARGS` in two CPU processes under torchrun; its output (the test fails with it)."""
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_VARIABLES}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", *module_and_args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-6000:]
    return result.stdout


def sets(values: dict) -> list[str]:
    return [f"--set={key}={json.dumps(value)}" for key, value in values.items()]


def assert_same_weights(two: dict, one: dict) -> None:
    assert two.keys() == one.keys()
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=RTOL, atol=ATOL, msg=lambda m: f"{name}: {m}")


def largest_difference(a: dict, b: dict) -> float:
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def checkpoint(folder: Path) -> dict:
    return torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=False)


def test_nldf_distillation_on_two_processes_matches_one(tmp_path):
    torchrun("engine.training.nldf", "distill", "--out", str(tmp_path / "two"), *sets(NLDF))
    distill(tiny_config(**NLDF), tmp_path / "one")
    two, one = checkpoint(tmp_path / "two"), checkpoint(tmp_path / "one")
    assert two["step"] == one["step"] == 2
    assert_same_weights(two["model"], one["model"])
    # every process folded every ray's error into its pool: rank 0's pool is the single process's
    np.testing.assert_allclose(two["pool"]["errors"], one["pool"]["errors"], rtol=1e-4, atol=1e-7)
    assert np.array_equal(two["pool"]["hard"], one["pool"]["hard"])
    assert len((tmp_path / "two" / "log.jsonl").read_text().splitlines()) == 2
    shards = sorted(p.name for p in (tmp_path / "two" / "teacher").iterdir())
    assert shards == sorted(p.name for p in (tmp_path / "one" / "teacher").iterdir()) and len(shards) == 3
    distill(tiny_config(**(NLDF | {"batch_rays": 32})), tmp_path / "half")
    assert largest_difference(checkpoint(tmp_path / "half")["model"], one["model"]) > 1e3 * ATOL


def test_one_process_is_left_alone_and_uneven_batches_are_refused():
    assert not started_by_torchrun({"RANK": "0"})
    alone = Processes()
    items = np.arange(6)
    assert alone.shard(items) is items and alone.mean({"loss": 0.5}) == {"loss": 0.5}
    second = Processes(rank=1, size=3)
    assert list(second.shard(items)) == [2, 3]
    with pytest.raises(InputError, match="'batch_rays' of 7 cannot be split evenly across 3"):
        second.check_split(7, "batch_rays")
