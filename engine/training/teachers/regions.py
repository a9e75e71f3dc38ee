"""Which part of the face each vertex belongs to: skin, lips, brows, the eye's sclera, iris and pupil,
the mouth's inside and teeth; the flat-colour regions of the teacher looks.

The built-in head names its regions (`HeadModel.regions`); a head without
them (a FLAME file) gets lips and brows from its iBUG-68 landmarks. Eyes come
from geometry on any head: vertices skinned to an eye joint, split into
pupil, iris and sclera by their angle from the eye's gaze axis (+Z).
"""

from __future__ import annotations

import numpy as np

from ...head.landmarks import landmarks
from ...head.model import JOINT_NAMES, HeadModel

SKIN, LIPS, BROWS, SCLERA, IRIS, PUPIL, MOUTH, TEETH = range(8)
REGION_NAMES = ("skin", "lips", "brows", "sclera", "iris", "pupil", "mouth", "teeth")
PUPIL_ANGLE, IRIS_ANGLE = 0.17, 0.45   # radians from the gaze axis (the built-in eye's pupil and limbus)
TEETH_LUMINANCE = 0.75                 # mouth-inside vertices painted at least this light are teeth
OUTER_LIP = tuple(range(48, 60))       # iBUG-68 outer lip contour
BROW_LINES = (tuple(range(17, 22)), tuple(range(22, 27)))
BROW_HALF_WIDTH = 0.0045               # metres either side of the landmark brow line
FRONT_DEPTH = 0.012                    # metres behind a feature's landmarks that still belong to it


def vertex_regions(head: HeadModel) -> np.ndarray:
    """The region [V] (int, one of SKIN .. TEETH) of every vertex of `head`, from its rest pose."""
    labels = np.full(head.num_vertices, SKIN, dtype=np.int64)
    named = head.regions or {}
    lips = named.get("lips")
    brows = named.get("brows")
    if (lips is None or brows is None) and head.landmark_embedding is not None:
        lips = landmark_lips(head) if lips is None else lips
        brows = landmark_brows(head) if brows is None else brows
    for region, indices in ((LIPS, lips), (BROWS, brows)):
        if indices is not None:
            labels[np.asarray(indices, dtype=np.int64)] = region
    _label_mouth(head, labels, named.get("cavity"))
    _label_eyes(head, labels)
    return labels


def _label_mouth(head: HeadModel, labels: np.ndarray, cavity) -> None:
    if cavity is None:
        return
    cavity = np.asarray(cavity, dtype=np.int64)
    labels[cavity] = MOUTH
    if head.vertex_colors is not None:
        light = head.vertex_colors[cavity].mean(axis=1) >= TEETH_LUMINANCE
        labels[cavity[light]] = TEETH


def _label_eyes(head: HeadModel, labels: np.ndarray) -> None:
    joints = head.rest_joints()
    for name in ("eye_left", "eye_right"):
        j = JOINT_NAMES.index(name)
        eyeball = np.flatnonzero(head.weights[:, j] > 0.5)
        offset = head.v_template[eyeball] - joints[j]
        cosine = offset[:, 2] / np.maximum(np.linalg.norm(offset, axis=1), 1e-12)
        angle = np.arccos(np.clip(cosine, -1.0, 1.0))
        labels[eyeball] = np.where(angle < PUPIL_ANGLE, PUPIL, np.where(angle < IRIS_ANGLE, IRIS, SCLERA))


def _rest_landmarks(head: HeadModel) -> dict:
    """iBUG number -> rest-pose landmark [3]."""
    points = landmarks(head, head.v_template)
    return {int(i): p for i, p in zip(head.landmark_embedding.ids, points)}


def landmark_lips(head: HeadModel) -> np.ndarray:
    """Vertices [N] inside the outer lip contour (seen from the front) and near its depth."""
    marks = _rest_landmarks(head)
    contour = np.array([marks[i] for i in OUTER_LIP])
    v = head.v_template
    inside = point_in_polygon(v[:, :2], contour[:, :2])
    return np.flatnonzero(inside & (v[:, 2] > contour[:, 2].min() - FRONT_DEPTH))


def landmark_brows(head: HeadModel) -> np.ndarray:
    """Vertices [N] within BROW_HALF_WIDTH of either landmark brow line (seen from the front), near its depth."""
    marks = _rest_landmarks(head)
    v = head.v_template
    near = np.zeros(len(v), dtype=bool)
    for line in BROW_LINES:
        points = np.array([marks[i] for i in line])
        distance = np.min([_segment_distance(v[:, :2], a, b) for a, b in zip(points[:-1, :2], points[1:, :2])], axis=0)
        near |= (distance < BROW_HALF_WIDTH) & (v[:, 2] > points[:, 2].min() - FRONT_DEPTH)
    return np.flatnonzero(near)


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances [N] from 2D points [N, 2] to the segment a-b."""
    ab = b - a
    t = np.clip((points - a) @ ab / max(float(ab @ ab), 1e-18), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def point_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Whether 2D points [N, 2] lie inside a closed polygon [M, 2] (even-odd rule) -> [N] bool."""
    x, y = points[:, 0:1], points[:, 1:2]
    a, b = polygon, np.roll(polygon, -1, axis=0)
    crosses = (a[:, 1] > y) != (b[:, 1] > y)  # [N, M]
    with np.errstate(divide="ignore", invalid="ignore"):
        at = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return np.count_nonzero(crosses & (x < at), axis=1) % 2 == 1
