"""Fit a whole video's landmarks: identity and camera on keyframes, then every frame in order.

Frames where MediaPipe lost the face (or most of it lies outside the picture)
are not fitted: their values are bridged by straight lines between the fitted
frames around them, and they are flagged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..progress import Reporter, silent
from . import fit as _fit
from . import topology
from .errors import NoFaceError
from .landmarks import VideoLandmarks

MIN_INSIDE = 0.75        # a face with less of its landmarks inside the picture counts as lost
LOST_WARNING = 0.02      # warn when more than this fraction of the frames were bridged


@dataclass
class VideoFit:
    """A video's fit.

    params [T, 13 + E] per frame (`fit.POSE_NAMES` then the expressions),
    shape [S], problem (camera, rig), fov_y degrees, error [T] mean landmark
    error over the inter-ocular distance (NaN on bridged frames), bridged [T]
    bool, confidence [T] in [0, 1], fitted_uv [T, K, 2] pixels of the fitted
    points, target_uv [T, K, 2] MediaPipe's, iod [T] pixels.
    """

    params: np.ndarray
    shape: np.ndarray
    problem: _fit.Problem
    fov_y: float
    error: np.ndarray
    bridged: np.ndarray
    confidence: np.ndarray
    fitted_uv: np.ndarray
    target_uv: np.ndarray
    iod: np.ndarray


def usable_frames(marks: VideoLandmarks) -> np.ndarray:
    """Frames [T] bool with a face mostly inside the picture."""
    xy = marks.points[:, :, :2]
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < marks.width) & (xy[..., 1] >= 0) & (xy[..., 1] < marks.height)
    return marks.found & (inside.mean(axis=1) >= MIN_INSIDE)


def fit_video(head, embedding, marks: VideoLandmarks, settings: Optional[_fit.FitSettings] = None,
              reporter: Optional[Reporter] = None, name: str = "the video") -> VideoFit:
    """Fit `head` to every frame of `marks` (see the module docstring)."""
    settings = settings or _fit.FitSettings()
    reporter = reporter or silent()
    ok = usable_frames(marks)
    if not ok.any():
        raise NoFaceError(f"No face was found in {name}; choose a video where a face looks at the camera "
                          "and fills at least a tenth of the picture.")
    problem = _fit.make_problem(head, embedding, marks.width, marks.height, settings)
    target, visible, iod = _targets(problem, marks)
    model_iod = _model_iod(problem)
    fov = _identity(problem, target, visible, iod, ok, model_iod, reporter)
    params = _every_frame(problem, target, visible, iod, ok, reporter)
    _bridge(params, ok)
    fitted = _fitted_uv(problem, params)
    error = np.where(ok, _errors(fitted, target, visible, iod), np.nan)
    confidence = np.where(ok, np.clip(1.0 - np.nan_to_num(error) / 0.1, 0.0, 1.0), 0.0)
    _warn_lost(ok, name)
    return VideoFit(params, problem.shape.copy(), problem, fov, error, ~ok, confidence, fitted, target, iod)


def _targets(problem: _fit.Problem, marks: VideoLandmarks):
    xy = marks.points[:, problem.indices, :2].astype(np.float64)          # [T, K, 2]
    visible = np.all(np.isfinite(xy), axis=2) & (xy[..., 0] >= 0) & (xy[..., 0] < marks.width) \
        & (xy[..., 1] >= 0) & (xy[..., 1] < marks.height)
    a, b = (marks.points[:, i, :2] for i in topology.EYE_OUTER_CORNERS)
    iod = np.linalg.norm(a - b, axis=1).astype(np.float64)
    iod = np.where(np.isfinite(iod) & (iod > 1), iod, np.nanmedian(np.where(iod > 1, iod, np.nan)))
    return np.nan_to_num(xy), visible, iod


def _model_iod(problem: _fit.Problem) -> float:
    where = {int(i): k for k, i in enumerate(problem.indices)}
    a, b = (problem.rig.rest[where[i]] for i in topology.EYE_OUTER_CORNERS)
    return float(np.linalg.norm(a - b))


def _keyframes(ok: np.ndarray, count: int) -> np.ndarray:
    frames = np.nonzero(ok)[0]
    return frames[np.unique(np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int))]


def _identity(problem, target, visible, iod, ok, model_iod, reporter) -> float:
    """Choose the field of view and the shape on keyframes; returns the field of view (degrees)."""
    keys = _keyframes(ok, problem.settings.keyframes)
    reporter.stage("fitting identity and camera", len(_fit.FOV_CHOICES) + 1)
    best = None
    for k, fov in enumerate(_fit.FOV_CHOICES):
        problem.shape[:] = 0.0
        err, shape = _fit_keyframes(problem, fov, keys[::2], target, visible, iod, model_iod, rounds=1)
        if best is None or err < best[0]:
            best = (err, fov, shape)
        reporter.update(k + 1)
    problem.shape[:] = best[2]
    _fit_keyframes(problem, best[1], keys, target, visible, iod, model_iod, problem.settings.identity_rounds,
                   refine=True)
    reporter.update(len(_fit.FOV_CHOICES) + 1)
    return best[1]


def _fit_keyframes(problem, fov, keys, target, visible, iod, model_iod, rounds: int, refine: bool = False):
    _fit.set_fov(problem, fov, 2 * problem.centre[1])
    problem.distance = problem.focal * model_iod / float(np.median(iod[keys]))
    qs = {}
    for t in keys:
        q = _fit.initial_parameters(problem, target[t])
        qs[t] = _fit.solve_frame(problem, target[t], visible[t], iod[t], q, iterations=6, free_expression=False)
    for _ in range(rounds):
        for t in keys:
            qs[t] = _fit.solve_frame(problem, target[t], visible[t], iod[t], qs[t], iterations=3,
                                     fresh_jacobian=False)
        frames, scales = [(qs[t], target[t], visible[t]) for t in keys], [iod[t] for t in keys]
        problem.shape = _fit.solve_shape(problem, frames, scales)
        if refine:
            problem.rig.rest = problem.embedded + _fit.solve_offsets(problem, frames, scales, problem.embedded)
    errors = [np.median(_fit.frame_residuals(problem, qs[t], target[t], iod[t])[0][visible[t]]) for t in keys]
    return float(np.mean(errors)), problem.shape.copy()


def _every_frame(problem, target, visible, iod, ok, reporter) -> np.ndarray:
    T = len(ok)
    params = np.zeros((T, _fit.NUM_POSE + problem.num_expressions))
    reporter.stage("fitting frames", T)
    previous = None
    for t in range(T):
        if ok[t]:
            if previous is None:
                q0 = _fit.initial_parameters(problem, target[t])
                q0 = _fit.solve_frame(problem, target[t], visible[t], iod[t], q0, iterations=6,
                                      free_expression=False)
            else:
                q0 = previous
            params[t] = _fit.solve_frame(problem, target[t], visible[t], iod[t], q0, previous,
                                         fresh_jacobian=False)
            previous = params[t]
        reporter.update(t + 1)
    return params


def _bridge(params: np.ndarray, ok: np.ndarray) -> None:
    """Fill frames that were not fitted by straight lines between their fitted neighbours (in place)."""
    if ok.all():
        return
    frames = np.nonzero(ok)[0]
    lost = np.nonzero(~ok)[0]
    for c in range(params.shape[1]):
        params[lost, c] = np.interp(lost, frames, params[frames, c])


def _fitted_uv(problem, params: np.ndarray, chunk: int = 256) -> np.ndarray:
    out = np.empty((len(params), problem.rig.num_points, 2))
    for start in range(0, len(params), chunk):
        expression, pose, translation = _fit.unpack(params[start:start + chunk], problem.num_expressions)
        points, _ = _fit._rig.posed(problem.rig, problem.shape, expression, pose, translation)
        out[start:start + chunk] = _fit.project(problem, points)[0]
    return out


def _errors(fitted, target, visible, iod) -> np.ndarray:
    err = np.linalg.norm(fitted - target, axis=2) / iod[:, None]
    return np.sum(err * visible, axis=1) / np.maximum(visible.sum(axis=1), 1)


def _warn_lost(ok: np.ndarray, name: str) -> None:
    lost = int((~ok).sum())
    if lost > LOST_WARNING * len(ok):
        first = int(np.nonzero(~ok)[0][0])
        warnings.warn(f"The face was lost in {lost} of {len(ok)} frames of {name} (first at frame {first}); "
                      "those frames are bridged between the frames around them and flagged.", stacklevel=3)
