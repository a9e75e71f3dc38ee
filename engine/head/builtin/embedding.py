"""The iBUG-68 landmark embedding of the built-in head.

Standard iBUG order (0-16 jaw line from the subject's right ear to the
left, 17-26 brows, 27-35 nose, 36-47 eyes, 48-59 outer lips, 60-67 inner
lips); point 36 is the subject's right outer eye corner and 48 the right
mouth corner (image-left in a frontal photo). Eye and inner-lip points sit
on the slit vertices, so blinks and mouth openings move them; the others are
where rays from outside first meet the skin.
"""

from __future__ import annotations

import numpy as np

from ...errors import HeadModelError
from ..model import LandmarkEmbedding
from .features import MOUTH_Y, NOSE_BASE_Y
from .fields import FieldContext

NUM_LANDMARKS = 68
JAW_SPAN = np.radians(80.0)      # angle of the jaw line's ends (0 and 16) from the front
CHIN_Y, EAR_Y = -0.08, -0.002    # heights where the rays of point 8 and of points 0 / 16 aim
CHIN_TILT = 0.2                  # the chin's ray comes slightly from below
BROW_X = (0.056, 0.046, 0.036, 0.026, 0.015)   # |x| of brow points, outer to inner
UPPER_LIP = ((0.017, MOUTH_Y + 0.0075), (0.008, MOUTH_Y + 0.0095), (0.0, MOUTH_Y + 0.009))
LOWER_LIP = ((0.017, MOUTH_Y - 0.009), (0.008, MOUTH_Y - 0.0115), (0.0, MOUTH_Y - 0.012))
INNER_LIP_X = 0.011


def ray_hits(vertices, faces, origins, directions):
    """First hit of each ray on the mesh (Moller-Trumbore).

    vertices [V, 3], faces [F, 3], origins [N, 3], directions [N, 3].
    Returns face indices [N] (-1 for a miss) and barycentrics [N, 3].
    """
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    e1, e2 = b - a, c - a
    pvec = np.cross(directions[:, None, :], e2[None])                 # [N, F, 3]
    det = np.einsum("nfk,fk->nf", pvec, e1)
    ok = np.abs(det) > 1e-14
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    tvec = origins[:, None, :] - a[None]
    u = np.einsum("nfk,nfk->nf", tvec, pvec) * inv
    qvec = np.cross(tvec, e1[None])
    v = np.einsum("nk,nfk->nf", directions, qvec) * inv
    t = np.einsum("nfk,fk->nf", qvec, e2) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
    t = np.where(hit, t, np.inf)
    face = np.argmin(t, axis=1)
    rows = np.arange(face.size)
    bary = np.stack([1 - u[rows, face] - v[rows, face], u[rows, face], v[rows, face]], axis=1)
    return np.where(np.isfinite(t[rows, face]), face, -1), bary


def _on_vertex(faces: np.ndarray, vertex: int):
    """A face containing the vertex and the one-hot barycentrics that put the point on it."""
    face = int(np.nonzero(np.any(faces == vertex, axis=1))[0][0])
    bary = (faces[face] == vertex).astype(np.float64)
    return face, bary


def _jaw_rays():
    s = np.linspace(-1.0, 1.0, 17)
    angle = s * JAW_SPAN
    y = CHIN_Y + (EAR_Y - CHIN_Y) * np.abs(s) ** 1.7
    down = CHIN_TILT * (1.0 - np.abs(s)) ** 2
    out = np.stack([np.sin(angle), -down, np.cos(angle)], axis=1)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    centre = np.stack([np.zeros_like(y), y, np.full_like(y, -0.01)], axis=1)
    return centre + 0.4 * out, -out


def _frontal_targets(nose_tip_y: float) -> dict:
    """iBUG number -> (x, y) of the points found by a frontal ray."""
    brow_y = lambda x: 0.041 + 0.006 * np.sin(np.pi * np.clip((x - 0.012) / 0.044, 0, 1) ** 0.8)  # noqa: E731
    targets = {}
    for i, x in enumerate(BROW_X):
        targets[17 + i], targets[26 - i] = (-x, brow_y(x)), (x, brow_y(x))
    for i, y in enumerate(np.linspace(0.026, nose_tip_y + 0.008, 3)):
        targets[27 + i] = (0.0, y)
    for i, x in enumerate((-0.012, -0.006, 0.0, 0.006, 0.012)):
        targets[31 + i] = (x, NOSE_BASE_Y + 0.004 - 0.002 * abs(x) / 0.012)
    for i, (x, y) in enumerate(UPPER_LIP):
        targets[49 + i], targets[53 - i] = (-x, y), (x, y)
    for i, (x, y) in enumerate(LOWER_LIP):
        targets[59 - i], targets[55 + i] = (-x, y), (x, y)
    return targets


def _slit_points(ctx: FieldContext) -> dict:
    """iBUG number -> vertex for the eye corners and lids, the mouth corners and the inner lips."""
    lay = ctx.layout
    left, right = lay.eyes
    n = left.upper.size
    a, b = round((n - 1) / 3), round(2 * (n - 1) / 3)
    points = {36: right.corners[0], 37: right.upper[a], 38: right.upper[b], 39: right.corners[1],
              40: right.lower[b], 41: right.lower[a], 42: left.corners[0], 43: left.upper[a],
              44: left.upper[b], 45: left.corners[1], 46: left.lower[b], 47: left.lower[a]}
    mouth = lay.mouth
    x = ctx.rest[mouth.upper, 0]
    near = [int(np.argmin(np.abs(x - t))) for t in (-INNER_LIP_X, 0.0, INNER_LIP_X)]
    points.update({48: mouth.corners[0], 54: mouth.corners[1], 60: mouth.corners[0], 64: mouth.corners[1],
                   61: mouth.upper[near[0]], 62: mouth.upper[near[1]], 63: mouth.upper[near[2]],
                   65: mouth.lower[near[2]], 66: mouth.lower[near[1]], 67: mouth.lower[near[0]]})
    return points


def _nose_tip(ctx: FieldContext) -> int:
    """The most forward skin vertex on the midline."""
    G = ctx.layout.num_skin
    mid = np.nonzero(np.abs(ctx.rest[:G, 0]) < 1e-9)[0]
    return int(mid[np.argmax(ctx.rest[mid, 2])])


def ibug68(ctx: FieldContext, faces: np.ndarray) -> LandmarkEmbedding:
    """The 68-point embedding on the built-in head (faces [F, 3] of the full mesh)."""
    skin_faces = np.nonzero(np.all(faces < ctx.layout.num_skin, axis=1))[0]
    tip = _nose_tip(ctx)
    fixed = _slit_points(ctx)
    fixed[30] = tip
    targets = _frontal_targets(float(ctx.rest[tip, 1]))
    ids = sorted(targets)
    origins = np.array([[targets[i][0], targets[i][1], 0.5] for i in ids])
    directions = np.tile([0.0, 0.0, -1.0], (len(ids), 1))
    jaw_o, jaw_d = _jaw_rays()
    hit, bary = ray_hits(ctx.rest, faces[skin_faces], np.vstack([jaw_o, origins]), np.vstack([jaw_d, directions]))
    if np.any(hit < 0):
        raise HeadModelError("The built-in head's landmark rays missed the skin; its geometry is broken.")
    face_of, bary_of = {}, {}
    for k, i in enumerate(list(range(17)) + ids):
        face_of[i], bary_of[i] = int(skin_faces[hit[k]]), bary[k]
    for i, vertex in fixed.items():
        face_of[i], bary_of[i] = _on_vertex(faces, int(vertex))
    order = np.arange(NUM_LANDMARKS)
    return LandmarkEmbedding(np.array([face_of[i] for i in order], dtype=np.int64),
                             np.array([bary_of[i] for i in order]), order.copy())
