"""Retargeting by fit: for rigs whose shape-key names mean nothing to us.

Both heads are compared on the iBUG-68 landmarks. The built-in head's
expression e moves its landmarks by D_e [L, 3]; the target's shape key k
moves the target's landmarks by A_k [L, 3] (brought into the head's frame by
the similarity transform that best aligns the two neutral faces). For each
expression, non-negative least squares finds weights with

    D_e  ~  sum_k  w_ek * A_k,   w_ek >= 0,

so an animation with coefficient c_e(t) becomes shape-key values
sum_e c_e(t) * w_ek on the target. An expression the target's keys cannot
reproduce (relative residual above `max_residual`) stays unmapped.

Keys whose sign means nothing (a FLAME head's expression components: each
is a principal component, used with either sign) are fitted `signed`: ridge
least squares, w_ek of any sign, the ridge standing in for FLAME's prior
that coefficients are small (it keeps components that barely move the
landmarks from taking large values).
"""

from __future__ import annotations

import numpy as np

from ..errors import HeadModelError
from ..head.landmarks import landmarks
from ..motion.arkit import JAW_OPEN_MAX, JAW_SIDE_MAX
from .mapping import Mapping, MappingError

DEFAULT_MAX_RESIDUAL = 0.35  # relative landmark error above which an expression stays unmapped
MIN_VISIBLE = 0.005          # expressions moving the landmarks less than this share of the largest: not fittable
MIN_SHARE = 0.02             # a key adding less than this share of an expression's motion is dropped
MIN_LANDMARKS = 10
RIDGE = 0.001               # signed fits: ridge weight, as a share of the largest key's landmark motion
# The jaw is a joint on our head and a shape key on ARKit rigs: these poses make JawOpen etc. equal 1.
JAW_SHAPE_POSES = {"jawOpen": (JAW_OPEN_MAX, 0.0, 0.0), "jawLeft": (0.0, JAW_SIDE_MAX, 0.0),
                   "jawRight": (0.0, -JAW_SIDE_MAX, 0.0)}


def head_landmark_deltas(head, jaw_shapes: bool = True) -> tuple:
    """(names [E], deltas [E, L, 3], ids [L]): how each expression at 1 moves the head's landmarks.

    With `jaw_shapes`, jawOpen / jawLeft / jawRight are added: the landmark
    motion of the jaw rotation that makes that ARKit shape 1 (see
    `engine.retarget.joint_shapes`). ids are the iBUG-68 numbers of the L points.
    """
    rest = head_landmarks(head)
    names = list(head.expression_names)
    deltas = landmarks(head, np.moveaxis(head.exprdirs, 2, 0)).astype(np.float64)
    if jaw_shapes:
        poses = np.zeros((len(JAW_SHAPE_POSES), 5, 3), np.float32)
        poses[:, 2] = list(JAW_SHAPE_POSES.values())
        posed, _ = head.forward(pose=poses)
        names += list(JAW_SHAPE_POSES)
        deltas = np.concatenate([deltas, landmarks(head, posed) - rest], axis=0)
    return names, deltas, np.asarray(head.landmark_embedding.ids)


def head_landmarks(head) -> np.ndarray:
    """The head's landmarks [L, 3] at rest (FLAME frame, metres), in its embedding's order."""
    if head.landmark_embedding is None:
        raise HeadModelError(f"The head '{head.name}' has no landmarks, so it cannot be fitted to a rig.")
    return landmarks(head, head.v_template).astype(np.float64)


def landmark_deltas(neutral, shapes, landmark_vertices) -> tuple:
    """(neutral landmarks [L, 3], per-key deltas [K, L, 3]) of a target mesh.

    neutral [V, 3] rest vertices, shapes [K, V, 3] each shape key's vertices
    (absolute, not offsets), landmark_vertices [L] the vertex index of each
    landmark in iBUG-68 order.
    """
    neutral = np.asarray(neutral, dtype=np.float64)
    shapes = np.asarray(shapes, dtype=np.float64).reshape(-1, *neutral.shape)
    index = checked_vertex_indices(landmark_vertices, len(neutral))
    return neutral[index], shapes[:, index] - neutral[index]


def checked_vertex_indices(indices, num_vertices: int) -> np.ndarray:
    """Landmark vertex indices [L] as integers, or a MappingError saying what is wrong."""
    values = np.asarray(indices)
    if values.ndim != 1 or values.size < MIN_LANDMARKS or not np.all(np.mod(values, 1) == 0):
        raise MappingError(f"The landmarks must be at least {MIN_LANDMARKS} whole vertex indices in iBUG-68 order.")
    if values.min() < 0 or values.max() >= num_vertices:
        raise MappingError(f"A landmark names vertex {int(values.max())}, but the mesh has {num_vertices} "
                           "vertices; find the landmarks again.")
    return values.astype(np.int64)


def nearest_vertices(points, vertices) -> np.ndarray:
    """Indices [L] of the vertex [V, 3] nearest each point [L, 3] (e.g. the head's landmarks laid over a rig)."""
    from scipy.spatial import cKDTree  # lazy: enabling the add-on stays fast
    _, index = cKDTree(np.asarray(vertices, dtype=np.float64)).query(np.asarray(points, dtype=np.float64))
    return np.asarray(index, dtype=np.int64)


def landmark_directions(head) -> np.ndarray:
    """Unit vectors [L, 3] from each rest landmark into its triangle (towards the triangle's centroid).

    They tell the upper lip from the lower where a closed mouth puts both at
    one place (see `landmark_vertices`).
    """
    emb = head.landmark_embedding
    centroids = head.v_template[head.faces[emb.faces]].mean(axis=1)
    return _unit(centroids - head_landmarks(head))


def landmark_vertices(points, directions, vertices, edges, tolerance: float = 1e-4) -> np.ndarray:
    """The target's vertex [L] for each landmark point [L, 3] laid over its mesh (vertices [V, 3], edges [E, 2]).

    The nearest vertex; among vertices as near (within `tolerance` of the
    mesh's size: a closed mouth's upper and lower lip share positions), the
    one whose neighbours lie most towards `directions` [L, 3] (from
    `landmark_directions`, in the same frame as the mesh).
    """
    from scipy.spatial import cKDTree  # lazy: enabling the add-on stays fast
    vertices = np.asarray(vertices, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    ring = np.zeros_like(vertices)
    np.add.at(ring, edges[:, 0], vertices[edges[:, 1]])
    np.add.at(ring, edges[:, 1], vertices[edges[:, 0]])
    count = np.bincount(edges.ravel(), minlength=len(vertices))[:, None]
    towards = _unit(np.where(count > 0, ring / np.maximum(count, 1) - vertices, 0.0))
    tree = cKDTree(vertices)
    slack = tolerance * np.linalg.norm(np.ptp(vertices, axis=0))
    nearest, _ = tree.query(np.asarray(points, dtype=np.float64))
    out = np.empty(len(nearest), np.int64)
    for i, (point, distance) in enumerate(zip(np.asarray(points, dtype=np.float64), nearest)):
        candidates = np.asarray(tree.query_ball_point(point, distance + slack), dtype=np.int64)
        out[i] = candidates[np.argmax(towards[candidates] @ np.asarray(directions[i], dtype=np.float64))]
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norm > 0, norm, 1.0)


def similarity_transform(source, target) -> tuple:
    """(scale, rotation [3, 3], translation [3]) with target ~ scale * rotation @ source + translation.

    source, target [L, 3] corresponding points; least squares (Umeyama), a
    proper rotation (no reflection).
    """
    src, dst = np.asarray(source, np.float64), np.asarray(target, np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    variance = (s ** 2).sum() / len(src)
    if variance < 1e-18:
        raise MappingError("The target's landmarks all lie on one point; choose distinct landmark vertices.")
    u, sigma, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.diag([1.0, 1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ sign @ vt
    scale = float(np.sum(sigma * np.diag(sign)) / variance)
    return scale, rotation, mu_d - scale * rotation @ mu_s


def fit_mapping(head, target_deltas, target_names, target_landmarks=None, landmark_ids=None,
                max_residual: float = DEFAULT_MAX_RESIDUAL, signed: bool = False) -> Mapping:
    """A Mapping from the head's expressions to the target's shape keys, by non-negative least squares
    (`signed`: ridge least squares, weights of either sign, for two-sided keys such as FLAME's).

    target_deltas [K, L, 3] how each of the K keys (`target_names` [K]) moves
    the target's landmarks; target_landmarks [L, 3] the target's neutral
    landmarks (to align the target's frame and scale to the head's; None:
    the deltas are already in the head's frame, metres); landmark_ids [L] the
    iBUG-68 numbers of the rows (None: 0..67 for 68 rows, 17..67 for 51).
    An expression whose best fit leaves more than `max_residual` of its
    landmark motion unexplained is listed in `unmapped`.
    """
    names, head_deltas, head_ids = head_landmark_deltas(head)
    A, rows = _target_matrix(target_deltas, target_names, landmark_ids, head_ids)
    if target_landmarks is not None:
        scale, rotation, _ = similarity_transform(np.asarray(target_landmarks)[rows[0]], head_landmarks(head)[rows[1]])
        A = scale * A @ rotation.T
    D = head_deltas[:, rows[1]].reshape(len(names), -1)
    A = A.reshape(len(A), -1).T                                           # [3L, K]
    visible = np.linalg.norm(D, axis=1) >= MIN_VISIBLE * np.linalg.norm(D, axis=1).max()
    fit_one = _fit_signed if signed else _fit_one
    targets, unmapped = {}, []
    for e, name in enumerate(names):
        pairs = fit_one(A, D[e], max_residual) if visible[e] else None
        if pairs:
            targets[name] = [(str(target_names[k]), w) for k, w in pairs]
        else:
            unmapped.append(name)
    return Mapping(targets=targets, unmapped=unmapped, method="fit", signed=signed)


def _target_matrix(target_deltas, target_names, landmark_ids, head_ids) -> tuple:
    """(deltas [K, L', 3] on landmarks both heads have, (target rows [L'], head rows [L']))."""
    deltas = np.asarray(target_deltas, dtype=np.float64)
    if deltas.ndim != 3 or deltas.shape[2] != 3 or len(target_names) != len(deltas):
        raise MappingError(f"The target's landmark deltas have shape {deltas.shape}; expected "
                           f"[{len(target_names)} keys, landmarks, 3].")
    if not np.all(np.isfinite(deltas)):
        raise MappingError("The target's shape keys have NaN or infinite landmark positions.")
    ids = _default_ids(deltas.shape[1]) if landmark_ids is None else np.asarray(landmark_ids)
    head_row = {int(i): r for r, i in enumerate(head_ids)}
    pairs = [(r, head_row[int(i)]) for r, i in enumerate(ids) if int(i) in head_row]
    if len(pairs) < MIN_LANDMARKS:
        raise MappingError(f"Only {len(pairs)} of the target's landmarks match the head's; "
                           f"give at least {MIN_LANDMARKS} in iBUG-68 order.")
    rows = tuple(np.array(p) for p in zip(*pairs))
    return deltas[:, rows[0]], rows


def _default_ids(count: int) -> np.ndarray:
    if count == 68:
        return np.arange(68)
    if count == 51:
        return np.arange(17, 68)
    raise MappingError(f"{count} target landmarks need their iBUG-68 numbers; pass landmark_ids.")


def _fit_one(A, d, max_residual: float):
    """[(key, weight)] with d [3L] ~ A [3L, K] @ w, w >= 0, or None when the fit is too poor."""
    norms = np.linalg.norm(A, axis=0)
    usable = np.nonzero(norms > 1e-12)[0]
    if usable.size == 0:
        return None
    size = np.linalg.norm(d)
    w = _nnls(A[:, usable] / norms[usable], d)
    support = usable[w >= MIN_SHARE * size]               # contributions too small to matter are dropped
    if support.size == 0:
        return None
    w = _nnls(A[:, support] / norms[support], d) / norms[support]
    residual = np.linalg.norm(A[:, support] @ w - d) / size
    if residual > max_residual:
        return None
    return [(int(k), float(x)) for k, x in zip(support, w) if x > 0]


def _fit_signed(A, d, max_residual: float):
    """[(key, weight)] with d [3L] ~ A [3L, K] @ w (ridge, w of any sign), or None when the fit is too poor."""
    norms = np.linalg.norm(A, axis=0)
    usable = np.nonzero(norms > 1e-12)[0]
    if usable.size == 0:
        return None
    size, ridge = np.linalg.norm(d), RIDGE * norms.max()
    w = _ridge(A[:, usable], d, ridge)
    support = usable[np.abs(w) * norms[usable] >= MIN_SHARE * size]  # contributions too small to matter
    if support.size == 0:
        return None
    w = _ridge(A[:, support], d, ridge)
    if np.linalg.norm(A[:, support] @ w - d) / size > max_residual:
        return None
    return [(int(k), float(x)) for k, x in zip(support, w) if x != 0]


def _ridge(A, b, ridge: float) -> np.ndarray:
    """argmin_w |A w - b|^2 + ridge^2 |w|^2 for A [N, K], b [N]."""
    stacked = np.concatenate([A, ridge * np.eye(A.shape[1])])
    return np.linalg.lstsq(stacked, np.concatenate([b, np.zeros(A.shape[1])]), rcond=None)[0]


def _nnls(A, b) -> np.ndarray:
    from scipy.optimize import nnls  # lazy: enabling the add-on stays fast
    return nnls(A, b, maxiter=50 * max(A.shape[1], 1))[0]
