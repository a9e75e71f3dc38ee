"""Render a fitted NeRF teacher: (params, camera) -> RGBA [H, W, 4], in chunks of rays so memory stays bounded."""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from ....head.model import HeadModel
from ....render.camera import Camera
from ...rays import light_segments
from ..mesh import frame_params
from .config import NeRFConfig
from .field import HeadField, condition_code
from .fit import load_field
from .frames import frame_rays
from .volume import render_rays

MIN_OPACITY = 1e-4  # below this a pixel is transparent and its colour 0 (straight alpha)


@torch.no_grad()
def render_nerf(field: HeadField, config: NeRFConfig, head: HeadModel, params, camera: Camera,
                chunk: Optional[int] = None) -> np.ndarray:
    """RGBA [H, W, 4] float32 (straight alpha) of one frame of `params` seen by `camera`.

    params as the mesh teacher takes them (a dict or a (MotionClip, frame)
    pair); only rays crossing the head's box are rendered, `chunk` rays
    (default config.render_chunk) per network pass. Sampling is deterministic
    (bin middles, quantile importance draws).
    """
    p = frame_params(head, params)
    rays = frame_rays(head, p, camera)
    premul = torch.zeros(rays.hit.shape[0], 4)
    index = torch.nonzero(rays.hit)[:, 0]
    premul[index] = render_canonical(field, config, condition_code(p), rays.origins[index], rays.directions[index],
                                     chunk)
    return straight_alpha(premul.numpy()).reshape(camera.height, camera.width, 4)


@torch.no_grad()
def render_canonical(field: HeadField, config: NeRFConfig, code, origins: torch.Tensor, directions: torch.Tensor,
                     chunk: Optional[int] = None) -> torch.Tensor:
    """Premultiplied RGBA [N, 4] of canonical-frame rays origins, unit directions [N, 3] under one condition code [C].

    Rays are clipped to HEAD_BOX here (misses give 0); `chunk` rays per
    network pass (default config.render_chunk); deterministic sampling.
    """
    field.eval()
    code = torch.as_tensor(np.asarray(code, np.float32))
    origins, directions = origins.float(), directions.float()
    near, far, _ = light_segments(origins, directions)
    out = torch.zeros(origins.shape[0], 4)
    step = int(chunk or config.render_chunk)
    for part in torch.split(torch.arange(origins.shape[0]), step):
        colour, opacity = render_rays(field, origins[part], directions[part], near[part], far[part],
                                      code.expand(part.shape[0], -1), config.samples, config.importance_samples,
                                      occupancy=field.sampler_mask())
        out[part, :3], out[part, 3] = colour, opacity
    return out


def straight_alpha(premul: np.ndarray) -> np.ndarray:
    """Premultiplied RGBA [..., 4] -> straight RGBA [..., 4] float32 in [0, 1] (colour 0 where alpha < MIN_OPACITY)."""
    alpha = np.clip(premul[..., 3:], 0.0, 1.0)
    visible = alpha >= MIN_OPACITY
    rgb = np.where(visible, premul[..., :3] / np.maximum(alpha, MIN_OPACITY), 0.0)
    return np.clip(np.concatenate([rgb, np.where(visible, alpha, 0.0)], axis=-1), 0.0, 1.0).astype(np.float32)


class NeRFTeacher:
    """A fitted NeRF teacher: call it with (params, camera) for RGBA [H, W, 4] float32 (straight alpha).

    config, field and head are the checkpoint's; threads: torch CPU threads
    while rendering (None leaves torch's setting).
    """

    def __init__(self, config: NeRFConfig, field: HeadField, head: HeadModel, threads: Optional[int] = None) -> None:
        self.config, self.field, self.head, self.threads = config, field, head, threads

    def __call__(self, params, camera: Camera) -> np.ndarray:
        return self._with_threads(render_nerf, self.field, self.config, self.head, params, camera)

    def canonical_rays(self, params, origins, directions) -> np.ndarray:
        """Premultiplied RGBA [N, 4] float32 of rays in the head's canonical frame (origins, unit directions [N, 3]).

        For ray pools (a student's hard rays): the rays are already in the
        frame `engine.render.rays.head_rays` gives; params give the condition code.
        """
        code = condition_code(frame_params(self.head, params))
        origins, directions = (torch.as_tensor(np.asarray(a), dtype=torch.float32) for a in (origins, directions))
        return self._with_threads(render_canonical, self.field, self.config, code, origins, directions).numpy()

    def _with_threads(self, function, *args):
        previous = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(int(self.threads))
        try:
            return function(*args)
        finally:
            torch.set_num_threads(previous)


def nerf_teacher(checkpoint, head: Optional[HeadModel] = None, threads: Optional[int] = None) -> NeRFTeacher:
    """The fitted NeRF teacher of `checkpoint`: a callable (params, camera) -> RGBA [H, W, 4] float32.

    The same signature as the mesh teacher (`teacher("toon")`); head None is
    the built-in head (it must have the expression components the checkpoint
    was fitted on).
    """
    config, field, head = load_field(checkpoint, head)
    return NeRFTeacher(config, field, head, threads)
