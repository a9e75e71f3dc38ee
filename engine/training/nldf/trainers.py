"""One distillation step and one held-out render for each student: per-ray (`RayTrainer`) and super-resolution
(`FrameTrainer`).

Both measure the loss in premultiplied RGBA (colour times alpha, and alpha),
so colour where the teacher is transparent does not count, weighted per pixel
by the frame's region weight map (config.loss: squared error, L1 or
Charbonnier; the super-resolution student can add an L1 term on the image
gradients, config.gradient_weight); both feed each drawn item's error (rays,
or frames) back to the active pool.

Under torchrun every process draws the same batch (same pool, same generator)
and steps on its equal slice of it (`Processes.shard`); the errors of all
slices are gathered back, so every process's pool stays the one a single
process would have.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...render import rays as reference
from ...render.rays import HEAD_BOX, RayEncoding
from ...render.quality import premultiplied
from ..distributed import Processes
from .data import FrameSet
from .model import render_rays
from .pool import ActivePool
from ..rays import encode_points, light_segments, segment_points

EVAL_CHUNK = 16384  # rays per network call when rendering a held-out frame


def segment_inputs(origins: torch.Tensor, directions: torch.Tensor, num_points: int):
    """Canonical rays [N, 3] -> the network's points [N, 3K] float32 (box-normalised) and hit [N] bool.

    Segments are found in float64, so grazing rays agree with the numpy runtime.
    """
    o, d = origins.double(), directions.double()
    near, far, hit = light_segments(o, d, HEAD_BOX)
    points = segment_points(o, d, near, far, num_points)
    return encode_points(points, HEAD_BOX, RayEncoding(num_points, 0, True)).float(), hit


def frame_rays(frames: FrameSet, k: int, stride: int = 1):
    """Canonical origins, directions [n, 3] float64 of frame k's ray grid with `stride` (numpy reference)."""
    origins, directions = reference.head_rays(frames.cameras[k], frames.transforms[k], stride)
    return origins.reshape(-1, 3), directions.reshape(-1, 3)


def on_device(array: np.ndarray, processes: Processes) -> torch.Tensor:
    """A numpy array as a tensor on the process's device (the same memory on the CPU)."""
    return torch.from_numpy(array).to(processes.device)


def pixel_error(difference: torch.Tensor, config) -> torch.Tensor:
    """Per-pixel loss [...] of a premultiplied RGBA difference [..., 4] (mean over the channels), by config.loss."""
    if config.loss == "l1":
        return difference.abs().mean(dim=-1)
    if config.loss == "charbonnier":
        eps = float(config.charbonnier_eps)
        return (torch.sqrt(difference ** 2 + eps * eps) - eps).mean(dim=-1)
    return (difference ** 2).mean(dim=-1)


def frame_losses(predicted: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, config) -> torch.Tensor:
    """Per-frame loss [B] of predicted and target premultiplied RGBA [B, H, W, 4] with region weights [B, H, W]:
    the weighted mean pixel error, plus gradient_weight x the weighted mean L1 error of the horizontal and
    vertical pixel differences (a pixel pair weighs the larger of its two weights)."""
    difference = predicted - target
    loss = (pixel_error(difference, config) * weights).mean(dim=(1, 2))
    if config.gradient_weight:
        dx = (difference[:, :, 1:] - difference[:, :, :-1]).abs().mean(dim=-1)
        dy = (difference[:, 1:] - difference[:, :-1]).abs().mean(dim=-1)
        wx = torch.maximum(weights[:, :, 1:], weights[:, :, :-1])
        wy = torch.maximum(weights[:, 1:], weights[:, :-1])
        loss = loss + config.gradient_weight * 0.5 * ((dx * wx).mean(dim=(1, 2)) + (dy * wy).mean(dim=(1, 2)))
    return loss


def psnr(mse: float) -> float:
    """Peak signal-to-noise ratio (dB) of a mean squared error on [0, 1] values."""
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


class RayTrainer:
    """Per-ray student: batches of hit rays from all frames, one pool entry per ray."""

    def __init__(self, model, frames: FrameSet, config, processes: Processes | None = None) -> None:
        self.model, self.config, self.processes = model, config, processes or Processes()
        self.network = self.processes.wrap(model)   # the model itself on one process, DDP on several
        self.conditions = on_device(frames.conditions, self.processes)
        origins, directions, frame, target, weight = [], [], [], [], []
        for k in range(len(frames)):
            o, d = frame_rays(frames, k)
            hit = reference.light_segments(o, d)[2]
            origins.append(o[hit].astype(np.float32))
            directions.append(d[hit].astype(np.float32))
            frame.append(np.full(int(hit.sum()), k, np.int32))
            target.append(premultiplied(frames.rgba[k].reshape(-1, 4)[hit]))
            weight.append(frames.weights[k].reshape(-1)[hit])
        self.origins, self.directions = np.concatenate(origins), np.concatenate(directions)
        self.frame, self.target, self.weight = np.concatenate(frame), np.concatenate(target), np.concatenate(weight)
        self.pool = ActivePool(len(self.frame), config.pool_fraction, config.hard_fraction, config.error_decay)

    def step(self, optimizer, rng: np.random.Generator) -> float:
        """One optimiser step on config.batch_rays rays (this process's slice of them); returns the weighted
        loss of the slice."""
        index = self.pool.sample(self.config.batch_rays, rng)
        mine, p = self.processes.shard(index), self.processes
        points, hit = segment_inputs(on_device(self.origins[mine], p), on_device(self.directions[mine], p),
                                     self.config.num_points)
        rgba = self.network(points, self.conditions[on_device(self.frame[mine], p).long()])
        rgba = rgba * hit[:, None].to(rgba)
        predicted = torch.cat([rgba[:, :3] * rgba[:, 3:], rgba[:, 3:]], dim=1)
        error = pixel_error(predicted - on_device(self.target[mine], p), self.config)
        loss = (error * on_device(self.weight[mine], p)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        self.pool.update(index, p.gather(error.detach()).cpu().numpy())
        return float(loss.detach())

    @torch.no_grad()
    def render(self, frames: FrameSet, k: int) -> np.ndarray:
        """Straight-alpha RGBA [H, W, 4] of frame k of `frames` by the student."""
        o, d = (on_device(a, self.processes) for a in frame_rays(frames, k))
        condition = on_device(frames.conditions[k:k + 1], self.processes)
        out = []
        for start in range(0, len(o), EVAL_CHUNK):
            points, hit = segment_inputs(o[start:start + EVAL_CHUNK], d[start:start + EVAL_CHUNK],
                                         self.config.num_points)
            out.append(render_rays(self.model, points, condition, hit))
        camera = frames.cameras[k]
        return torch.cat(out).reshape(camera.height, camera.width, 4).cpu().numpy()


class FrameTrainer:
    """Super-resolution student: batches of whole frames (low-res rays in, full image out), one pool entry
    per frame."""

    def __init__(self, model, frames: FrameSet, config, processes: Processes | None = None) -> None:
        self.model, self.config, self.frames = model, config, frames
        self.processes = processes or Processes()
        self.network = self.processes.wrap(model)   # the model itself on one process, DDP on several
        self.stride = int(config.sr_stride)
        self.grid = (config.image_size // self.stride, config.image_size // self.stride)
        self.low = [self.low_inputs(frames, k) for k in range(len(frames))]
        self.full_hit = np.stack([_full_hit(frames, k) for k in range(len(frames))])
        self.target = premultiplied(frames.rgba)
        self.pool = ActivePool(len(frames), config.pool_fraction, config.hard_fraction, config.error_decay)

    def low_inputs(self, frames: FrameSet, k: int):
        """Points [n, 3K] and hit [n] of frame k's low-res rays (fixed per frame, so computed once)."""
        return segment_inputs(*(on_device(a, self.processes) for a in frame_rays(frames, k, self.stride)),
                              self.config.num_points)

    def forward(self, conditions: np.ndarray, low: list, full_hit: np.ndarray, network=None) -> torch.Tensor:
        """Straight-alpha RGBA [B, H, W, 4] of B frames: conditions [B, C], low-res inputs [B] (points, hit),
        full-res hit [B, H, W] (misses at alpha 0); by `network` (default: the model)."""
        n = self.grid[0] * self.grid[1]
        points = torch.cat([p[hit] for p, hit in low])
        index = torch.cat([torch.nonzero(hit)[:, 0] + b * n for b, (_, hit) in enumerate(low)])
        condition = torch.cat([on_device(conditions[b:b + 1], self.processes).expand(int(hit.sum()), -1)
                               for b, (_, hit) in enumerate(low)])
        network = self.model if network is None else network
        rgba = network(points, index, condition, len(low), *self.grid).permute(0, 2, 3, 1)
        return rgba * on_device(full_hit, self.processes)[..., None].to(rgba)

    def step(self, optimizer, rng: np.random.Generator) -> float:
        """One optimiser step on config.batch_frames frames (this process's slice of them); returns the
        weighted loss of the slice."""
        picks = self.pool.sample(self.config.batch_frames, rng)
        mine, p = self.processes.shard(picks), self.processes
        rgba = self.forward(self.frames.conditions[mine], [self.low[k] for k in mine], self.full_hit[mine],
                            self.network)
        predicted = torch.cat([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], dim=-1)
        per_frame = frame_losses(predicted, on_device(self.target[mine], p), on_device(self.frames.weights[mine], p),
                                 self.config)
        loss = per_frame.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        self.pool.update(picks, p.gather(per_frame.detach()).cpu().numpy())
        return float(loss.detach())

    @torch.no_grad()
    def render(self, frames: FrameSet, k: int) -> np.ndarray:
        """Straight-alpha RGBA [H, W, 4] of frame k of `frames` by the student."""
        low = [self.low_inputs(frames, k)]
        return self.forward(frames.conditions[k:k + 1], low, _full_hit(frames, k)[None])[0].cpu().numpy()


def _full_hit(frames: FrameSet, k: int) -> np.ndarray:
    """[H, W] bool: the full-resolution rays of frame k that cross the box."""
    camera = frames.cameras[k]
    hit = reference.light_segments(*frame_rays(frames, k))[2]
    return hit.reshape(camera.height, camera.width)


def evaluate(trainer, frames: FrameSet) -> dict:
    """PSNR (dB) of the student against the teacher on `frames` (`region_psnr` of its renders)."""
    trainer.model.eval()
    renders = [trainer.render(frames, k) for k in range(len(frames))]
    trainer.model.train()
    return region_psnr(renders, frames)


def region_psnr(renders, frames: FrameSet) -> dict:
    """PSNR (dB) of straight-alpha renders [F, H, W, 4] against the teacher frames `frames`: whole images, the
    mouth boxes and (when the frames have them) the eye boxes (premultiplied RGBA, every channel; a region's
    PSNR is of the mean of its frames' squared errors)."""
    total, mouth, eyes = [], [], []
    for k in range(len(frames)):
        error = (premultiplied(renders[k]) - premultiplied(frames.rgba[k])) ** 2
        total.append(error.mean())
        if frames.mouth[k].any():
            mouth.append(error[frames.mouth[k]].mean())
        if frames.eyes is not None and frames.eyes[k].any():
            eyes.append(error[frames.eyes[k]].mean())
    result = {"psnr": psnr(float(np.mean(total))), "psnr_mouth": psnr(float(np.mean(mouth))) if mouth else None}
    if frames.eyes is not None:
        result["psnr_eyes"] = psnr(float(np.mean(eyes))) if eyes else None
    return result
