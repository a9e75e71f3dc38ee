"""The NeRF teacher's field: density and colour of points in the head's canonical frame, given a condition code.

A field maps samples to quantities and never sees cameras (nerfstudio's split):

    field(points [P, 3], directions [P, 3], codes [P, C]) -> density [P] (per metre), rgb [P, 3]

(P samples, each with its ray's unit direction and its frame's condition code.)

`HeadField` is the ER-NeRF / RAD-NeRF recipe at teacher scale:
1. points are normalised to `HEAD_BOX` ([-1, 1] inside it);
2. a multi-resolution tri-plane (three axis-aligned 2D feature planes per
   level, bilinear) gives each point its features, concatenated;
3. region attention: a linear map of those features, squashed to (0, 1),
   gates the frame's condition code per point (the mouth listens to the jaw,
   the brows to the brow coefficients);
4. a density MLP reads features and gated code -> density and geometry
   features; a colour MLP reads geometry features and the encoded canonical
   view direction -> RGB.
The field carries its occupancy grid (`occupancy`, None when off), so one
state dict holds everything a renderer needs; the field itself never reads it.

The condition code (`condition_code`) is what moves the face without moving
the head: the expression coefficients, the jaw and the two eyes. Head and
neck pose never enter it: they move the rays instead (`engine.render.rays`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ....head.model import JOINT_NAMES
from ....render.rays import HEAD_BOX, Box
from ...rays import positional_encoding
from .config import NeRFConfig
from .occupancy import OccupancyGrid

CODE_JOINTS = ("jaw", "eye_left", "eye_right")  # joints whose axis-angle (3 numbers each) join the expression
PLANE_INIT_STD = 0.1
PLANE_AXES = ((0, 1), (0, 2), (1, 2))  # the xy, xz and yz planes


def code_size(num_expressions: int) -> int:
    """Length of a condition code for a head with `num_expressions` components: E + 9."""
    return int(num_expressions) + 3 * len(CODE_JOINTS)


def condition_code(params: dict) -> np.ndarray:
    """The condition code [E + 9] float32 of one frame: expression [E], then jaw, left eye, right eye axis-angles.

    params: one frame as `engine.training.teachers.frame_params` gives it
    ({"expression": [E], "pose": [5, 3], ...}); a batch ([T, E], [T, 5, 3])
    gives codes [T, E + 9].
    """
    expression = np.asarray(params["expression"], np.float32)
    pose = np.asarray(params["pose"], np.float32)
    joints = [pose[..., JOINT_NAMES.index(name), :] for name in CODE_JOINTS]
    return np.concatenate([expression] + joints, axis=-1).astype(np.float32)


class TriPlane(nn.Module):
    """Features of points in [-1, 1]^3 from xy, xz and yz feature planes at several resolutions.

    resolutions: cells per side of each level; channels: features per plane
    and level. Output [P, 3 * channels * levels], bilinear, clamped at the border.
    """

    def __init__(self, resolutions, channels: int) -> None:
        super().__init__()
        self.planes = nn.ParameterList(
            nn.Parameter(PLANE_INIT_STD * torch.randn(len(PLANE_AXES), channels, r, r)) for r in resolutions)

    @property
    def dim(self) -> int:
        return sum(p.shape[0] * p.shape[1] for p in self.planes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coords = torch.stack([x[:, list(axes)] for axes in PLANE_AXES])[:, :, None, :]  # [3, P, 1, 2]
        levels = [F.grid_sample(plane, coords, mode="bilinear", padding_mode="border", align_corners=True)
                  for plane in self.planes]  # each [3, C, P, 1]
        return torch.cat(levels, dim=1)[..., 0].permute(2, 0, 1).reshape(x.shape[0], self.dim)

    def total_variation(self) -> torch.Tensor:
        """Mean squared difference of neighbouring cells, summed over levels (a smoothness prior)."""
        total = self.planes[0].new_zeros(())
        for plane in self.planes:
            total = total + (plane[..., 1:, :] - plane[..., :-1, :]).pow(2).mean()
            total = total + (plane[..., :, 1:] - plane[..., :, :-1]).pow(2).mean()
        return total


def mlp(inputs: int, hidden: int, outputs: int, layers: int) -> nn.Sequential:
    """`layers` hidden ReLU layers of width `hidden` between `inputs` and `outputs`."""
    sizes = [inputs] + [hidden] * layers
    parts = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        parts += [nn.Linear(a, b), nn.ReLU(inplace=True)]
    return nn.Sequential(*parts, nn.Linear(sizes[-1], outputs))


class HeadField(nn.Module):
    """Density [P] and RGB [P, 3] of canonical points [P, 3] seen along directions [P, 3] under codes [P, C]."""

    def __init__(self, config: NeRFConfig, code_dim: int, box: Box = HEAD_BOX) -> None:
        super().__init__()
        self.config, self.code_dim = config, int(code_dim)
        self.register_buffer("box_center", torch.tensor(box.center, dtype=torch.float32))
        self.register_buffer("box_half", torch.tensor(box.half_size, dtype=torch.float32))
        self.planes = TriPlane(config.plane_resolutions, config.plane_channels)
        self.attention = nn.Linear(self.planes.dim, self.code_dim) if config.region_attention else None
        self.density_net = mlp(self.planes.dim + self.code_dim, config.hidden, 1 + config.geometry_features, 2)
        direction_dim = 3 * (1 + 2 * config.direction_frequencies)
        self.colour_net = mlp(config.geometry_features + direction_dim, config.hidden, 3, 1)
        self.occupancy = (OccupancyGrid(config.occupancy_resolution, box, config.occupancy_opacity)
                          if config.occupancy_resolution else None)

    def sampler_mask(self):
        """The occupancy grid to skip empty samples with, once it has measured the field (else None)."""
        grid = self.occupancy
        return grid if grid is not None and int(grid.updates) > 0 else None

    def forward(self, points: torch.Tensor, directions: torch.Tensor, codes: torch.Tensor):
        x = ((points - self.box_center) / self.box_half).float()
        features = self.planes(x)
        code = codes.float()
        if self.attention is not None:
            code = code * torch.sigmoid(self.attention(features))
        raw = self.density_net(torch.cat([features, code], dim=-1))
        density = self.config.density_scale * F.softplus(raw[:, 0] + self.config.density_bias)
        view = positional_encoding(directions.float(), self.config.direction_frequencies)
        rgb = torch.sigmoid(self.colour_net(torch.cat([raw[:, 1:], view], dim=-1)))
        return density, rgb
