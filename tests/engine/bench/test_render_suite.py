"""Image quality measures and the NLDF-vs-NeRF bench rows, on tiny untrained models."""

from __future__ import annotations

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


def test_nldf_vs_nerf_rows_on_tiny_models(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from nldf_looks import tiny_look

    from engine.bench import render_suite
    from engine.head import load_head
    from engine.nldf import load_look
    from engine.training.teachers.nerf import NeRFConfig, fit_nerf
    from engine.training.teachers.nerf.teacher_set import make_teacher_set, speech_motion

    head = load_head()
    look = load_look(tiny_look(tmp_path / "models", "toon"))
    frames = make_teacher_set("toon", 2, 16, seed=1, head=head, motion=speech_motion(head, "energy"))
    small = dict(plane_resolutions=[8], plane_channels=2, hidden=8, samples=8, importance_samples=0, render_chunk=256,
                 occupancy_resolution=0, steps=1, rays_per_step=64, log_every=1, checkpoint_every=1)
    checkpoint = fit_nerf(frames.frames, frames.params, frames.cameras, NeRFConfig(**small), tmp_path / "nerf", head=head)
    rows = render_suite._look_rows(look, checkpoint, True, tmp_path, sizes=(24,))
    by_name = {r.name.split(": ", 1)[1]: r for r in rows}
    speed = by_name["NLDF frames per second"]
    assert speed.value > 0 and speed.ratio == pytest.approx(speed.value / speed.baseline, rel=1e-6)
    for name in ("NLDF PSNR vs the mesh teacher", "NLDF PSNR on the mouth box"):
        assert np.isfinite(by_name[name].value) and np.isfinite(by_name[name].baseline)
    assert 0 < by_name["NLDF SSIM"].value <= 1
    assert (tmp_path / "nldf_vs_nerf_toon_24.png").exists()
    monkeypatch.setattr(render_suite, "nerf_runs", lambda: tmp_path / "nowhere")
    assert "needs an installed look" in render_suite.nldf_vs_nerf(True, tmp_path)[0].note
