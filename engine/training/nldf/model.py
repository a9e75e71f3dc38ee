"""The NLDF student: a deep residual MLP on one light segment per ray (R2L), conditioned on the head.

Two heads on the same body (`NLDFConfig.mode`):

- "rays" (`NLDFNet`): one ray per pixel, the body maps each ray to RGBA;
- "superres" (`NLDFSuperRes`, after MobileR2L): one ray per stride x stride
  block, the body maps each to a feature vector, the vectors form a low-res
  feature image and a small convolutional head (pixel-shuffle upsampling)
  turns it into the full-resolution RGBA image.

Inputs, per ray: the K segment points normalised to the box and concatenated
([N, 3K], `engine.render.rays.encode_rays` with zero frequencies, which the
runtime computes in numpy); the network applies the sinusoidal encoding
itself (`rays.positional_encoding`: the reference's layout), so the ONNX graph
carries the ray embedding, as MobileR2L's does. Per frame: the condition
vector [C] (`engine.nldf.condition`), which enters the first layer and every
residual block as a bias computed once per frame.

Rays that miss the box never reach the body: the hit rays are gathered
before it (`render_rays`, `scatter_grid`) and misses are alpha 0.
Outputs are sigmoid RGBA with straight (not premultiplied) colour.
"""

from __future__ import annotations

import torch
from torch import nn

from ...render.rays import RayEncoding
from .config import NLDFConfig
from ..teachers.nerf.field import TriPlane
from ..rays import positional_encoding


class ResidualBlock(nn.Module):
    """x + W2 relu(W1 relu(x) + b(condition)): R2L's two-layer residual block with a conditioning bias."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.first = nn.Linear(width, width)
        self.second = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return x + self.second(torch.relu(self.first(torch.relu(x)) + bias))


class LightSegmentNet(nn.Module):
    """Normalised segment points [N, 3K] and conditions [N or 1, C] -> outputs [N, out].

    With `plane_resolutions`, each of the K points also reads learned features from tri-planes (the
    NeRF teacher's `TriPlane`, summed over its three planes: C per resolution), so the body gets the
    head's geometry as features instead of having to rebuild it from sinusoids; still one pass per ray.
    """

    def __init__(self, encoding: RayEncoding, num_conditions: int, width: int, blocks: int, out: int,
                 plane_resolutions=(), plane_channels: int = 8) -> None:
        super().__init__()
        self.encoding = encoding
        self.planes = TriPlane(plane_resolutions, plane_channels) if plane_resolutions else None
        point_features = plane_channels * len(plane_resolutions) if plane_resolutions else 0
        self.ray_in = nn.Linear(encoding.dim + encoding.num_points * point_features, width)
        self.condition_in = nn.Linear(num_conditions, width * (blocks + 1))
        self.blocks = nn.ModuleList(ResidualBlock(width) for _ in range(blocks))
        self.out = nn.Linear(width, out)

    def forward(self, points: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        features = positional_encoding(points, self.encoding.num_frequencies, self.encoding.include_input)
        if self.planes is not None:
            per_point = self.planes(points.reshape(-1, 3))  # [N K, 3 planes x C L]
            per_point = per_point.reshape(per_point.shape[0], 3, -1).sum(dim=1)
            features = torch.cat([features, per_point.reshape(points.shape[0], -1)], dim=-1)
        biases = self.condition_in(condition).chunk(len(self.blocks) + 1, dim=-1)
        h = self.ray_in(features) + biases[0]
        for block, bias in zip(self.blocks, biases[1:]):
            h = block(h, bias)
        return self.out(torch.relu(h))


class NLDFNet(nn.Module):
    """Per-ray light field: points [N, 3K], condition [N or 1, C] -> RGBA [N, 4] in [0, 1]."""

    mode = "rays"

    def __init__(self, config: NLDFConfig, num_conditions: int) -> None:
        super().__init__()
        self.body = LightSegmentNet(config.encoding, num_conditions, config.width, config.blocks, 4,
                                    config.plane_resolutions, config.plane_channels)

    def forward(self, points: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(points, condition))


class SuperResolutionHead(nn.Module):
    """Feature image [B, F, h, w] -> RGBA [B, 4, h s, w s]: log2(s) pixel-shuffle x2 stages, then RGBA.

    The head starts with `channels` channels on the low-res grid and halves them at each x2 stage, down to
    `min_channels` (MobileR2L's taper: most of the cost is at full resolution, where fewest are needed).
    """

    def __init__(self, features: int, channels: int, stride: int, min_channels: int | None = None) -> None:
        super().__init__()
        floor = channels if min_channels is None else min(int(min_channels), channels)
        layers = [nn.Conv2d(features, channels, 3, padding=1), nn.ReLU()]
        width = channels
        for _ in range(stride.bit_length() - 1):
            narrower = max(floor, width // 2)
            layers += [nn.Conv2d(width, 4 * narrower, 3, padding=1), nn.PixelShuffle(2), nn.ReLU(),
                       nn.Conv2d(narrower, narrower, 3, padding=1), nn.ReLU()]
            width = narrower
        layers += [nn.Conv2d(width, 4, 3, padding=1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.layers(grid))


class NLDFSuperRes(nn.Module):
    """Low-res light field + super-resolution (MobileR2L): hit rays of B frames -> RGBA [B, 4, H, W]."""

    mode = "superres"

    def __init__(self, config: NLDFConfig, num_conditions: int) -> None:
        super().__init__()
        self.stride = int(config.sr_stride)
        self.body = LightSegmentNet(config.encoding, num_conditions, config.width, config.blocks, config.sr_features,
                                    config.plane_resolutions, config.plane_channels)
        self.head = SuperResolutionHead(config.sr_features, config.sr_channels, self.stride, config.sr_min_channels)

    def forward(self, points: torch.Tensor, index: torch.Tensor, condition: torch.Tensor,
                frames: int, grid_height: int, grid_width: int) -> torch.Tensor:
        """points [M, 3K] of the hit low-res rays, index [M] their flat position in [frames, h, w],
        condition [M or 1, C] -> RGBA [frames, 4, h s, w s]."""
        features = self.body(points, condition)
        grid = scatter_grid(features, index, frames * grid_height * grid_width)
        grid = grid.reshape(frames, grid_height, grid_width, -1).permute(0, 3, 1, 2)
        return self.head(grid)


def scatter_grid(values: torch.Tensor, index: torch.Tensor, count: int) -> torch.Tensor:
    """values [M, F] placed at rows `index` [M] of a zero array [count, F] (the misses stay 0)."""
    grid = torch.zeros(count, values.shape[-1], dtype=values.dtype, device=values.device)
    return grid.index_put((index,), values)


def render_rays(net: NLDFNet, points: torch.Tensor, condition: torch.Tensor, hit: torch.Tensor) -> torch.Tensor:
    """RGBA [N, 4] of N rays (points [N, 3K], hit [N] bool, condition [N or 1, C]); misses are 0, unrun."""
    rgba = torch.zeros(points.shape[0], 4, dtype=points.dtype, device=points.device)
    if bool(hit.any()):
        rays_condition = condition[hit] if condition.shape[0] == points.shape[0] else condition
        rgba[hit] = net(points[hit], rays_condition)
    return rgba


def parameter_groups(model: nn.Module, config: NLDFConfig) -> list:
    """Adam's parameter groups: the tri-planes (learning rate x config.plane_lr_scale), the rest."""
    planes = [p for name, p in model.named_parameters() if ".planes." in name]
    rest = [p for name, p in model.named_parameters() if ".planes." not in name]
    groups = [{"params": rest, "lr_scale": 1.0}]
    return groups + ([{"params": planes, "lr_scale": float(config.plane_lr_scale)}] if planes else [])


def build_model(config: NLDFConfig, num_conditions: int) -> nn.Module:
    """The student of `config.mode`."""
    return (NLDFSuperRes if config.mode == "superres" else NLDFNet)(config, num_conditions)
