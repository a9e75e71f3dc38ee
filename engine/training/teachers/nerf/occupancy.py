"""An occupancy grid over the head's box: which cells may hold density, so empty space costs nothing (instant-ngp).

The grid keeps, per cell, a decaying maximum of the field's density seen at
random points of the cell under random condition codes of the training
frames (the face moves: a cell the open mouth fills must stay occupied while
the mouth is closed). A cell is occupied when that density would make it at
least `opacity` opaque, or when a neighbour is (one cell of dilation).
Samples in free cells are skipped; their density is zero.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ....render.rays import HEAD_BOX, Box

DECAY = 0.95       # the remembered density shrinks by this per update
UPDATE_CHUNK = 65536  # cells per field pass during an update


class OccupancyGrid(nn.Module):
    """A resolution^3 grid over `box`; call it with points [..., 3] for occupied [...] bool."""

    def __init__(self, resolution: int, box: Box = HEAD_BOX, opacity: float = 0.01) -> None:
        super().__init__()
        G = int(resolution)
        self.register_buffer("low", torch.tensor(box.low, dtype=torch.float32))
        self.register_buffer("size", torch.tensor(box.half_size * 2.0, dtype=torch.float32))
        self.register_buffer("density", torch.zeros(G, G, G))
        self.register_buffer("occupied", torch.ones(G, G, G, dtype=torch.bool))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        cell = float(self.size.min()) / G
        self.threshold = -math.log(1.0 - opacity) / cell  # density per metre that makes a cell `opacity` opaque

    @property
    def resolution(self) -> int:
        return self.density.shape[0]

    def cells(self, points: torch.Tensor) -> torch.Tensor:
        """Integer cell coordinates [..., 3] of points [..., 3] (clamped into the grid)."""
        scaled = (points.float() - self.low) / self.size * self.resolution
        return scaled.floor().long().clamp(0, self.resolution - 1)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        c = self.cells(points)
        return self.occupied[c[..., 0], c[..., 1], c[..., 2]]

    @property
    def fraction(self) -> float:
        """Share of the cells that are occupied."""
        return float(self.occupied.float().mean())

    @torch.no_grad()
    def update(self, field, codes: torch.Tensor, generator: Optional[torch.Generator] = None) -> None:
        """Re-measure every cell at one random point under one random code of codes [F, C]; decay and dilate."""
        G = self.resolution
        axis = torch.arange(G, dtype=torch.float32)
        corner = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), dim=-1).reshape(-1, 3)
        jitter = torch.rand(corner.shape, generator=generator)
        points = self.low + (corner + jitter) / G * self.size
        chosen = torch.randint(codes.shape[0], (points.shape[0],), generator=generator)
        direction = torch.tensor([[0.0, 0.0, -1.0]])
        measured = torch.cat([field(p, direction.expand(p.shape[0], 3), codes[k])[0]
                              for p, k in zip(points.split(UPDATE_CHUNK), chosen.split(UPDATE_CHUNK))])
        measured = measured.reshape(G, G, G).float()
        self.density = measured if int(self.updates) == 0 else torch.maximum(self.density * DECAY, measured)
        self.updates += 1
        solid = (self.density > self.threshold).float()[None, None]
        self.occupied = F.max_pool3d(solid, 3, stride=1, padding=1)[0, 0] > 0
