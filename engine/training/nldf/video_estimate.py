"""How long a look from a video will take on this machine, said before it starts: per-frame costs of the
MediaPipe stages as measured, and a short timing probe of the NeRF and NLDF steps on untrained networks."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from ...head.model import HeadModel
from ..teachers.nerf.config import NeRFConfig
from .config import NLDFConfig

TRACK_S_PER_FRAME = 0.12   # measured on the shared 2 cores (landmarks and fit, 256²-960² video)
MATTE_S_PER_FRAME = 0.03   # Selfie Segmentation on one crop, measured likewise
CHILD_START_S = 4.0        # starting a MediaPipe child


def expected_seconds(look, todo: list) -> dict:
    """{stage: expected seconds} for a `from_video.LookFromVideo` whose stages `todo` are still to run
    (a resumed fit counts only the steps it has left)."""
    from ...video.decode import probe_video

    s = look.settings
    info = probe_video(look.video)
    frames = info.frame_count(s.start, s.end)
    nerf = s.nerf_config()
    nldf = s.nldf_config(Path("teacher"))
    probe = timing_probe(nerf, nldf, look.head, s.size, s.threads) \
        if {"nerf", "nldf", "export"} & set(todo) else {"nerf_step": 0, "nerf_frame": 0, "nldf_step": 0}
    return {"track": CHILD_START_S + TRACK_S_PER_FRAME * frames,
            "matte": CHILD_START_S + MATTE_S_PER_FRAME * frames, "teacher_set": 0.01 * frames + 1.0,
            "nerf": max(0, nerf.steps - look.steps_done("nerf")) * probe["nerf_step"]
            + s.eval_frames * probe["nerf_frame"],
            "nldf": (nldf.frames + nldf.eval_frames) * probe["nerf_frame"]
            + max(0, nldf.steps - look.steps_done("nldf")) * probe["nldf_step"],
            "export": 10.0 + s.eval_frames * 0.05 * probe["nerf_frame"]}


def last_step(log: Path) -> int:
    """The step of the last line of a fit's log.jsonl (0 without one)."""
    if not log.is_file():
        return 0
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    return int(json.loads(lines[-1]).get("step", 0)) if lines else 0


def timing_probe(nerf: NeRFConfig, nldf: NLDFConfig, head: HeadModel, size: int, threads: int) -> dict:
    """Seconds of one NeRF fit step, one NeRF teacher frame of size x size, and one NLDF step, timed on
    untrained networks of the configs (a frame's cost is scaled from one chunk of rays; about a second)."""
    from ...nldf.condition import condition_names
    from ...render.rays import HEAD_BOX
    from ..rays import light_segments
    from ..teachers.nerf.field import HeadField, code_size
    from ..teachers.nerf.fit import make_optimizer
    from ..teachers.nerf.volume import render_rays
    from .model import build_model

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        generator = torch.Generator().manual_seed(0)
        expressions, conditions = len(head.expression_names), len(condition_names(head))
        field_ = HeadField(nerf, code_size(expressions))
        optimizer = make_optimizer(field_, nerf)

        def rays(n):
            target = torch.rand(n, 3, generator=generator) * (torch.tensor(HEAD_BOX.high) - torch.tensor(HEAD_BOX.low)) \
                + torch.tensor(HEAD_BOX.low)
            origins = torch.tensor([0.0, 0.0, 1.0]).expand(n, 3)
            directions = torch.nn.functional.normalize(target - origins, dim=1)
            near, far, _ = light_segments(origins, directions)
            return origins, directions, near, far, torch.zeros(n, code_size(expressions))

        def nerf_step():
            colour, opacity = render_rays(field_, *rays(nerf.rays_per_step), nerf.samples, nerf.importance_samples,
                                          jitter=True, generator=generator)
            loss = colour.square().mean() + opacity.square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        chunk = min(nerf.render_chunk, size * size)

        @torch.no_grad()
        def nerf_chunk():
            render_rays(field_, *rays(chunk), nerf.samples, nerf.importance_samples)

        model = build_model(nldf, conditions)
        adam = torch.optim.Adam(model.parameters(), lr=1e-4)
        if nldf.mode == "superres":      # batch_frames whole frames of one ray per stride x stride pixels
            grid = size // nldf.sr_stride
            rays_ = nldf.batch_frames * grid * grid
            inputs = (torch.rand(rays_, 3 * nldf.num_points), torch.arange(rays_), torch.rand(rays_, conditions),
                      nldf.batch_frames, grid, grid)
        else:
            inputs = torch.rand(nldf.batch_rays, 3 * nldf.num_points), torch.rand(nldf.batch_rays, conditions)

        def nldf_step():
            loss = model(*inputs).square().mean()
            adam.zero_grad()
            loss.backward()
            adam.step()

        hit_share = 0.6  # of a crop's pixels whose rays cross the head's box, about
        return {"nerf_step": best_time(nerf_step), "nldf_step": best_time(nldf_step),
                "nerf_frame": best_time(nerf_chunk) * hit_share * size * size / chunk}
    finally:
        torch.set_num_threads(previous)


def best_time(function, repeats: int = 2) -> float:
    """Seconds of the fastest of `repeats` calls after one warm-up."""
    function()
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - began)
    return best


def fmt_seconds(seconds: float) -> str:
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
