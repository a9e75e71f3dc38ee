"""Frames of a posed head over a clip: pose in chunks, render each frame with the mesh renderer."""

from __future__ import annotations

from typing import Iterator, Optional

import numpy as np

from ..errors import InputError
from ..progress import Reporter
from ..render.camera import Camera, default_framing
from ..render.shading import PORTRAIT, Look, composite_over, render_mesh, to_uint8

POSE_CHUNK = 32  # frames posed per call of head.forward
VIDEO_BACKGROUND = (0.94, 0.94, 0.93)


def render_clip_frames(head, expression: np.ndarray, pose: np.ndarray, camera: Optional[Camera] = None,
                       size: int = 256, reporter: Optional[Reporter] = None, translation=None,
                       supersample: int = 2, look: Look = PORTRAIT) -> Iterator[np.ndarray]:
    """Yield one RGBA float32 frame [H, W, 4] per clip frame.

    head: a HeadModel; expression [T, E], pose [T, 5, 3] axis-angle,
    translation [T, 3] or None. `camera` None frames the rest head
    front-on in a `size` x `size` image. Vertex colours come from
    `head.vertex_colors` (clay grey when it has none).
    """
    expression, pose = np.asarray(expression), np.asarray(pose)
    T = expression.shape[0]
    if pose.shape[0] != T or (translation is not None and np.shape(translation)[0] != T):
        raise InputError(f"The expression, pose and translation arrays must all have {T} frames.")
    if camera is None:
        camera = default_framing(head.v_template, size)
    reporter = reporter or Reporter()
    reporter.stage("render", T)
    for start in range(0, T, POSE_CHUNK):
        stop = min(T, start + POSE_CHUNK)
        shift = None if translation is None else np.asarray(translation)[start:stop]
        vertices, _ = head.forward(expression[start:stop], pose[start:stop], translation=shift)
        for k, verts in enumerate(vertices):
            frame = render_mesh(camera, verts, head.faces, head.vertex_colors, supersample, look)
            reporter.update(start + k + 1)
            yield frame


def video_frames(frames, background=VIDEO_BACKGROUND) -> Iterator[np.ndarray]:
    """RGBA float frames [H, W, 4] -> RGB uint8 frames [H, W, 3] over a flat background."""
    for frame in frames:
        yield to_uint8(composite_over(frame, background))


def render_motion_clip(head, clip, camera: Optional[Camera] = None, size: int = 256,
                       reporter: Optional[Reporter] = None, supersample: int = 2,
                       look: Look = PORTRAIT) -> Iterator[np.ndarray]:
    """Yield RGBA float32 frames [H, W, 4] of a MotionClip played on a head (see render_clip_frames)."""
    params = clip.head_params(head)
    return render_clip_frames(head, params["expression"], params["pose"], camera, size, reporter,
                              params.get("translation"), supersample, look)
