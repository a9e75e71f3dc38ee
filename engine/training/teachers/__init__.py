"""Teachers: functions (parameters, camera) -> RGBA that make the frames a neural light field learns.

    teacher("toon")(params, camera) -> RGBA [H, W, 4] float32, straight alpha

`params` is one frame of head parameters ({"expression": [E], "pose": [5, 3],
"translation": [3]}, or a (MotionClip, frame index) pair); `camera` an
`engine.render.Camera`. The mesh style teacher (`mesh`) renders the head's
own mesh in a look from LOOKS ("toon", "clay"); the NeRF teacher (`nerf`),
fitted to frames of a look or of a tracked video, offers the same signature:

    teacher("nerf", checkpoint="runs/nerf_toon/checkpoint.pt")(params, camera) -> RGBA [H, W, 4]
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...errors import InputError
from ...head.model import HeadModel
from ...render.camera import Camera
from .mesh import LOOKS, SUPERSAMPLE, frame_params, mesh_teacher, render_teacher

Teacher = Callable[[object, Camera], np.ndarray]
NERF = "nerf"  # the look name of a fitted NeRF teacher (it needs its checkpoint)


def teacher(look: str = "toon", head: HeadModel | None = None, supersample: int = SUPERSAMPLE,
            checkpoint=None) -> Teacher:
    """A teacher as a function (params, camera) -> RGBA [H, W, 4] float32, on `head` (None: the built-in head).

    look: a mesh style look from LOOKS, or "nerf" with `checkpoint` (a fitted
    NeRF teacher's checkpoint.pt; supersample does not apply to it).
    """
    if look == NERF:
        if checkpoint is None:
            raise InputError("The NeRF teacher needs its checkpoint: teacher(\"nerf\", checkpoint=path).")
        from .nerf import nerf_teacher  # torch loads only for the NeRF teacher

        return nerf_teacher(checkpoint, head)
    return mesh_teacher(look, head, supersample)


__all__ = ["LOOKS", "NERF", "Teacher", "frame_params", "render_teacher", "teacher"]
