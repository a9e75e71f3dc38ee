"""Rays in the head's own frame, their light segments through the head's box, and their encoding.

This is the numpy reference of the neural light field's input (NLDF, after
R2L and MobileR2L); `engine.training.rays` is the torch version and is
tested against it. The recipe for one frame:

1. `head_transform` gives the head's rigid pose: the posed neck joint's
   transform, which carries the whole head above the neck (global joint,
   neck joint and the head translation). It maps the head's canonical frame
   (the unposed head: Y up, +Z out of the face, metres) to the world.
2. `head_rays` moves the camera's rays into the canonical frame by the
   inverse transform: the scene never moves, so one light field serves
   every head pose.
3. `light_segments` clips each ray to `HEAD_BOX` (slab method): entry and
   exit distances and a hit mask.
4. `segment_points` puts K points evenly along each segment (K = 16, as R2L);
   `encode_points` normalises them to the box, concatenates them and applies
   a sinusoidal positional encoding with L frequencies.

Shapes: `...` is any batch shape (e.g. [H, W] or [N]); distances are metres
along unit directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..head.lbs import batch_rigid_transform, batch_rodrigues
from ..head.model import JOINT_NAMES, HeadModel
from .camera import Camera, pixel_directions

NECK = JOINT_NAMES.index("neck")
NUM_POINTS = 16        # points per light segment (R2L's K)
NUM_FREQUENCIES = 8    # sinusoidal frequencies per coordinate: pi * 2^0 .. pi * 2^(L-1)
MIN_DIRECTION = 1e-9   # direction components closer to zero are nudged to this (slab division)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in the head's canonical frame: corners `low` [3] and `high` [3] (metres)."""

    low: tuple
    high: tuple

    @property
    def center(self) -> np.ndarray:
        return 0.5 * (np.asarray(self.low) + np.asarray(self.high))

    @property
    def half_size(self) -> np.ndarray:
        return 0.5 * (np.asarray(self.high) - np.asarray(self.low))

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Whether points [..., 3] lie inside the box (edges included) -> [...] bool."""
        p = np.asarray(points)
        return np.all((p >= np.asarray(self.low)) & (p <= np.asarray(self.high)), axis=-1)


# The built-in head's bounding box in its canonical frame: `head_bounds(load_head())` (every
# expression at 0 and 1, jaw, eyes and neck at their joint limits, alone and combined, with a
# 5 mm margin) rounded out to the centimetre; a test recomputes it. The head alone spans about
# x +-0.083, y -0.175..0.133, z -0.109..0.123; the neck's bottom, skinned partly to the global
# joint, swings out to x +-0.128 and z -0.143 when the neck turns to its limits.
HEAD_BOX = Box(low=(-0.14, -0.19, -0.15), high=(0.14, 0.14, 0.13))


@dataclass(frozen=True)
class RayEncoding:
    """How light segments become network inputs.

    num_points: K points evenly spaced from entry to exit (both included);
    num_frequencies: L sinusoidal frequencies pi * 2^l per coordinate
    (0: the normalised coordinates alone); include_input: keep the normalised
    coordinates beside their sines and cosines.
    """

    num_points: int = NUM_POINTS
    num_frequencies: int = NUM_FREQUENCIES
    include_input: bool = True

    @property
    def dim(self) -> int:
        """Features per ray: 3 K (1 + 2 L) with the input kept, 3 K 2 L without."""
        per_coordinate = 2 * self.num_frequencies + (1 if self.include_input else 0)
        return 3 * self.num_points * per_coordinate


def rigid_transform(rest_joints: np.ndarray, pose: np.ndarray, translation=None) -> np.ndarray:
    """The head's canonical-to-world transforms [T, 4, 4] (float64).

    rest_joints [T, 5, 3] (unposed joint locations, as `lbs` regresses them),
    pose [T, 5, 3] axis-angle in FLAME order, translation [T, 3] or None.
    Only the global and neck rotations matter: the result is the neck joint's
    skinning transform plus the translation, so `M @ [x, 1]` is where a rest
    vertex bound wholly to the neck ends up.
    """
    rest_joints = np.asarray(rest_joints, dtype=np.float64)
    pose = np.asarray(pose, dtype=np.float64)
    T, J = pose.shape[:2]
    rot_mats = batch_rodrigues(pose.reshape(-1, 3)).reshape(T, J, 3, 3)
    parents = np.array([-1, 0, 1, 1, 1])[:J]
    _, transforms = batch_rigid_transform(rot_mats, rest_joints, parents)
    out = transforms[:, NECK].copy()
    if translation is not None:
        out[:, :3, 3] += np.asarray(translation, dtype=np.float64).reshape(T, 3)
    return out


def head_transform(head: HeadModel, pose, translation=None, expression=None, shape=None) -> np.ndarray:
    """The rigid pose [T, 4, 4] (canonical to world) of `head` for parameters as `HeadModel.forward` takes them.

    pose [T, 5, 3] or [5, 3]; translation [T, 3]; expression [T, E]; shape [S]
    (the joints are regressed from the shaped, expressive mesh, as `lbs` does).
    """
    pose = np.asarray(pose, dtype=np.float64)
    if pose.ndim == 2:
        pose = pose[None]
    T = pose.shape[0]
    shaped = np.broadcast_to(head.v_template.astype(np.float64), (T,) + head.v_template.shape).copy()
    if shape is not None:
        shaped += np.einsum("vcs,s->vc", head.shapedirs, np.asarray(shape, dtype=np.float64))
    if expression is not None:
        expression = np.broadcast_to(np.asarray(expression, dtype=np.float64), (T, head.exprdirs.shape[2]))
        shaped += np.einsum("vcs,ts->tvc", head.exprdirs, expression)
    joints = np.einsum("jv,tvc->tjc", head.j_regressor.astype(np.float64), shaped)
    return rigid_transform(joints, pose, translation)


def to_canonical(origins: np.ndarray, directions: np.ndarray, transform: np.ndarray):
    """World rays -> rays in the head's canonical frame, by the inverse of `transform` [4, 4].

    origins, directions [..., 3] -> the same shapes (directions stay unit).
    """
    R, t = transform[:3, :3], transform[:3, 3]
    return (np.asarray(origins) - t) @ R, np.asarray(directions) @ R  # row form of R^T (x - t), R^T d


def pixel_grid(camera: Camera, stride: int = 1):
    """Pixel coordinates u, v [H / s, W / s] of a ray grid with stride s = `stride`.

    Stride 1 gives every pixel centre. Stride s > 1 gives one ray per s x s
    block, through the block's centre: exactly the pixel centres of the same
    view at 1/s the resolution (`camera.resized`), the low-resolution rays of
    a MobileR2L-style student whose super-resolution head restores s x.
    """
    s = int(stride)
    if s < 1 or camera.width % s or camera.height % s:
        raise InputError(f"The ray stride must divide the image size {camera.width}x{camera.height}, not {stride}.")
    u = np.arange(camera.width // s) * s + 0.5 * s
    v = np.arange(camera.height // s) * s + 0.5 * s
    return np.meshgrid(u, v, indexing="xy")


def head_rays(camera: Camera, transform: np.ndarray, stride: int = 1):
    """The camera's rays in the head's canonical frame: origins, unit directions [H / s, W / s, 3].

    transform [4, 4] is the head's pose (`head_transform`); stride as `pixel_grid`.
    """
    u, v = pixel_grid(camera, stride)
    directions = pixel_directions(camera, u, v)
    origins = np.broadcast_to(camera.position, directions.shape)
    return to_canonical(origins, directions, np.asarray(transform, dtype=np.float64))


def safe_reciprocal(directions: np.ndarray) -> np.ndarray:
    """1 / d per component [..., 3], with |d| < MIN_DIRECTION taken as +-MIN_DIRECTION (no inf, no NaN)."""
    d = np.asarray(directions, dtype=np.float64)
    nudged = np.where(d < 0, -MIN_DIRECTION, MIN_DIRECTION)
    return 1.0 / np.where(np.abs(d) < MIN_DIRECTION, nudged, d)


def light_segments(origins: np.ndarray, directions: np.ndarray, box: Box = HEAD_BOX):
    """Entry and exit distances of rays through a box (slab method).

    origins, directions [..., 3] (unit directions) -> near [...], far [...],
    hit [...] bool. A ray that starts inside the box enters at 0. Where a
    ray misses (or the box lies behind it), hit is False and near = far = 0.
    """
    inv = safe_reciprocal(directions)
    o = np.asarray(origins, dtype=np.float64)
    t0 = (np.asarray(box.low) - o) * inv
    t1 = (np.asarray(box.high) - o) * inv
    near = np.maximum(np.minimum(t0, t1).max(axis=-1), 0.0)
    far = np.maximum(t0, t1).min(axis=-1)
    hit = far > near
    return np.where(hit, near, 0.0), np.where(hit, far, 0.0), hit


def box_mask(camera: Camera, transform: np.ndarray, box: Box = HEAD_BOX) -> np.ndarray:
    """[H, W] bool: the pixels whose rays (`head_rays`) cross the box, what `light_segments` says of them.

    Fast path (a renderer needs this mask every frame): with the camera outside the box and every corner
    in front of it, a ray hits the box exactly when its pixel centre lies inside the convex hull of the
    eight projected corners, so the mask is a handful of half-plane tests on pixel coordinates. Any
    other view takes the slab test of every ray.
    """
    R, t = np.asarray(transform, np.float64)[:3, :3], np.asarray(transform, np.float64)[:3, 3]
    low, high = np.asarray(box.low), np.asarray(box.high)
    eye = (np.asarray(camera.position, np.float64) - t) @ R
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    pixels, depth = camera.project(corners @ R.T + t)
    if np.any(depth <= 1e-9) or np.all((eye >= low) & (eye <= high)):
        origins, directions = head_rays(camera, transform)
        return light_segments(origins, directions, box)[2]
    hull = convex_hull(pixels)
    u = np.arange(camera.width) + 0.5
    v = np.arange(camera.height) + 0.5
    mask = np.ones((camera.height, camera.width), bool)
    for a, b in zip(hull, np.roll(hull, -1, axis=0)):  # counter-clockwise: inside is left of each edge
        nu, nv = a[1] - b[1], b[0] - a[0]
        mask &= (nu * (u - a[0]))[None, :] + (nv * (v - a[1]))[:, None] > 0.0
    return mask


def convex_hull(points: np.ndarray) -> np.ndarray:
    """The convex hull [M, 2] of 2-D points [N, 2], counter-clockwise in (x right, y up) terms
    (Andrew's monotone chain; collinear points dropped)."""
    pts = sorted(map(tuple, np.asarray(points, np.float64)))

    def chain(sequence):
        out = []
        for p in sequence:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out[:-1]

    return np.array(chain(pts) + chain(pts[::-1]))


def segment_points(origins: np.ndarray, directions: np.ndarray, near: np.ndarray, far: np.ndarray,
                   num_points: int = NUM_POINTS) -> np.ndarray:
    """K = `num_points` points evenly spaced from `near` to `far` along each ray -> [..., K, 3].

    origins, directions [..., 3]; near, far [...]. Point k is at
    near + (far - near) k / (K - 1); a single point sits at the middle.
    """
    K = int(num_points)
    if K < 1:
        raise InputError(f"A light segment needs at least one point, not {num_points}.")
    steps = np.linspace(0.0, 1.0, K) if K > 1 else np.array([0.5])
    near, far = np.asarray(near)[..., None], np.asarray(far)[..., None]
    t = near + (far - near) * steps  # [..., K]
    return np.asarray(origins)[..., None, :] + t[..., None] * np.asarray(directions)[..., None, :]


def positional_encoding(x: np.ndarray, num_frequencies: int = NUM_FREQUENCIES,
                        include_input: bool = True) -> np.ndarray:
    """Sinusoidal encoding of features x [..., C] -> [..., C (1 + 2 L)] (or [..., 2 L C] without the input).

    Layout: [x, sin(pi 2^0 x), cos(pi 2^0 x), ..., sin(pi 2^(L-1) x), cos(pi 2^(L-1) x)],
    each block C wide.
    """
    x = np.asarray(x, dtype=np.float64)
    parts = [x] if include_input else []
    for level in range(int(num_frequencies)):
        scaled = (np.pi * 2.0 ** level) * x
        parts += [np.sin(scaled), np.cos(scaled)]
    return np.concatenate(parts, axis=-1)


def encode_points(points: np.ndarray, box: Box = HEAD_BOX, encoding: RayEncoding = RayEncoding()) -> np.ndarray:
    """Segment points [..., K, 3] -> ray features [..., encoding.dim].

    Points are normalised to the box ([-1, 1] inside it), the K points of a
    ray are concatenated into 3 K numbers (x0, y0, z0, x1, ...) and those
    are positionally encoded.
    """
    normalised = (np.asarray(points, dtype=np.float64) - box.center) / box.half_size
    flat = normalised.reshape(normalised.shape[:-2] + (-1,))
    return positional_encoding(flat, encoding.num_frequencies, encoding.include_input)


def encode_rays(origins: np.ndarray, directions: np.ndarray, box: Box = HEAD_BOX,
                encoding: RayEncoding = RayEncoding()):
    """Canonical rays [..., 3] -> features [..., encoding.dim] and hit mask [...] (the whole recipe)."""
    near, far, hit = light_segments(origins, directions, box)
    points = segment_points(origins, directions, near, far, encoding.num_points)
    return encode_points(points, box, encoding), hit


def extreme_parameters(head: HeadModel) -> dict:
    """Parameter frames that push the head to its extremes: {"expression": [T, E], "pose": [T, 5, 3]}.

    Neutral; each expression at 1 alone and with the jaw fully open; all at
    once; the corners of the jaw, eye and neck joint limits (`head.joint_limits`,
    where the head has them), the neck corners with the jaw open.
    """
    E = head.exprdirs.shape[2]
    frames = [(np.zeros(E), {})]
    jaw_open = {"jaw": _limit_corners(head, "jaw")[-1]}
    for e in range(E):
        one = np.eye(E)[e]
        frames += [(one, {}), (one, jaw_open)]
    frames.append((np.ones(E), jaw_open))
    for joint in ("jaw", "eye_left", "eye_right", "neck"):
        for corner in _limit_corners(head, joint):
            frames.append((np.zeros(E), {joint: corner}))
            if joint == "neck":
                frames.append((np.zeros(E), {joint: corner, **jaw_open}))
    expression = np.stack([f[0] for f in frames])
    pose = np.zeros((len(frames), len(JOINT_NAMES), 3))
    for k, (_, joints) in enumerate(frames):
        for name, rotation in joints.items():
            pose[k, JOINT_NAMES.index(name)] = rotation
    return {"expression": expression, "pose": pose}


def _limit_corners(head: HeadModel, joint: str) -> list:
    """The 8 corners [3] of a joint's axis-angle limit box, the upper corner last (none without limits)."""
    if joint not in head.joint_limits:
        return []
    low, high = (np.asarray(a, dtype=np.float64) for a in head.joint_limits[joint])
    bits = np.array([[(k >> a) & 1 for a in range(3)] for k in range(8)])
    return list(np.where(bits == 1, high, low))


def head_bounds(head: HeadModel, margin: float = 0.005, shape=None) -> Box:
    """The box [metres] around `head` in its canonical frame under every `extreme_parameters` frame, plus `margin`.

    Vertices are posed by `head.forward` and brought back by the inverse of
    `head_transform`, so the neck's bottom (skinned partly to the global
    joint) counts where a neck rotation swings it.
    """
    params = extreme_parameters(head)
    vertices, _ = head.forward(params["expression"], params["pose"], shape)
    transforms = head_transform(head, params["pose"], None, params["expression"], shape)
    R, t = transforms[:, :3, :3], transforms[:, :3, 3]
    canonical = np.einsum("tvc,tcd->tvd", vertices.astype(np.float64) - t[:, None], R)
    return Box(tuple(canonical.min(axis=(0, 1)) - margin), tuple(canonical.max(axis=(0, 1)) + margin))
