"""Rays in the head's frame, light segments and their encoding, in torch (batched, differentiable).

The same recipe and conventions as the numpy reference `engine.render.rays`
(read its docstring first); this version runs on batches of frames, on any
device, and passes gradients to ray origins and directions, to the head's
pose and translation, and through the encoding. B is the batch of frames,
N the rays per frame; `...` any batch shape. The NeRF teacher and the NLDF student both use it, so it
sits beside them in training/ rather than inside either.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..render.rays import HEAD_BOX, MIN_DIRECTION, NECK, NUM_FREQUENCIES, NUM_POINTS, Box, RayEncoding, pixel_grid

ROTATION_EPS = 1e-8  # as `engine.head.lbs.batch_rodrigues`: keeps the axis of a zero rotation finite


def rodrigues(rot_vecs: torch.Tensor) -> torch.Tensor:
    """Rotation matrices [..., 3, 3] from axis-angle vectors [..., 3]."""
    angle = torch.linalg.norm(rot_vecs + ROTATION_EPS, dim=-1, keepdim=True)
    axis = rot_vecs / angle
    cos, sin = torch.cos(angle)[..., None], torch.sin(angle)[..., None]
    rx, ry, rz = axis.unbind(-1)
    zeros = torch.zeros_like(rx)
    K = torch.stack([zeros, -rz, ry, rz, zeros, -rx, -ry, rx, zeros], dim=-1).reshape(rot_vecs.shape + (3,))
    eye = torch.eye(3, dtype=rot_vecs.dtype, device=rot_vecs.device)
    return eye + sin * K + (1.0 - cos) * (K @ K)


def rigid_transform(rest_joints: torch.Tensor, pose: torch.Tensor, translation: torch.Tensor | None = None):
    """The head's canonical-to-world transforms [B, 4, 4]: the neck joint's skinning transform plus translation.

    rest_joints [B, 5, 3] (unposed joint locations), pose [B, 5, 3]
    axis-angle in FLAME order, translation [B, 3] or None.
    """
    r_global, r_neck = rodrigues(pose[:, 0]), rodrigues(pose[:, NECK])
    j_global, j_neck = rest_joints[:, 0], rest_joints[:, NECK]
    rotation = r_global @ r_neck
    neck_world = j_global + (r_global @ (j_neck - j_global)[..., None])[..., 0]
    offset = neck_world - (rotation @ j_neck[..., None])[..., 0]
    if translation is not None:
        offset = offset + translation
    bottom = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=pose.dtype, device=pose.device).expand(pose.shape[0], 1, 4)
    return torch.cat([torch.cat([rotation, offset[..., None]], dim=-1), bottom], dim=1)


def to_canonical(origins: torch.Tensor, directions: torch.Tensor, transform: torch.Tensor):
    """World rays [B, N, 3] -> rays in the head's canonical frame [B, N, 3], by the inverse of transform [B, 4, 4]."""
    R, t = transform[:, :3, :3], transform[:, :3, 3]
    return (torch.einsum("bnc,bcd->bnd", origins - t[:, None], R),
            torch.einsum("bnc,bcd->bnd", directions, R))


def camera_tensors(cameras, dtype=torch.float64):
    """Stack cameras into intrinsics [B, 4] (fx, fy, cx, cy), rotations [B, 3, 3], translations [B, 3]."""
    intrinsics = torch.tensor([[c.fx, c.fy, c.cx, c.cy] for c in cameras], dtype=dtype)
    rotation = torch.as_tensor(np.stack([c.rotation for c in cameras]), dtype=dtype)
    translation = torch.as_tensor(np.stack([c.translation for c in cameras]), dtype=dtype)
    return intrinsics, rotation, translation


def camera_rays(intrinsics: torch.Tensor, rotation: torch.Tensor, translation: torch.Tensor,
                u: torch.Tensor, v: torch.Tensor):
    """World rays of B cameras through pixel coordinates u, v [N] -> origins, unit directions [B, N, 3].

    intrinsics [B, 4], rotation [B, 3, 3], translation [B, 3] as `camera_tensors`.
    """
    fx, fy, cx, cy = (intrinsics[:, k:k + 1] for k in range(4))
    x, y = (u[None] - cx) / fx, (v[None] - cy) / fy
    cam = torch.stack([x, y, torch.ones_like(x)], dim=-1)
    cam = cam / torch.linalg.norm(cam, dim=-1, keepdim=True)
    directions = torch.einsum("bnc,bcd->bnd", cam, rotation)  # row form of R^T d
    position = -torch.einsum("bcd,bc->bd", rotation, translation)  # -R^T t
    return position[:, None].expand_as(directions), directions


def head_rays(cameras, transform: torch.Tensor, stride: int = 1):
    """Rays of B same-sized cameras in the head's canonical frame: origins, directions [B, N, 3].

    transform [B, 4, 4] per frame; the N = (H / s)(W / s) rays are in
    row-major order of `engine.render.rays.pixel_grid(cameras[0], stride)`.
    """
    u, v = (torch.as_tensor(a.ravel(), dtype=transform.dtype) for a in pixel_grid(cameras[0], stride))
    intrinsics, rotation, translation = (t.to(transform) for t in camera_tensors(cameras))
    origins, directions = camera_rays(intrinsics, rotation, translation, u, v)
    return to_canonical(origins, directions, transform)


def _box_tensors(box: Box, like: torch.Tensor):
    return (torch.as_tensor(box.low, dtype=like.dtype, device=like.device),
            torch.as_tensor(box.high, dtype=like.dtype, device=like.device))


def safe_reciprocal(directions: torch.Tensor) -> torch.Tensor:
    """1 / d per component, with |d| < MIN_DIRECTION taken as +-MIN_DIRECTION."""
    nudged = torch.where(directions < 0, -MIN_DIRECTION, MIN_DIRECTION).to(directions)
    return 1.0 / torch.where(directions.abs() < MIN_DIRECTION, nudged, directions)


def light_segments(origins: torch.Tensor, directions: torch.Tensor, box: Box = HEAD_BOX):
    """Entry and exit distances through the box: near, far [...], hit [...] bool (misses: near = far = 0)."""
    low, high = _box_tensors(box, origins)
    inv = safe_reciprocal(directions)
    t0, t1 = (low - origins) * inv, (high - origins) * inv
    near = torch.clamp(torch.minimum(t0, t1).amax(dim=-1), min=0.0)
    far = torch.maximum(t0, t1).amin(dim=-1)
    hit = far > near
    zero = torch.zeros_like(near)
    return torch.where(hit, near, zero), torch.where(hit, far, zero), hit


def segment_points(origins: torch.Tensor, directions: torch.Tensor, near: torch.Tensor, far: torch.Tensor,
                   num_points: int = NUM_POINTS) -> torch.Tensor:
    """K points evenly spaced from near to far along each ray -> [..., K, 3] (as the numpy reference)."""
    K = int(num_points)
    if K > 1:
        steps = torch.linspace(0.0, 1.0, K, dtype=origins.dtype, device=origins.device)
    else:
        steps = torch.full((1,), 0.5, dtype=origins.dtype, device=origins.device)
    t = near[..., None] + (far - near)[..., None] * steps
    return origins[..., None, :] + t[..., None] * directions[..., None, :]


def positional_encoding(x: torch.Tensor, num_frequencies: int = NUM_FREQUENCIES,
                        include_input: bool = True) -> torch.Tensor:
    """[x, sin(pi 2^0 x), cos(pi 2^0 x), ...] of x [..., C] -> [..., C (1 + 2 L)] (layout as the reference)."""
    parts = [x] if include_input else []
    for level in range(int(num_frequencies)):
        scaled = (math.pi * 2.0 ** level) * x
        parts += [torch.sin(scaled), torch.cos(scaled)]
    return torch.cat(parts, dim=-1)


def encode_points(points: torch.Tensor, box: Box = HEAD_BOX, encoding: RayEncoding = RayEncoding()) -> torch.Tensor:
    """Segment points [..., K, 3] -> ray features [..., encoding.dim] (box-normalised, concatenated, encoded)."""
    low, high = _box_tensors(box, points)
    normalised = (points - 0.5 * (low + high)) / (0.5 * (high - low))
    flat = normalised.reshape(normalised.shape[:-2] + (-1,))
    return positional_encoding(flat, encoding.num_frequencies, encoding.include_input)


def encode_rays(origins: torch.Tensor, directions: torch.Tensor, box: Box = HEAD_BOX,
                encoding: RayEncoding = RayEncoding()):
    """Canonical rays [..., 3] -> features [..., encoding.dim] and hit mask [...]."""
    near, far, hit = light_segments(origins, directions, box)
    points = segment_points(origins, directions, near, far, encoding.num_points)
    return encode_points(points, box, encoding), hit
