"""Teachers: functions (parameters, camera) -> RGBA that make the frames a neural light field learns.

    teacher("toon")(params, camera) -> RGBA [H, W, 4] float32, straight alpha

`params` is one frame of head parameters ({"expression": [E], "pose": [5, 3],
"translation": [3]}, or a (MotionClip, frame index) pair); `camera` an
`engine.render.Camera`. The mesh style teacher (`mesh`) renders the head's
own mesh in a look from LOOKS ("toon", "clay"); a NeRF teacher fitted to a
video will offer the same signature.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...head import load_head
from ...head.model import HeadModel
from ...render.camera import Camera
from .mesh import LOOKS, SUPERSAMPLE, frame_params, render_teacher, resolve_look

Teacher = Callable[[object, Camera], np.ndarray]


def teacher(look: str = "toon", head: HeadModel | None = None, supersample: int = SUPERSAMPLE) -> Teacher:
    """The mesh style teacher of `look` on `head` (None: the built-in head) as a function (params, camera) -> RGBA."""
    head = load_head() if head is None else head
    chosen = resolve_look(look)

    def render(params, camera: Camera) -> np.ndarray:
        return render_teacher(head, params, camera, chosen, supersample)

    return render


__all__ = ["LOOKS", "Teacher", "frame_params", "render_teacher", "teacher"]
