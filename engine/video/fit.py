"""Fit a head to MediaPipe landmarks: identity and camera per video, pose and expression per frame.

The camera is a pinhole at (0, 0, distance) looking down -Z (the head's front
faces it, image x = the subject's left). Residuals are image distances in units
of the inter-ocular distance; the solver is Gauss-Newton with Levenberg damping,
analytic derivatives for the linear bases and central differences for the
joints, robust (Cauchy) point weights, a small prior on every coefficient and a
pull towards the previous frame's values (the temporal smoothing). Values are
kept inside the head's joint limits and expressions in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..head.model import HeadModel
from . import rig as _rig
from . import topology

POSE_NAMES = ("neck_rx", "neck_ry", "neck_rz", "jaw_rx", "jaw_ry", "jaw_rz", "eye_left_rx", "eye_left_ry",
              "eye_right_rx", "eye_right_ry", "global_tx", "global_ty", "global_tz")
NUM_POSE = len(POSE_NAMES)
NUM_ROTATIONS = 10                                # the pose's angles (then the three translations)
STEP = np.array([1e-4] * 10 + [1e-5] * 3)        # finite-difference steps: radians, metres
FOV_CHOICES = (12.0, 20.0, 32.0, 48.0)            # vertical fields of view tried per video, degrees
ROBUST_SCALE = 0.04                               # Cauchy scale of a point's error, in inter-ocular distances
IRIS_RING = set(topology.LEFT_IRIS[1:] + topology.RIGHT_IRIS[1:])


@dataclass
class FitSettings:
    """Weights of the fit (residuals are in inter-ocular distances, angles in radians)."""

    expression_prior: float = 0.02     # pull of every expression coefficient towards 0
    shape_prior: float = 0.02          # pull of every shape coefficient towards 0
    jaw_side_prior: float = 2.0        # jaw_ry / jaw_rz stay near 0
    temporal_pose: float = 0.05        # pull of rotations towards the previous frame
    temporal_translation: float = 0.5  # per metre
    temporal_expression: float = 0.02  # per coefficient (blinks must stay fast)
    offset_prior: float = 5.0          # per metre of a point's offset from the embedding
    iterations: int = 3                # Gauss-Newton steps per frame (warm-started; 2 lag on a blink)
    keyframes: int = 16                # frames that decide identity and camera
    identity_rounds: int = 3
    weights: dict = field(default_factory=lambda: {"oval": 0.3, "slit": 2.0, "iris": 3.0, "other": 1.0})


@dataclass
class Problem:
    """What stays fixed while frames are fitted: the point rig, weights, camera and identity.

    indices [K] MediaPipe numbers of the rig's points, point_weights [K],
    focal (pixels), centre (cx, cy), distance (metres), shape [S],
    lower / upper [13 + E] bounds of a frame's parameters; `rig.rest` is
    `embedded` plus this person's fitted point offsets.
    """

    rig: _rig.PointRig
    indices: np.ndarray
    point_weights: np.ndarray
    focal: float
    centre: tuple
    distance: float
    shape: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    settings: FitSettings
    embedded: np.ndarray = None          # [K, 3] the embedding's own rest positions (before offsets)

    @property
    def num_expressions(self) -> int:
        return self.rig.expression_dirs.shape[2]


def make_problem(head: HeadModel, embedding, width: int, height: int, settings: FitSettings) -> Problem:
    """A problem for `head` (with a MediaPipe embedding) seen in width x height frames."""
    keep = np.array([i not in IRIS_RING for i in embedding.indices])
    indices = embedding.indices[keep]
    rig = _rig.point_rig(head, embedding.faces[keep], embedding.bary[keep])
    E = head.exprdirs.shape[2]
    lower, upper = np.zeros(NUM_POSE + E), np.ones(NUM_POSE + E)
    limits = head.joint_limits
    for k, name in enumerate(POSE_NAMES[:10]):
        joint, axis = name.rsplit("_r", 1)
        lo, hi = limits.get(joint, (np.full(3, -math.pi), np.full(3, math.pi)))
        lower[k], upper[k] = lo["xyz".index(axis)], hi["xyz".index(axis)]
    lower[10:13], upper[10:13] = -10.0, 10.0
    problem = Problem(rig, indices, _point_weights(indices, settings), 1.0, (width / 2.0, height / 2.0), 1.0,
                      np.zeros(head.shapedirs.shape[2]), lower, upper, settings, rig.rest.copy())
    return set_fov(problem, FOV_CHOICES[1], height)


def _point_weights(indices: np.ndarray, settings: FitSettings) -> np.ndarray:
    w = settings.weights
    oval = set(topology.FACE_OVAL)
    return np.array([w["iris"] if i in topology.IRIS_CENTRES else w["slit"] if i in topology.SLIT_POINTS
                     else w["oval"] if i in oval else w["other"] for i in indices])


def set_fov(problem: Problem, fov_y: float, height: int) -> Problem:
    """The problem with a camera of this vertical field of view (degrees)."""
    problem.focal = 0.5 * height / math.tan(math.radians(fov_y) / 2.0)
    return problem


def unpack(q: np.ndarray, E: int):
    """A frame's parameters [B, 13 + E] -> expression [B, E], pose [B, 5, 3], translation [B, 3]."""
    B = q.shape[0]
    pose = np.zeros((B, 5, 3))
    pose[:, 1], pose[:, 2] = q[:, 0:3], q[:, 3:6]
    pose[:, 3, :2], pose[:, 4, :2] = q[:, 6:8], q[:, 8:10]
    return q[:, NUM_POSE:NUM_POSE + E], pose, q[:, 10:13]


def project(problem: Problem, points: np.ndarray):
    """Pixels [..., K, 2] of head-space points [..., K, 3] and the depths [..., K]."""
    z = problem.distance - points[..., 2]
    cx, cy = problem.centre
    uv = np.stack([cx + problem.focal * points[..., 0] / z, cy - problem.focal * points[..., 1] / z], axis=-1)
    return uv, z


def _projection_jacobian(problem: Problem, points: np.ndarray, z: np.ndarray) -> np.ndarray:
    """d pixels / d point [K, 2, 3]."""
    f = problem.focal / z
    J = np.zeros(points.shape[:-1] + (2, 3))
    J[..., 0, 0], J[..., 0, 2] = f, f * points[..., 0] / z
    J[..., 1, 1], J[..., 1, 2] = -f, -f * points[..., 1] / z
    return J


def frame_residuals(problem: Problem, q: np.ndarray, target: np.ndarray, scale: float):
    """Weighted point errors of one frame: q [13 + E], target pixels [K, 2] -> (errors [K], uv [K, 2])."""
    expression, pose, translation = unpack(q[None], problem.num_expressions)
    points, _ = _rig.posed(problem.rig, problem.shape, expression, pose, translation)
    uv, _ = project(problem, points[0])
    return np.linalg.norm(uv - target, axis=1) / scale, uv


def solve_frame(problem: Problem, target: np.ndarray, visible: np.ndarray, scale: float, q0: np.ndarray,
                previous=None, iterations=None, free_expression: bool = True,
                fresh_jacobian: bool = True) -> np.ndarray:
    """Parameters [13 + E] of one frame fitted to target pixels [K, 2] (visible [K] bool), from q0.

    `scale` is the frame's inter-ocular distance in pixels; `previous` the last
    frame's parameters (the temporal pull) or None. fresh_jacobian False keeps
    the first step's Jacobian for the later steps (only the residuals are
    recomputed): for a warm start a frame away, where the steps are small.
    """
    s = problem.settings
    q = q0.copy()
    robust = np.ones(len(target))
    J = None
    for it in range(iterations or s.iterations):
        if J is None or fresh_jacobian:
            J, r = _linearised(problem, q, target, scale)
        else:
            r = _residuals(problem, q, target, scale)
        w = problem.point_weights * robust * visible
        A, g = _normal_equations(J, r, w)
        _add_priors(problem, A, g, q, previous)
        if not free_expression:
            A[NUM_POSE:, :] = 0.0
            A[:, NUM_POSE:] = 0.0
            A[NUM_POSE:, NUM_POSE:] = np.eye(problem.num_expressions)
            g[NUM_POSE:] = 0.0
        A[np.diag_indices_from(A)] *= 1.0 + 1e-3
        step = np.linalg.solve(A + 1e-9 * np.eye(len(q)), -g)
        q = np.clip(q + step, problem.lower, problem.upper)
        err = np.linalg.norm(r, axis=1)
        robust = 1.0 / (1.0 + (err / ROBUST_SCALE) ** 2)
    return q


def _linearised(problem: Problem, q: np.ndarray, target: np.ndarray, scale: float):
    """Jacobian [K, 2, 13 + E] and residuals [K, 2] of the frame's pixel errors over scale."""
    E, R = problem.num_expressions, NUM_ROTATIONS
    batch = np.repeat(q[None], 1 + R, axis=0)                  # the frame, then each rotation nudged
    batch[np.arange(1, 1 + R), np.arange(R)] += STEP[:R]
    expression, pose, translation = unpack(batch, E)
    points, blended = _rig.posed(problem.rig, problem.shape, expression[:1], pose, translation[:1])
    uv, z = project(problem, points)
    J = np.empty((len(target), 2, NUM_POSE + E))
    J[:, :, :R] = np.moveaxis((uv[1:] - uv[0]) / STEP[:R, None, None], 0, -1)
    dproj = _projection_jacobian(problem, points[0], z[0])                          # [K, 2, 3]
    J[:, :, R:NUM_POSE] = dproj                                  # a translation moves every point by itself
    dpix = dproj @ blended[0]                                                        # [K, 2, 3]
    J[:, :, NUM_POSE:] = np.matmul(dpix, problem.rig.expression_dirs)
    return J / scale, (uv[0] - target) / scale


def _residuals(problem: Problem, q: np.ndarray, target: np.ndarray, scale: float) -> np.ndarray:
    """Residuals [K, 2] of the frame's pixel errors over scale (no Jacobian)."""
    expression, pose, translation = unpack(q[None], problem.num_expressions)
    points, _ = _rig.posed(problem.rig, problem.shape, expression, pose, translation)
    return (project(problem, points[0])[0] - target) / scale


def _normal_equations(J: np.ndarray, r: np.ndarray, w: np.ndarray):
    Jw = J * w[:, None, None]
    Jf, Jwf = J.reshape(-1, J.shape[-1]), Jw.reshape(-1, J.shape[-1])
    return Jwf.T @ Jf, Jwf.T @ r.reshape(-1)


def _add_priors(problem: Problem, A: np.ndarray, g: np.ndarray, q: np.ndarray, previous) -> None:
    s = problem.settings
    prior = np.zeros(len(q))
    prior[4:6] = s.jaw_side_prior ** 2
    prior[NUM_POSE:] = s.expression_prior ** 2
    A[np.diag_indices_from(A)] += prior
    g += prior * q
    if previous is not None:
        pull = np.full(len(q), s.temporal_expression ** 2)
        pull[:10], pull[10:13] = s.temporal_pose ** 2, s.temporal_translation ** 2
        A[np.diag_indices_from(A)] += pull
        g += pull * (q - previous)


def initial_parameters(problem: Problem, target: np.ndarray) -> np.ndarray:
    """A first guess [13 + E]: no rotation, translation that puts the face where the target is."""
    q = np.zeros(NUM_POSE + problem.num_expressions)
    cx, cy = problem.centre
    centre = np.nanmean(target, axis=0)
    q[10] = (centre[0] - cx) * problem.distance / problem.focal
    q[11] = -(centre[1] - cy) * problem.distance / problem.focal
    return q


def solve_shape(problem: Problem, frames: list, scale: list) -> np.ndarray:
    """Shape coefficients [S] that best fit several frames at once, given their parameters.

    frames: (q [13 + E], target [K, 2], visible [K]) per keyframe; scale: their
    inter-ocular distances in pixels.
    """
    S = problem.rig.shape_dirs.shape[2]
    A = np.eye(S) * problem.settings.shape_prior ** 2 * len(frames)
    g = problem.settings.shape_prior ** 2 * len(frames) * problem.shape
    for (q, target, visible), iod in zip(frames, scale):
        expression, pose, translation = unpack(q[None], problem.num_expressions)
        points, blended = _rig.posed(problem.rig, problem.shape, expression, pose, translation)
        uv, z = project(problem, points[0])
        dpix = _projection_jacobian(problem, points[0], z[0]) @ blended[0]
        J = np.matmul(dpix, problem.rig.shape_dirs) / iod
        a, b = _normal_equations(J, (uv - target) / iod, problem.point_weights * visible)
        A += a
        g += b
    return np.clip(problem.shape - np.linalg.solve(A, g), -3.0, 3.0)


def solve_offsets(problem: Problem, frames: list, scale: list, base: np.ndarray) -> np.ndarray:
    """Rest-frame offsets [K, 3] of every point from `base` [K, 3] (the embedding's own positions)
    that fit several frames at once: where this person's face differs from what the shape basis
    can say. Each point is a 3 x 3 least-squares problem with a pull towards no offset."""
    K = problem.rig.num_points
    A = np.tile(np.eye(3) * (problem.settings.offset_prior ** 2) * len(frames), (K, 1, 1))
    current = problem.rig.rest - base
    g = A @ current[..., None]
    for (q, target, visible), iod in zip(frames, scale):
        expression, pose, translation = unpack(q[None], problem.num_expressions)
        points, blended = _rig.posed(problem.rig, problem.shape, expression, pose, translation)
        uv, z = project(problem, points[0])
        J = (_projection_jacobian(problem, points[0], z[0]) @ blended[0]) / iod        # [K, 2, 3]
        w = (problem.point_weights * visible)[:, None, None]
        A += np.swapaxes(J, 1, 2) @ (J * w)
        g += np.swapaxes(J, 1, 2) @ (w * ((uv - target) / iod)[..., None])
    return current - np.linalg.solve(A, g)[..., 0]
