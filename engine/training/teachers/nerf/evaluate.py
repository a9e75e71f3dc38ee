"""Score a fitted NeRF teacher on held-out mesh-teacher frames: PSNR, render speed, a side-by-side picture.

Held-out frames come from `make_teacher_set` with another seed than the
training set's: other motion frames, other perturbations, other cameras.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np

from ....head.model import HeadModel
from ....progress import Reporter, silent
from ....render.camera import default_framing
from .quality import compare, render_ms, save_side_by_side
from .render import nerf_teacher
from .teacher_set import TeacherSet, make_teacher_set

HELDOUT_SEED = 1_000_003   # added to the training seed for the held-out frames
SPEED_SIZES = (128, 256)   # square sizes the render time is measured at
SHEET_FRAMES = 6           # held-out frames shown side by side


def heldout_set(look: str, count: int, size: int, seed: int = 0, head: Optional[HeadModel] = None,
                driver: str = "phonetic", reporter: Optional[Reporter] = None) -> TeacherSet:
    """`count` mesh-teacher frames of `look` that a fit with training seed `seed` never saw."""
    return make_teacher_set(look, count, size, seed + HELDOUT_SEED, head, driver, reporter=reporter)


def evaluate_checkpoint(checkpoint, frames: TeacherSet, out: Optional[Path] = None, sheet: Optional[Path] = None,
                        threads: Optional[int] = None, reporter: Optional[Reporter] = None) -> dict:
    """PSNR of the teacher on frames (mean and per frame, dB) and ms per frame at SPEED_SIZES.

    Writes the numbers to out/eval.json when `out` is given and a
    side-by-side PNG of the first SHEET_FRAMES frames at `sheet` when given.
    """
    reporter = reporter or silent()
    render = nerf_teacher(checkpoint, threads=threads)
    reporter.stage("scoring the NeRF teacher", 2)
    scored = compare(render, frames.frames, frames.params, frames.cameras)
    reporter.update(1)
    camera = default_framing(render.head.v_template, SPEED_SIZES[0])
    speed = render_ms(render, frames.params[0], camera, SPEED_SIZES)
    reporter.update(2)
    result = {"checkpoint": str(checkpoint), "frames": len(frames), "size": int(frames.frames.shape[1]),
              "psnr_db": round(scored["psnr"], 3), "psnr_each_db": [round(s, 3) for s in scored["psnr_each"]],
              "ms_per_frame": {str(k): round(v, 1) for k, v in speed.items()},
              "samples_per_ray": render.config.samples + render.config.importance_samples}
    if out is not None:
        (Path(out) / "eval.json").write_text(json.dumps(result, indent=2))
    if sheet is not None:
        shown = min(SHEET_FRAMES, len(frames))
        save_side_by_side(sheet, frames.frames[:shown], np.asarray(scored["images"][:shown]))
    return result
