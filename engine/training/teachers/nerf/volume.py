"""Volume rendering along light segments: samples, an importance pass, alpha compositing.

Rays are canonical-frame rays clipped to the head's box (`light_segments` of
`engine.training.rays`): origins, unit directions [N, 3], near, far [N]
in metres. Outside the box the density is zero, so a ray that misses the box
(near = far) composites to nothing: alpha 0, the background is transparent.

Quadrature: sample k stands for the cell between the midpoints to its
neighbours (the segment's ends close the first and last cell), so the cells
tile [near, far] exactly. With densities s_k and cell lengths d_k:
alpha_k = 1 - exp(-s_k d_k), weight_k = alpha_k exp(-sum_{j<k} s_j d_j),
opacity = sum_k weight_k, colour = sum_k weight_k rgb_k (premultiplied).
"""

from __future__ import annotations

from typing import Callable, Optional

import torch

# field(points [P, 3], directions [P, 3], codes [P, C]) -> density [P] (per metre), rgb [P, 3]
Field = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple]
PDF_FLOOR = 1e-5  # added to the weights before an importance pass: empty rays sample evenly


def stratified_depths(near: torch.Tensor, far: torch.Tensor, count: int, jitter: bool,
                      generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """`count` depths [N, K] from near to far [N], one per equal bin: random within it (jitter) or at its middle."""
    K = int(count)
    lower = torch.arange(K, dtype=near.dtype, device=near.device) / K
    if jitter:
        offset = torch.rand(near.shape + (K,), dtype=near.dtype, device=near.device, generator=generator)
    else:
        offset = torch.full(near.shape + (K,), 0.5, dtype=near.dtype, device=near.device)
    return near[..., None] + (far - near)[..., None] * (lower + offset / K)


def cell_bounds(depths: torch.Tensor, near: torch.Tensor, far: torch.Tensor) -> torch.Tensor:
    """Boundaries [N, K + 1] of the cells of sorted depths [N, K]: near, the midpoints, far."""
    middle = 0.5 * (depths[..., 1:] + depths[..., :-1])
    return torch.cat([near[..., None], middle, far[..., None]], dim=-1)


def importance_depths(depths: torch.Tensor, weights: torch.Tensor, near: torch.Tensor, far: torch.Tensor,
                      count: int, jitter: bool, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """`count` new depths [N, count] drawn from the piecewise-constant density of `weights` [N, K] over the cells.

    depths [N, K] sorted; jitter False places the draws at the quantiles'
    bin middles (deterministic rendering).
    """
    bounds = cell_bounds(depths, near, far)
    pdf = weights.detach() + PDF_FLOOR
    pdf = pdf / pdf.sum(dim=-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[..., :1]), torch.cumsum(pdf, dim=-1)], dim=-1).clamp(max=1.0)
    if jitter:
        u = torch.rand(near.shape + (int(count),), dtype=cdf.dtype, device=cdf.device, generator=generator)
    else:
        u = (torch.arange(int(count), dtype=cdf.dtype, device=cdf.device) + 0.5) / int(count)
        u = u.expand(near.shape + (int(count),))
    above = torch.searchsorted(cdf, u.contiguous(), right=True).clamp(1, cdf.shape[-1] - 1)
    below = above - 1
    c0, c1 = cdf.gather(-1, below), cdf.gather(-1, above)
    b0, b1 = bounds.gather(-1, below), bounds.gather(-1, above)
    fraction = ((u - c0) / (c1 - c0).clamp(min=1e-12)).clamp(0.0, 1.0)
    return b0 + fraction * (b1 - b0)


def composite(density: torch.Tensor, rgb: torch.Tensor, depths: torch.Tensor, near: torch.Tensor,
              far: torch.Tensor):
    """Alpha compositing of densities [N, K] (per metre) and colours [N, K, 3] at sorted depths [N, K].

    Returns premultiplied colour [N, 3], opacity [N] and the weights [N, K].
    """
    lengths = torch.diff(cell_bounds(depths, near, far), dim=-1).clamp(min=0.0)
    optical = density * lengths
    alpha = 1.0 - torch.exp(-optical)
    before = torch.cumsum(optical, dim=-1) - optical  # optical depth in front of each sample
    weights = alpha * torch.exp(-before)
    return (weights[..., None] * rgb).sum(dim=-2), weights.sum(dim=-1), weights


def segment_samples(origins: torch.Tensor, directions: torch.Tensor, depths: torch.Tensor) -> torch.Tensor:
    """Points [N, K, 3] at depths [N, K] along rays origins, directions [N, 3]."""
    return origins[..., None, :] + depths[..., None] * directions[..., None, :]


def evaluate_field(field: Field, origins: torch.Tensor, directions: torch.Tensor, codes: torch.Tensor,
                   depths: torch.Tensor, occupancy: Optional[Callable] = None):
    """Density [N, K] and RGB [N, K, 3] of the field at depths [N, K] along rays [N, 3] with codes [N, C].

    occupancy: points [N, K, 3] -> bool [N, K]; the field runs only where
    it is True, elsewhere the density (and colour) is zero.
    """
    N, K = depths.shape
    points = segment_samples(origins, directions, depths)
    if occupancy is None:
        ray = torch.arange(N, device=depths.device).repeat_interleave(K)
        density, rgb = field(points.reshape(-1, 3), directions[ray], codes[ray])
        return density.reshape(N, K), rgb.reshape(N, K, 3)
    keep = occupancy(points)
    ray = torch.nonzero(keep)[:, 0]
    density, rgb = field(points[keep], directions[ray], codes[ray])
    full_density = depths.new_zeros(N, K).masked_scatter(keep, density.to(depths.dtype))
    full_rgb = depths.new_zeros(N, K, 3).masked_scatter(keep[..., None], rgb.to(depths.dtype))
    return full_density, full_rgb


def render_rays(field: Field, origins: torch.Tensor, directions: torch.Tensor, near: torch.Tensor,
                far: torch.Tensor, codes: torch.Tensor, samples: int, importance: int = 0, jitter: bool = False,
                generator: Optional[torch.Generator] = None, occupancy: Optional[Callable] = None):
    """Premultiplied colour [N, 3] and opacity [N] of rays [N, 3] over their segments near..far [N].

    codes [N, C]: each ray's condition code. `samples` stratified depths,
    then (importance > 0) as many more drawn from a first, gradient-free
    pass's weights; the field is evaluated on all of them (where
    `occupancy`, if given, says a sample may hold density).
    """
    depths = stratified_depths(near, far, samples, jitter, generator)
    if importance > 0:
        with torch.no_grad():
            density, rgb = evaluate_field(field, origins, directions, codes, depths, occupancy)
            weights = composite(density, rgb, depths, near, far)[2]
        extra = importance_depths(depths, weights, near, far, importance, jitter, generator)
        depths = torch.sort(torch.cat([depths, extra], dim=-1), dim=-1).values
    density, rgb = evaluate_field(field, origins, directions, codes, depths, occupancy)
    colour, opacity, _ = composite(density, rgb, depths, near, far)
    return colour, opacity
