"""How good and how fast a teacher is: PSNR against reference frames, render time, a side-by-side picture.

PSNR here is over premultiplied RGBA (colour times alpha, and alpha): the
colour of a transparent pixel does not count, a wrong silhouette does. The
student is measured the same way against the same reference.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ....preview.png import write_png
from ....preview.sheet import contact_sheet
from ....render.camera import Camera
from ....render.quality import rgba_psnr

SHEET_CELL = 128  # pixels: the least width of a frame on a side-by-side sheet


def compare(render, frames, params, cameras) -> dict:
    """Render every (params, camera) with `render` and score against frames [F, H, W, 4].

    Returns {"psnr": mean dB, "psnr_each": [F] dB, "images": [F, H, W, 4]}.
    """
    images = np.stack([render(p, c) for p, c in zip(params, cameras)])
    scores = [rgba_psnr(a, b) for a, b in zip(images, frames)]
    return {"psnr": float(np.mean(scores)), "psnr_each": scores, "images": images}


def render_ms(render, params, camera: Camera, sizes=(128, 256), repeats: int = 1) -> dict:
    """Milliseconds per frame of `render` at each square size: {size: best of `repeats` runs} (after one warm-up)."""
    timings = {}
    for size in sizes:
        view = camera.resized(size, size)
        render(params, view)
        best = float("inf")
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            render(params, view)
            best = min(best, time.perf_counter() - start)
        timings[int(size)] = 1000.0 * best
    return timings


def side_by_side(references, images, labels=("mesh", "nerf")) -> np.ndarray:
    """RGB uint8 sheet: one column per frame, reference above, rendering below with its PSNR.

    Frames smaller than SHEET_CELL pixels are enlarged by whole pixels (nearest) so they can be seen.
    """
    references, images = np.asarray(references), np.asarray(images)
    scores = [rgba_psnr(a, b) for a, b in zip(images, references)]
    factor = max(1, SHEET_CELL // references.shape[2])
    cells = np.concatenate([references, images]).repeat(factor, axis=1).repeat(factor, axis=2)
    names = [labels[0]] * len(references) + [f"{labels[1]} {s:.1f} dB" for s in scores]
    return contact_sheet(cells, names, columns=len(references))


def save_side_by_side(path, references, images) -> Path:
    """Write `side_by_side` as a PNG at `path`; returns the path."""
    return write_png(path, side_by_side(references, images))
