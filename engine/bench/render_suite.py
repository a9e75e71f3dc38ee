"""What a render benchmark needs from the runtime: the NLDF renderer of a look, the mouth box, the timing loop.

The NLDF-vs-NeRF suite that uses them lives with the NeRF teacher (`engine.training.teachers.nerf.bench`,
run by `engine.training.bench`: it needs torch); this module never imports it.
"""

from __future__ import annotations

import time

import numpy as np


MOUTH_LANDMARKS = tuple(range(48, 68))


def mouth_box(head, params: dict, camera, margin: float = 0.25) -> tuple:
    """(row0, row1, col0, col1) of the projected lip landmarks, grown by `margin` of its size."""
    from ..head.landmarks import landmarks

    vertices, _ = head.forward(expression=params["expression"][None], pose=params["pose"][None],
                               translation=params["translation"][None])
    order = {int(n): k for k, n in enumerate(head.landmark_embedding.ids)}
    points = landmarks(head, vertices)[0][[order[i] for i in MOUTH_LANDMARKS]]
    uv, _ = camera.project(points)
    (c0, r0), (c1, r1) = uv.min(axis=0), uv.max(axis=0)
    grow_r, grow_c = margin * (r1 - r0), margin * (c1 - c0)
    return (max(0, int(r0 - grow_r)), min(camera.height, int(np.ceil(r1 + grow_r))),
            max(0, int(c0 - grow_c)), min(camera.width, int(np.ceil(c1 + grow_c))))


def nldf_renderer(look):
    """(params, camera) -> straight-alpha RGBA float32 for an NLDF Look."""
    from ..nldf.condition import condition_vectors
    from ..nldf.render import render_frame
    from ..render.rays import head_transform

    def render(params, camera):
        transform = head_transform(look.head, params["pose"][None], params["translation"][None],
                                   params["expression"][None])[0]
        return render_frame(look, camera, transform, condition_vectors(params, look.head)[0])
    return render


def timed(render, params, cameras, passes: int) -> tuple[list, float]:
    """(frames of the first pass, best mean ms per frame over `passes` passes), after one warm-up frame."""
    render(params[0], cameras[0])
    frames, best = [], float("inf")
    for k in range(passes):
        start = time.perf_counter()
        rendered = [render(p, c) for p, c in zip(params, cameras)]
        best = min(best, (time.perf_counter() - start) / len(params))
        frames = frames or rendered
    return frames, 1000.0 * best


