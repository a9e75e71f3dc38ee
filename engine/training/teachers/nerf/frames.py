"""From frames to rays: a frame's canonical rays and light segments, and the ray table a fit draws from.

A frame is (RGBA image [H, W, 4] straight alpha, head parameters, camera).
Its rays go into the head's canonical frame by the inverse of the head's
rigid pose (`engine.render.rays.head_transform`, numpy, float64) through the
torch rays module (`engine.training.rays`), and are clipped to
`HEAD_BOX`. Only rays that cross the box can see the head; the others render
transparent by construction and are left out of fitting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ....errors import InputError
from ....head.model import HeadModel
from ....render.camera import Camera
from ....render.quality import premultiplied
from ....render.rays import HEAD_BOX, head_transform
from ... import rays as torch_rays
from ..mesh import frame_params
from .field import condition_code


@dataclass
class FrameRays:
    """One frame's rays in the head's canonical frame, pixel order row-major.

    origins, directions [H W, 3], near, far [H W] (metres, float32), hit [H W] bool.
    """

    origins: torch.Tensor
    directions: torch.Tensor
    near: torch.Tensor
    far: torch.Tensor
    hit: torch.Tensor


def frame_rays(head: HeadModel, params: dict, camera: Camera) -> FrameRays:
    """The canonical rays of every pixel of `camera` for one frame of `params` (as `frame_params` gives them)."""
    transform = head_transform(head, params["pose"], params["translation"][None], params["expression"])
    origins, directions = torch_rays.head_rays([camera], torch.as_tensor(transform, dtype=torch.float64))
    near, far, hit = torch_rays.light_segments(origins[0], directions[0], HEAD_BOX)
    return FrameRays(origins[0].float(), directions[0].float(), near.float(), far.float(), hit)


@dataclass
class RayTable:
    """Every box-crossing ray of a set of frames, with its frame's condition code and its target.

    origins, directions [R, 3], near, far [R], frame [R] (index into codes),
    target [R, 4] premultiplied RGBA; codes [F, C]; missed_coverage: the
    summed alpha of target pixels whose rays miss the box (what no fit can learn).
    """

    origins: torch.Tensor
    directions: torch.Tensor
    near: torch.Tensor
    far: torch.Tensor
    frame: torch.Tensor
    target: torch.Tensor
    codes: torch.Tensor
    missed_coverage: float

    def __len__(self) -> int:
        return int(self.frame.shape[0])

    def batch(self, index: torch.Tensor):
        """Rays index [B] -> origins, directions [B, 3], near, far [B], codes [B, C], target [B, 4]."""
        return (self.origins[index], self.directions[index], self.near[index], self.far[index],
                self.codes[self.frame[index].long()], self.target[index])


def check_frames(frames, params, cameras) -> None:
    """InputError unless frames, parameters and cameras pair up (same count, image sizes matching cameras)."""
    if not (len(frames) == len(params) == len(cameras)) or len(frames) == 0:
        raise InputError(f"A NeRF fit needs as many frames, parameter sets and cameras, at least one "
                         f"(got {len(frames)}, {len(params)}, {len(cameras)}).")
    for k, (frame, camera) in enumerate(zip(frames, cameras)):
        shape = np.shape(frame)
        if shape != (camera.height, camera.width, 4):
            raise InputError(f"Frame {k} is {list(shape)}; its camera needs RGBA [{camera.height}, {camera.width}, 4].")


def ray_table(head: HeadModel, frames, params, cameras) -> RayTable:
    """The RayTable of frames [F] (RGBA [H, W, 4] each), parameters [F] (dicts or clip frames) and cameras [F]."""
    check_frames(frames, params, cameras)
    parts, codes, missed = [], [], 0.0
    for k, (frame, source, camera) in enumerate(zip(frames, params, cameras)):
        p = frame_params(head, source)
        rays = frame_rays(head, p, camera)
        target = torch.from_numpy(premultiplied(frame).reshape(-1, 4))
        missed += float(target[~rays.hit, 3].sum())
        keep = rays.hit
        parts.append((rays.origins[keep], rays.directions[keep], rays.near[keep], rays.far[keep],
                      torch.full((int(keep.sum()),), k, dtype=torch.int32), target[keep]))
        codes.append(condition_code(p))
    columns = [torch.cat(c) for c in zip(*parts)]
    return RayTable(*columns, codes=torch.from_numpy(np.stack(codes)), missed_coverage=missed)
