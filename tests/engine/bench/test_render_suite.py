"""Image quality measures and the NLDF-vs-NeRF bench rows, on tiny untrained models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.render.quality import rgba_psnr, rgba_ssim


def test_psnr_and_ssim_known_answers():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (32, 32, 4)).astype(np.float32)
    image[..., 3] = 1.0
    assert rgba_psnr(image, image) > 100 and rgba_ssim(image, image) == pytest.approx(1.0)
    shifted = image.copy()
    shifted[..., :3] = np.clip(shifted[..., :3] + 0.1, 0, 1)
    mse = np.mean((shifted - image) ** 2)
    assert rgba_psnr(shifted, image) == pytest.approx(10 * np.log10(1 / mse), rel=1e-4)
    transparent = image.copy()
    transparent[..., 3] = 0.0
    other = transparent.copy()
    other[..., :3] = 1.0 - other[..., :3]
    assert rgba_psnr(other, transparent) > 100           # colour under zero alpha does not count
    noisy = np.clip(image + rng.normal(0, 0.2, image.shape), 0, 1).astype(np.float32)
    assert rgba_ssim(noisy, image) < 0.9 < rgba_ssim(np.clip(image + 0.01, 0, 1), image)


SMALL = dict(plane_resolutions=[8], plane_channels=2, hidden=8, samples=8, importance_samples=0, render_chunk=256,
             occupancy_resolution=0, steps=1, rays_per_step=64, log_every=1, checkpoint_every=1)


def test_nldf_vs_nerf_rows_on_tiny_models(tmp_path):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from nldf_looks import tiny_look

    from engine.head import load_head
    from engine.nldf import load_look
    from engine.training.teachers.nerf import NeRFConfig, bench, fit_nerf
    from engine.training.teachers.nerf.teacher_set import make_teacher_set, speech_motion

    head = load_head()
    look = load_look(tiny_look(tmp_path / "models", "toon"))
    frames = make_teacher_set("toon", 2, 16, seed=1, head=head, motion=speech_motion(head, "energy"))
    checkpoint = fit_nerf(frames.frames, frames.params, frames.cameras, NeRFConfig(**SMALL), tmp_path / "nerf", head=head)
    rows = bench._look_rows(look, checkpoint, True, tmp_path, sizes=(24,), teacher="the tiny teacher")
    by_name = {r.name.split(": ", 1)[1]: r for r in rows}
    speed = by_name["NLDF frames per second"]
    assert speed.value > 0 and speed.ratio == pytest.approx(speed.value / speed.baseline, rel=1e-6)
    assert speed.baseline_name == "the tiny teacher"
    for name in ("NLDF PSNR vs the mesh teacher", "NLDF PSNR on the mouth box"):
        assert np.isfinite(by_name[name].value) and np.isfinite(by_name[name].baseline)
    assert 0 < by_name["NLDF SSIM"].value <= 1
    assert (tmp_path / "nldf_vs_nerf_toon_24.png").exists()


def test_a_fresh_clone_gets_the_benchs_short_nerf_fit_once(tmp_path, monkeypatch):
    """Without a long fit, the bench fits a short teacher, records how, and reuses it on the next run."""
    pytest.importorskip("torch")
    import json

    from engine.training.teachers.nerf import bench

    monkeypatch.setattr(bench, "nerf_runs", lambda: tmp_path / "runs")
    monkeypatch.setattr(bench, "SHORT_FIT", {False: (3, 16, 2), True: (2, 16, 1)})
    monkeypatch.setattr(bench, "SHORT_DRIVER", "energy")  # the phonetic driver's recognition costs seconds
    monkeypatch.setattr(bench, "SHORT_CONFIG", {**{k: v for k, v in SMALL.items() if k != "steps"}, "threads": 1})
    checkpoint, name = bench.teacher_checkpoint("toon", quick=True)
    assert checkpoint == tmp_path / "runs" / "nerf_toon_bench_quick" / "checkpoint.pt" and checkpoint.exists()
    record = json.loads((checkpoint.parent / "fit.json").read_text())
    assert (record["frames"], record["size"], record["steps"]) == (2, 16, 1) and record["seconds"] > 0
    assert "2 frames at 16², 1 steps" in name and "--steps 1" in record["command"]
    stamp = checkpoint.stat().st_mtime_ns
    assert bench.teacher_checkpoint("toon", quick=True) == (checkpoint, name)  # reused, not fitted again
    assert checkpoint.stat().st_mtime_ns == stamp
    long_fit = tmp_path / "runs" / "nerf_toon" / "checkpoint.pt"
    long_fit.parent.mkdir()
    long_fit.write_bytes(b"")
    assert bench.teacher_checkpoint("toon", quick=True) == (long_fit, "NeRF teacher")  # a long fit wins


def test_the_training_suites_reach_the_report_as_extra_rows(tmp_path, monkeypatch):
    """engine.training.bench writes its suites' rows as JSON; the engine's bench merges them with --extra,
    accepts their names in --only without running anything itself, and never imports training."""
    import json
    import subprocess
    import sys

    from engine.bench import report, run_benchmarks, suites
    from engine.training import bench as training_bench

    assert [name for name, _ in training_bench.SUITES] == list(suites.ELSEWHERE)
    row = report.Row("NLDF vs NeRF", "a stand-in row", 2.0, "fps")
    monkeypatch.setattr(training_bench, "SUITES", [("nldf vs nerf", lambda quick, out: [row])])
    assert training_bench.main(["--out", str(tmp_path / "training.json"), "--quick"]) == 0
    assert training_bench.main(["--out", str(tmp_path / "none.json"), "--only", "skinning"]) == 0
    assert json.loads((tmp_path / "none.json").read_text()) == []
    run_benchmarks(tmp_path, quick=True, only=("nldf vs nerf",), extra=(str(tmp_path / "training.json"),))
    rows = json.loads((tmp_path / "bench.json").read_text())["rows"]
    assert [(r["name"], r["value"]) for r in rows] == [("a stand-in row", 2.0)]
    code = "import sys, engine.bench; print(sorted(m for m in sys.modules if 'training' in m or m == 'torch'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
