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
DEPTH_COLUMNS = np.array([0, 3])                  # the nod and the jaw: what MediaPipe's z is fitted to
REUSE_TURN = math.radians(2.0)                    # kept rotation columns serve while neck and jaw turned less (solve_frame)
REUSE_MOVE = 0.01                                 # ... and the head moved less (metres)
BATCH = 4                                         # frames solved as one batch of arrays (see solve_frames)
_NUDGED = np.arange(NUM_ROTATIONS)                # the rotations nudged in a numeric Jacobian (see _linearised)
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
    iterations: int = 2                # Gauss-Newton steps per frame, warm-started from the previous frame
    jacobian_frames: int = 4           # warm frames one set of rotation columns serves (1: each its own; solve_frame)
    keyframes: int = 16                # frames that decide identity and camera
    identity_seconds: float = 10.0     # ... spread over this much of the video's opening (its usable frames)
    identity_rounds: int = 3
    depth_weight: float = 0.25         # of MediaPipe's relative depth (z) beside the pixels, per frame
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
    depth_scale: float = 0.0             # MediaPipe's z over the fit's relative depth in pixels (0: z unused)
    depth_offsets: np.ndarray = None     # [K] pixels: where this face's depth differs from MediaPipe's, per point

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
    uv = np.empty(points.shape[:-1] + (2,))
    uv[..., 0] = cx + problem.focal * points[..., 0] / z
    uv[..., 1] = cy - problem.focal * points[..., 1] / z
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
                fresh_jacobian: bool = True, reuse: dict = None) -> np.ndarray:
    """Parameters [13 + E] of one frame fitted to target pixels [K, 2] (visible [K] bool), from q0.

    `scale` is the frame's inter-ocular distance in pixels; `previous` the last
    frame's parameters (the temporal pull) or None. fresh_jacobian False keeps
    the first step's Jacobian for the later steps (only the residuals are
    recomputed): for a warm start a frame away, where the steps are small. The first step weighs every
    point alike; each later one by the Cauchy weight of its error where the fit then is (IRLS).

    `reuse` (a dict kept from frame to frame) lets the next frames take this one's rotation columns
    of the Jacobian (the numeric ones: a posing per nudged angle) instead of making their own, while
    the neck and the jaw have turned less than REUSE_TURN and the head moved less than REUSE_MOVE
    from where they were made, for at most `settings.jacobian_frames` frames (the eyes' columns, on
    the irises alone, barely change with the gaze). The other columns and the residuals are always
    this frame's. On the bench clip it took 15% off the frames' CPU and moved no channel by more
    than 0.15 deg or 0.11 of a coefficient (the jaw's 0.3 deg).
    """
    return solve_frames(problem, target[None], visible[None], np.array([scale], float), q0[None],
                        None if previous is None else previous[None], iterations, free_expression, fresh_jacobian,
                        reuse)[0]


def solve_frames(problem: Problem, target: np.ndarray, visible: np.ndarray, scale: np.ndarray, q0: np.ndarray,
                 previous=None, iterations=None, free_expression: bool = True,
                 fresh_jacobian: bool = True, reuse: dict = None) -> np.ndarray:
    """`solve_frame` for B independent frames at once: target [B, K, 2], visible [B, K], scale [B],
    q0 [B, 13 + E], previous [B, 13 + E] or None -> [B, 13 + E] (batches of array work, not B: of at most
    BATCH frames, whose Jacobians stay in the cache; 16 keyframes at once were a third slower than 4 x 4)."""
    if len(q0) > BATCH:
        return np.concatenate([solve_frames(problem, target[k:k + BATCH], visible[k:k + BATCH], scale[k:k + BATCH],
                                            q0[k:k + BATCH], None if previous is None else previous[k:k + BATCH],
                                            iterations, free_expression, fresh_jacobian)
                               for k in range(0, len(q0), BATCH)])
    s = problem.settings
    q = q0.copy()
    weights = np.ones(visible.shape)
    n = q.shape[1] if free_expression else NUM_POSE              # the coefficients solved for
    J = None
    for it in range(iterations or s.iterations):
        if J is None or fresh_jacobian:
            kept = reuse is not None and it == 0 and _reusable(reuse, q, n)
            J, r = _linearised(problem, q, target, scale, n, reuse["rotations"] if kept else None)
            if reuse is not None and it == 0:
                if kept:
                    reuse["age"] += 1
                else:
                    reuse.update(rotations=J[..., :NUM_ROTATIONS] * np.asarray(scale, float)[:, None, None, None],
                                 at=q.copy(), n=n, age=1)                 # kept in pixels, not over the scale
        else:
            r = _residuals(problem, q, target, scale)
        if it:                                  # the errors where the fit is now weigh this step's points
            err = np.sqrt(np.einsum("bkc,bkc->bk", r[..., :2], r[..., :2]))
            weights = 1.0 / (1.0 + (err / ROBUST_SCALE) ** 2)
        w = problem.point_weights * weights * visible
        A, g = _normal_equations(J, r, w)
        _add_priors(problem, A, g, q[:, :n], None if previous is None else previous[:, :n])
        diagonal = A.reshape(len(q), -1)[:, ::n + 1]                      # a view of every A's diagonal
        diagonal *= 1.0 + 1e-3
        diagonal += 1e-9
        q[:, :n] = np.clip(q[:, :n] + np.linalg.solve(A, -g[..., None])[..., 0], problem.lower[:n], problem.upper[:n])
    return q


def _reusable(reuse: dict, q: np.ndarray, n: int) -> bool:
    """Whether the rotation columns kept in `reuse` serve a frame starting at q [B, 13 + E] (see `solve_frame`)."""
    if reuse.get("rotations") is None or reuse["n"] != n or reuse["age"] >= reuse.get("frames", 1):
        return False
    at = reuse["at"]
    return bool(len(at) == len(q) and np.abs(q[:, :6] - at[:, :6]).max() < REUSE_TURN
                and np.abs(q[:, NUM_ROTATIONS:NUM_POSE] - at[:, NUM_ROTATIONS:NUM_POSE]).max() < REUSE_MOVE)


def relative_depth(problem: Problem, points: np.ndarray) -> np.ndarray:
    """Depths [..., K] of points [..., K, 3] from their mean, in pixels at the face's distance (like
    MediaPipe's z: larger is farther from the camera)."""
    pz = points[..., 2]
    mean = pz.mean(axis=-1, keepdims=True)
    return problem.focal * (mean - pz) / (problem.distance - mean)


def _uses_depth(problem: Problem, target: np.ndarray) -> bool:
    return target.shape[-1] == 3 and problem.depth_scale > 0 and problem.settings.depth_weight > 0


def _depth_residuals(problem: Problem, points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Weighted depth residuals [B, K] (pixels) of points [B, K, 3] against MediaPipe's z in target[..., 2]."""
    seen = target[..., 2] - target[..., 2].mean(axis=-1, keepdims=True)
    if problem.depth_offsets is not None:
        seen = seen - problem.depth_offsets
    return problem.settings.depth_weight * (problem.depth_scale * relative_depth(problem, points) - seen)


def _linearised(problem: Problem, q: np.ndarray, target: np.ndarray, scale: np.ndarray, columns: int = None,
                rotations: np.ndarray = None):
    """Jacobians [B, K, C, columns] (d of the first `columns` coefficients; None: all 13 + E) and
    residuals [B, K, C] of B frames' errors over their scales [B]: C = 2 pixel errors, 3 with the
    depth (target [B, K, 3] carries MediaPipe's z and the problem a depth scale). `rotations`
    [B, K, C, 10]: the rotations' columns kept from a nearby linearisation (the numeric ones, the
    cost of this: the frames are then posed once, not with each rotation nudged)."""
    E, R = problem.num_expressions, NUM_ROTATIONS
    B, P = q.shape
    R = 0 if rotations is not None else R
    batch = np.repeat(q[:, None], 1 + R, axis=1)               # each frame, then its rotations nudged
    batch[:, _NUDGED[:R] + 1, _NUDGED[:R]] += STEP[:R]
    expression, pose, translation = unpack(batch.reshape(B * (1 + R), P), E)
    expression, translation = expression[::1 + R], translation[::1 + R]     # one blend a frame, its nudges share it
    points, blended = _rig.posed(problem.rig, problem.shape, expression, pose, translation)
    K = points.shape[1]
    points, blended = points.reshape(B, 1 + R, K, 3), blended.reshape(B, 1 + R, K, 3, 3)
    uv, z = project(problem, points)
    depth = _uses_depth(problem, target)
    J = np.zeros((B, K, 3 if depth else 2, columns or P))
    if rotations is not None:
        J[..., :NUM_ROTATIONS] = rotations
    else:
        J[:, :, :2, :R] = np.moveaxis((uv[:, 1:] - uv[:, :1]) / STEP[:R, None, None], 1, -1)
    dproj = _projection_jacobian(problem, points[:, 0], z[:, 0])                     # [B, K, 2, 3]
    J[:, :, :2, NUM_ROTATIONS:NUM_POSE] = dproj                             # a translation moves every point by itself
    if J.shape[-1] > NUM_POSE:
        J[:, :, :2, NUM_POSE:] = np.matmul(dproj @ blended[:, 0], problem.rig.expression_dirs)
    r = uv[:, 0] - target[..., :2]
    if depth:
        rz = _depth_residuals(problem, points, target[:, None])                       # [B, 1 + R, K]
        if rotations is None:
            J[:, :, 2, DEPTH_COLUMNS] = np.moveaxis((rz[:, 1 + DEPTH_COLUMNS] - rz[:, :1]) / STEP[DEPTH_COLUMNS, None], 1, -1)
        r = np.concatenate([r, rz[:, 0, :, None]], axis=2)
    scale = np.asarray(scale, float)
    J /= scale[:, None, None, None]             # J is this call's own array
    return J, r / scale[:, None, None]


def _residuals(problem: Problem, q: np.ndarray, target: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Residuals [B, K, C] of B frames' errors over their scales [B] (no Jacobian; C as in `_linearised`)."""
    expression, pose, translation = unpack(q, problem.num_expressions)
    points, _ = _rig.posed(problem.rig, problem.shape, expression, pose, translation)
    r = project(problem, points)[0] - target[..., :2]
    if _uses_depth(problem, target):
        r = np.concatenate([r, _depth_residuals(problem, points, target)[..., None]], axis=2)
    return r / np.asarray(scale, float)[:, None, None]


def _normal_equations(J: np.ndarray, r: np.ndarray, w: np.ndarray):
    """J^T W J [B, P, P] and J^T W r [B, P] of Jacobians [B, K, C, P], residuals [B, K, C], weights [B, K].

    A depth channel (C = 3) counts for DEPTH_COLUMNS only (its other columns are zero), added as the
    small block it is."""
    B, P = J.shape[0], J.shape[-1]
    root = np.sqrt(w)[..., None]
    X = (J[:, :, :2] * root[..., None]).reshape(B, -1, P)       # sqrt(W) J
    y = (r[:, :, :2] * root).reshape(B, -1)
    if B == 1:                                                  # X^T X of one matrix: BLAS's symmetric product
        A, g = (X[0].T @ X[0])[None], (y[0] @ X[0])[None]
    else:
        A, g = np.swapaxes(X, 1, 2) @ X, np.einsum("bkp,bk->bp", X, y)
    if J.shape[2] == 3:
        Z = J[:, :, 2, DEPTH_COLUMNS] * root                                           # [B, K, 2]
        A[:, DEPTH_COLUMNS[:, None], DEPTH_COLUMNS] += np.einsum("bki,bkj->bij", Z, Z)
        g[:, DEPTH_COLUMNS] += np.einsum("bki,bk->bi", Z, r[:, :, 2] * root[..., 0])
    return A, g


def _add_priors(problem: Problem, A: np.ndarray, g: np.ndarray, q: np.ndarray, previous) -> None:
    """Add each coefficient's prior (and the pull towards `previous` [B, n]) to A [B, n, n], g [B, n]
    of the first n coefficients q [B, n]."""
    s = problem.settings
    n = q.shape[1]
    prior = np.zeros(NUM_POSE + problem.num_expressions)
    prior[4:6] = s.jaw_side_prior ** 2
    prior[NUM_POSE:] = s.expression_prior ** 2
    prior = prior[:n]
    if previous is not None:
        pull = np.full(len(prior), s.temporal_expression ** 2)
        pull[:10], pull[10:13] = s.temporal_pose ** 2, s.temporal_translation ** 2
        pull = pull[:n]
        g += prior * q + pull * (q - previous)
        prior = prior + pull
    else:
        g += prior * q
    A.reshape(len(A), -1)[:, ::n + 1] += prior


def initial_parameters(problem: Problem, target: np.ndarray) -> np.ndarray:
    """A first guess [13 + E]: no rotation, translation that puts the face where the target is."""
    q = np.zeros(NUM_POSE + problem.num_expressions)
    cx, cy = problem.centre
    centre = np.nanmean(target, axis=0)
    q[10] = (centre[0] - cx) * problem.distance / problem.focal
    q[11] = -(centre[1] - cy) * problem.distance / problem.focal
    return q


def _point_jacobians(problem: Problem, q: np.ndarray, target: np.ndarray, scale: np.ndarray):
    """d residual / d rest point [B, K, 2, 3] and the residuals [B, K, 2] of B frames (q [B, 13 + E])."""
    expression, pose, translation = unpack(q, problem.num_expressions)
    points, blended = _rig.posed(problem.rig, problem.shape, expression, pose, translation)
    uv, z = project(problem, points)
    scale = np.asarray(scale, float)[:, None, None]
    return (_projection_jacobian(problem, points, z) @ blended) / scale[..., None], (uv - target) / scale


def solve_shape(problem: Problem, q: np.ndarray, target: np.ndarray, visible: np.ndarray,
                scale: np.ndarray) -> np.ndarray:
    """Shape coefficients [S] that best fit B keyframes at once, given their parameters q [B, 13 + E],
    target pixels [B, K, 2], visible [B, K] and inter-ocular distances scale [B] (pixels)."""
    S, B = problem.rig.shape_dirs.shape[2], len(q)
    dpoint, r = _point_jacobians(problem, q, target, scale)
    J = np.matmul(dpoint, problem.rig.shape_dirs).reshape(B, -1, S)           # [B, 2K, S]
    w = np.repeat(problem.point_weights * visible, 2, axis=1)                   # [B, 2K]
    A = np.eye(S) * problem.settings.shape_prior ** 2 * B + np.einsum("bks,bk,bkt->st", J, w, J)
    g = problem.settings.shape_prior ** 2 * B * problem.shape + np.einsum("bks,bk->s", J, w * r.reshape(B, -1))
    return np.clip(problem.shape - np.linalg.solve(A, g), -3.0, 3.0)


def solve_offsets(problem: Problem, q: np.ndarray, target: np.ndarray, visible: np.ndarray, scale: np.ndarray,
                  base: np.ndarray) -> np.ndarray:
    """Rest-frame offsets [K, 3] of every point from `base` [K, 3] (the embedding's own positions)
    that fit B keyframes at once (arrays as in `solve_shape`): where this person's face differs from
    what the shape basis can say. Each point is a 3 x 3 least-squares problem with a pull towards no offset."""
    B = len(q)
    J, r = _point_jacobians(problem, q, target, scale)                        # [B, K, 2, 3], [B, K, 2]
    w = problem.point_weights * visible                                        # [B, K]
    A = np.eye(3) * (problem.settings.offset_prior ** 2) * B + np.einsum("bkci,bk,bkcj->kij", J, w, J)
    current = problem.rig.rest - base
    g = (problem.settings.offset_prior ** 2) * B * current + np.einsum("bkci,bk,bkc->ki", J, w, r)
    return current - np.linalg.solve(A, g[..., None])[..., 0]
