"""Training beyond one box: two CPU processes under torchrun (gloo) take the steps one process takes on the
same global batch, for ADF training and NLDF distillation, each started through its command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

torch = pytest.importorskip("torch")

from engine.drivers.adf.channels import OUTPUT_CHANNELS  # noqa: E402
from engine.errors import InputError  # noqa: E402
from engine.motion import MotionClip  # noqa: E402
from engine.training.adf.config import ADFConfig  # noqa: E402
from engine.training.adf.train import train  # noqa: E402
from engine.training.distributed import TORCHRUN_VARIABLES, Processes, started_by_torchrun  # noqa: E402
from engine.training.nldf.distill import distill  # noqa: E402
from tests.nldf_looks import TINY as TINY_NLDF, tiny_config  # noqa: E402
from tests.torch_fixtures import one_thread  # noqa: E402,F401  (autouse: torch on one thread)

ROOT = Path(__file__).resolve().parents[3]
RTOL, ATOL = 1e-5, 1e-7          # two processes against one, after two Adam steps
# Adam divides each gradient by its own size, so where the true gradient is (close to) zero it turns
# rounding noise into a step of up to lr / 100: ADF's parameters are held to a thousandth of a step
# (lr 1e-2), and the attention's key bias, whose gradient is exactly zero (a softmax ignores a shift
# shared by every key), is left out. A weight whose gradient is only close to zero can still take such a
# step on one CPU and not on another (seen: 1 of 2,048 weights 2.7e-5 apart on one machine, none on the
# one before): so no more than ADF_STRAYS of each tensor's weights may stray past ADF_ATOL, none past lr / 100.
ADF_ATOL = 1e-5
ADF_STRAYS = 1e-3
ADF_STRAY_ATOL = 1e-4
TINY_ADF = dict(width=32, layers=1, heads=2, style_hidden=16, steps=2, batch=4, window_s=1.0, log_every=2,
                warmup_steps=1, dropout=0.0, learning_rate=1e-2, time_masks=1, freq_masks=1, freq_warp=0.1,
                checkpoint_every=0)
NLDF = dict(TINY_NLDF, learning_rate=1e-2, warmup_steps=1)   # steps large enough to tell runs apart


def launch(*program: str, timeout: float = 240.0) -> subprocess.CompletedProcess:
    """`python PROGRAM` (a script, or -m MODULE ARGS) in two CPU processes under torchrun."""
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_VARIABLES}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *program]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def torchrun(*module_and_args: str) -> str:
    """`python -m MODULE ARGS` in two CPU processes under torchrun; its output (the test fails with it)."""
    result = launch("-m", *module_and_args)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-6000:]
    return result.stdout


def sets(values: dict) -> list[str]:
    return [f"--set={key}={json.dumps(value)}" for key, value in values.items()]


def assert_same_weights(two: dict, one: dict, atol: float = ATOL) -> None:
    assert two.keys() == one.keys()
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=RTOL, atol=atol, msg=lambda m: f"{name}: {m}")


def assert_nearly_same_weights(two: dict, one: dict) -> None:
    """ADF's check: each tensor within ADF_ATOL but for at most a share ADF_STRAYS of its weights, all within
    ADF_STRAY_ATOL."""
    assert two.keys() == one.keys()
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=RTOL, atol=ADF_STRAY_ATOL, msg=lambda m: f"{name}: {m}")
        strays = float(stray_share(two[name], one[name]))
        assert strays <= ADF_STRAYS, f"{name}: {strays:.2%} of its weights differ by more than {ADF_ATOL}"


def stray_share(a, b) -> float:
    """The share of elements of a that differ from b by more than ADF_ATOL + RTOL |b|."""
    return float(((a - b).abs() > ADF_ATOL + RTOL * b.abs()).double().mean()) if a.numel() else 0.0


def without_key_bias(state: dict) -> dict:
    """The weights with the key third of each attention block's qkv bias left out."""
    def cut(name, value):
        third = len(value) // 3
        return torch.cat([value[:third], value[2 * third:]]) if name.endswith("qkv.bias") else value
    return {name: cut(name, value) for name, value in state.items()}


def largest_difference(a: dict, b: dict) -> float:
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def write_pairs(folder: Path) -> Path:
    """Two takes (2.5 s and 3 s of a gliding, pulsing tone) beside smooth random clips of every channel."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k, seconds in enumerate((2.5, 3.0)):
        t = np.arange(int(seconds * 16000)) / 16000.0
        tone = np.sin(2 * np.pi * (140 + 40 * k) * t + 8 * np.sin(2 * np.pi * 1.5 * t)) * (0.6 + 0.4 * np.sin(8 * t))
        soundfile.write(folder / f"take{k}.wav", (0.3 * tone + 0.01 * rng.standard_normal(t.size)).astype(np.float32),
                        16000)
        frames = int(seconds * 30)
        knots = rng.uniform(0.0, 0.4, (frames // 10 + 2, len(OUTPUT_CHANNELS)))
        values = np.stack([np.interp(np.arange(frames) / 10.0, np.arange(len(knots)), knots[:, c])
                           for c in range(len(OUTPUT_CHANNELS))], axis=1)
        values[:, [OUTPUT_CHANNELS.index("jaw_rx"), OUTPUT_CHANNELS.index("neck_rx")]] *= 0.5   # radians
        MotionClip(list(OUTPUT_CHANNELS), values.astype(np.float32), 30.0).save(folder / f"take{k}.npz")
    return folder


def checkpoint(folder: Path) -> dict:
    return torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=False)


def test_adf_training_on_two_processes_matches_one(tmp_path):
    pairs = write_pairs(tmp_path / "takes")
    config = dict(TINY_ADF, pairs=[str(pairs)])
    torchrun("engine.training.adf", "train", "--out", str(tmp_path / "two"), *sets(config))
    train(ADFConfig(**config), tmp_path / "one")
    two, one = checkpoint(tmp_path / "two"), checkpoint(tmp_path / "one")
    assert_nearly_same_weights(without_key_bias(two["net"]), without_key_bias(one["net"]))
    assert_nearly_same_weights(two["style"], one["style"])
    logged = [json.loads(line) for line in (tmp_path / "two" / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in logged] == [2]   # rank 0 alone writes the log
    # the tolerance tells runs apart: one process on half the batch lands far from both
    train(ADFConfig(**(config | {"batch": 2})), tmp_path / "half")
    half = checkpoint(tmp_path / "half")["net"]
    assert largest_difference(half, one["net"]) > 10 * ADF_STRAY_ATOL
    assert max(stray_share(half[k], one["net"][k]) for k in half) > 100 * ADF_STRAYS


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


COLLECTIVES = """
import json, torch
from engine.training.distributed import training_processes
with training_processes() as processes:
    terms = processes.mean({"total": 1.0 + processes.rank, **({"gap_mm": 4.0} if processes.rank else {})})
    gathered = processes.gather(torch.arange(2) + 2 * processes.rank)
    if processes.main:
        print(json.dumps({"terms": terms, "gathered": gathered.tolist()}), flush=True)
    processes.check_split(3, "batch")
"""


def test_metrics_average_over_the_processes_that_have_them_and_an_error_ends_every_process(tmp_path):
    script = tmp_path / "collectives.py"
    script.write_text(COLLECTIVES)
    result = launch(str(script), timeout=120)
    printed = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    assert printed == {"terms": {"total": 1.5, "gap_mm": 4.0}, "gathered": [0, 1, 2, 3]}
    assert result.returncode != 0 and "'batch' of 3 cannot be split evenly across 2" in result.stderr


def test_one_process_is_left_alone_and_uneven_batches_are_refused():
    assert not started_by_torchrun({"RANK": "0"})
    alone = Processes()
    items = np.arange(6)
    assert alone.shard(items) is items and alone.mean({"loss": 0.5}) == {"loss": 0.5}
    second = Processes(rank=1, size=3)
    assert list(second.shard(items)) == [2, 3]
    with pytest.raises(InputError, match="'batch_rays' of 7 cannot be split evenly across 3"):
        second.check_split(7, "batch_rays")
