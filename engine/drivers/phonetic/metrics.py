"""Lip-sync measures on the built-in head: mouth opening, lip closure on bilabials, lip-vertex error.

Everything is measured on the posed mesh (not on channel values), so any
driver, and any clip, is judged by what the viewer would see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...head.landmarks import landmarks
from ...head.model import JOINT_NAMES, HeadModel
from ...motion import MotionClip
from .phones import BILABIALS, SILENCE, Phone

INNER_UPPER_LIP, INNER_LOWER_LIP = 62, 66   # iBUG-68 inner-lip midpoints
LIP_LANDMARKS = tuple(range(48, 68))        # outer and inner lip contours
CLOSED_MM = 1.5                              # an inner-lip gap below this counts as closed lips
CLOSURE_TOLERANCE_S = 0.04                   # a closure may miss its bilabial by this much
CHUNK_FRAMES = 512                           # frames posed at a time (bounded memory)


def _lip_points(head: HeadModel, clip: MotionClip, ids: Sequence[int]) -> np.ndarray:
    """Landmarks with iBUG numbers `ids` of every frame of `clip` on `head`: [T, len(ids), 3] (m),
    in the head's own frame (only the jaw of the pose applies: a nod is not a lip movement)."""
    order = {int(n): k for k, n in enumerate(head.landmark_embedding.ids)}
    columns = [order[i] for i in ids]
    params = clip.head_params(head)
    jaw = JOINT_NAMES.index("jaw")
    keep = np.zeros(params["pose"].shape[1], bool)
    keep[jaw] = True
    params["pose"] = params["pose"] * keep[None, :, None]  # in the head's frame: head and eye motion aside
    params["translation"] = np.zeros_like(params["translation"])
    out = []
    for a in range(0, clip.num_frames, CHUNK_FRAMES):
        chunk = {k: v[a:a + CHUNK_FRAMES] for k, v in params.items()}
        vertices, _ = head.forward(**chunk)
        out.append(landmarks(head, vertices)[:, columns])
    return np.concatenate(out, axis=0)


def mouth_opening(head: HeadModel, clip: MotionClip) -> np.ndarray:
    """The inner-lip gap [T] in mm (upper minus lower inner-lip midpoint, along the face's up
    axis; negative when the lips press into each other)."""
    points = _lip_points(head, clip, (INNER_UPPER_LIP, INNER_LOWER_LIP))
    return 1000.0 * (points[:, 0, 1] - points[:, 1, 1])


def lip_vertex_error(head: HeadModel, predicted: MotionClip, target: MotionClip) -> float:
    """Mean over frames of the largest lip-landmark distance (mm) between two clips of equal length
    (the lip-vertex error of VOCA/FaceFormer, on the 20 iBUG lip points)."""
    a = _lip_points(head, predicted, LIP_LANDMARKS)
    b = _lip_points(head, target, LIP_LANDMARKS)
    T = min(a.shape[0], b.shape[0])
    return float(1000.0 * np.mean(np.max(np.linalg.norm(a[:T] - b[:T], axis=-1), axis=1)))


@dataclass(frozen=True)
class ClosureScore:
    """Bilabial lip closure: recall over true bilabials, precision over predicted closures."""

    recall: float
    precision: float
    bilabials: int
    closures: int


def closure_runs(closed: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True in closed [T] as (first, last + 1) frame pairs."""
    edges = np.diff(np.concatenate([[0], closed.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def closure_score(opening_mm: np.ndarray, fps: float, phones: Sequence[Phone]) -> ClosureScore:
    """Score a mouth-opening track [T] (mm, frame t at t / fps) against the true phones.

    Recall: the share of true p/b/m with a closed frame within CLOSURE_TOLERANCE_S of them.
    Precision: the share of closures made during speech (runs of closed frames not inside
    a true silence) that meet a true p/b/m within the tolerance.
    """
    times = np.arange(opening_mm.shape[0]) / fps
    closed = opening_mm < CLOSED_MM
    tol = CLOSURE_TOLERANCE_S
    bilabials = [p for p in phones if p.label in BILABIALS]
    hit = [bool(np.any(closed[(times >= p.start - tol) & (times <= p.end + tol)])) for p in bilabials]
    silences = [p for p in phones if p.label == SILENCE]
    runs = [(a, b) for a, b in closure_runs(closed) if not _overlaps_any(times[a], times[b - 1], silences)]
    good = [any(times[a] <= p.end + tol and times[b - 1] >= p.start - tol for p in bilabials) for a, b in runs]
    return ClosureScore(recall=float(np.mean(hit)) if hit else 1.0,
                        precision=float(np.mean(good)) if good else 1.0,
                        bilabials=len(bilabials), closures=len(runs))


def _overlaps_any(start: float, end: float, spans: Sequence[Phone]) -> bool:
    return any(s.start <= end and start <= s.end for s in spans)
