"""Fit a video's landmarks: identity and camera on keyframes of its opening seconds, then every frame in order.

Frames where MediaPipe lost the face (or most of it lies outside the picture)
are not fitted: their values are bridged by straight lines between the fitted
frames around them, and they are flagged.
"""

from __future__ import annotations

import time
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
COLD_ITERATIONS = 3      # Gauss-Newton steps of a frame fitted from scratch (`FitSettings.iterations` warm)
FOV_RISE = 0.03          # the field-of-view search (narrow to wide) stops at a keyframe error this much over the best


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
    return _usable(marks.points, marks.found, marks.width, marks.height)


def _usable(points: np.ndarray, found: np.ndarray, width: int, height: int) -> np.ndarray:
    xy = points[:, :, :2]
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < width) & (xy[..., 1] >= 0) & (xy[..., 1] < height)
    return found & (inside.mean(axis=1) >= MIN_INSIDE)


def fit_video(head, embedding, marks: VideoLandmarks, settings: Optional[_fit.FitSettings] = None,
              reporter: Optional[Reporter] = None, name: str = "the video") -> VideoFit:
    """Fit `head` to every frame of `marks` (see the module docstring)."""
    reporter = reporter or silent()
    stream = StreamingFit(head, embedding, marks.width, marks.height, marks.fps, settings, name, len(marks.faces))
    stream.add(marks.points, marks.found)
    reporter.stage("fitting frames", stream.count)
    while stream.fit(ended=True, limit=16):
        reporter.update(stream.fitted)
    return stream.finish()


class StreamingFit:
    """A video's fit made while its landmarks still arrive.

    The identity and camera are chosen on keyframes of the opening
    `settings.identity_seconds` (its usable frames), so every later frame is
    fitted as soon as it comes, beside the MediaPipe child still working on the
    rest. `add` frames' landmarks, `fit` what can be fitted, `finish` when all came.
    """

    def __init__(self, head, embedding, width: int, height: int, fps: float,
                 settings: Optional[_fit.FitSettings] = None, name: str = "the video", capacity: int = 0) -> None:
        self.settings = settings or _fit.FitSettings()
        self.problem = _fit.make_problem(head, embedding, width, height, self.settings)
        self.width, self.height, self.name = width, height, name
        self.window = max(1, int(round(self.settings.identity_seconds * fps)))
        K, P = self.problem.rig.num_points, _fit.NUM_POSE + self.problem.num_expressions
        n = max(int(capacity), 0)                  # the frames expected: room made once, not grown by copies
        self.target, self.visible, self.depth = np.zeros((n, K, 2)), np.zeros((n, K), bool), np.zeros((n, K), np.float32)
        self.iod, self.ok, self.params = np.zeros(n), np.zeros(n, bool), np.zeros((n, P))
        self.count, self.fitted, self.fov, self._previous = 0, 0, None, None
        self._reuse = {"frames": self.settings.jacobian_frames}       # the Jacobian kept from frame to frame
        self.cpu = {"identity_cpu_s": 0.0, "frames_cpu_s": 0.0}       # this process's CPU seconds per stage

    def add(self, points: np.ndarray, found: np.ndarray) -> None:
        """The next frames' MediaPipe points [N, 478, 3] (NaN without a face) and found [N] bool."""
        n = len(points)
        if self.count + n > len(self.ok):
            grow = max(self.count + n, 2 * len(self.ok), 64) - len(self.ok)
            self.target = np.concatenate([self.target, np.zeros((grow,) + self.target.shape[1:])])
            self.visible = np.concatenate([self.visible, np.zeros((grow,) + self.visible.shape[1:], bool)])
            self.depth = np.concatenate([self.depth, np.zeros((grow,) + self.depth.shape[1:], np.float32)])
            self.iod, self.ok = np.concatenate([self.iod, np.zeros(grow)]), np.concatenate([self.ok, np.zeros(grow, bool)])
            self.params = np.concatenate([self.params, np.zeros((grow, self.params.shape[1]))])
        span = slice(self.count, self.count + n)
        self.ok[span] = _usable(points, np.asarray(found, bool), self.width, self.height)
        self.target[span], self.visible[span], self.iod[span] = _targets(self.problem, points, self.width, self.height)
        self.depth[span] = np.nan_to_num(points[:, self.problem.indices, 2])
        self.count += n

    def fit(self, ended: bool, limit: Optional[int] = None) -> int:
        """Fit up to `limit` frames that came and were not fitted yet; how many were fitted.

        Before the identity is known this waits (fits none) for the opening window, or the end."""
        if self.fov is None:
            usable = np.nonzero(self.ok[:self.count])[0]
            if not usable.size or (not ended and self.count < usable[0] + self.window):
                return 0
            began = time.process_time()
            keys = _keyframes(usable[usable < usable[0] + self.window], self.settings.keyframes)
            self.fov, q = _identity(self.problem, self.target, self.visible, self._scales(), keys)
            self.problem.depth_scale, self.problem.depth_offsets = _depth_scale(self.problem, q, self.depth[keys])
            self.cpu["identity_cpu_s"] += time.process_time() - began
        began = time.process_time()
        stop = self.count if limit is None else min(self.count, self.fitted + limit)
        for t in range(self.fitted, stop):
            if self.ok[t]:
                scale = self.iod[t] if np.isfinite(self.iod[t]) and self.iod[t] > 1 else self._scales()[t]
                seen = np.concatenate([self.target[t], self.depth[t, :, None]], axis=1)         # pixels and z
                self.params[t] = self._previous = _fit_frame(self.problem, seen, self.visible[t], scale,
                                                             self._previous, self._reuse)
        done, self.fitted = stop - self.fitted, stop
        self.cpu["frames_cpu_s"] += time.process_time() - began
        return done

    def _scales(self) -> np.ndarray:
        """The frames' inter-ocular distances [count]; where a frame has none, the median of those that have."""
        iod = self.iod[:self.count]
        good = np.isfinite(iod) & (iod > 1)
        return np.where(good, iod, np.median(iod[good]) if good.any() else 1.0)

    def finish(self) -> VideoFit:
        """The fit of every frame added (all of them fitted first)."""
        ok = self.ok[:self.count]
        if not ok.any():
            raise NoFaceError(f"No face was found in {self.name}; choose a video where a face looks at the camera "
                              "and fills at least a tenth of the picture.")
        self.fit(ended=True)
        problem, T = self.problem, self.count
        params, target, visible, iod = self.params[:T], self.target[:T], self.visible[:T], self._scales()
        _bridge(params, ok)
        fitted = _fitted_uv(problem, params)
        error = np.where(ok, _errors(fitted, target, visible, iod), np.nan)
        confidence = np.where(ok, np.clip(1.0 - np.nan_to_num(error) / 0.1, 0.0, 1.0), 0.0)
        _warn_lost(ok, self.name)
        return VideoFit(params, problem.shape.copy(), problem, self.fov, error, ~ok, confidence, fitted, target, iod)


def _targets(problem: _fit.Problem, points: np.ndarray, width: int, height: int):
    """Target pixels [N, K, 2] (0 where unseen), visible [N, K] and inter-ocular distances [N] (NaN: no face)."""
    xy = points[:, problem.indices, :2].astype(np.float64)          # [N, K, 2]
    visible = np.all(np.isfinite(xy), axis=2) & (xy[..., 0] >= 0) & (xy[..., 0] < width) \
        & (xy[..., 1] >= 0) & (xy[..., 1] < height)
    a, b = (points[:, i, :2] for i in topology.EYE_OUTER_CORNERS)
    return np.nan_to_num(xy), visible, np.linalg.norm(a - b, axis=1).astype(np.float64)


def _model_iod(problem: _fit.Problem) -> float:
    where = {int(i): k for k, i in enumerate(problem.indices)}
    a, b = (problem.rig.rest[where[i]] for i in topology.EYE_OUTER_CORNERS)
    return float(np.linalg.norm(a - b))


def _keyframes(frames: np.ndarray, count: int) -> np.ndarray:
    """Up to `count` of the frame numbers `frames`, evenly spread."""
    return frames[np.unique(np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int))]


def _identity(problem, target, visible, iod, keys) -> float:
    """Choose the field of view and the shape on keyframes `keys` [N]; returns the field of view (degrees)
    and the keyframes' parameters [N, 13 + E]."""
    model_iod = _model_iod(problem)
    best = None
    for fov in _fit.FOV_CHOICES:        # on every keyframe: on every other one, clay's 12 deg vs 20 deg was a toss-up
        problem.shape[:] = 0.0
        err, shape, _ = _fit_keyframes(problem, fov, keys, target, visible, iod, model_iod, rounds=1)
        if best is None or err < best[0]:
            best = (err, fov, shape)
        elif err > best[0] * (1.0 + FOV_RISE):
            break                       # past the best by a clear margin: the wider fields of view only fit worse
    problem.shape[:] = best[2]
    _, _, q = _fit_keyframes(problem, best[1], keys, target, visible, iod, model_iod,
                             problem.settings.identity_rounds, refine=True)
    return best[1], q


def _fit_keyframes(problem, fov, keys, target, visible, iod, model_iod, rounds: int, refine: bool = False):
    """Fit keyframes `keys` [N] with this field of view, then the shape (and offsets) `rounds` times;
    returns the keyframes' mean median point error, the shape and their parameters [N, 13 + E]."""
    _fit.set_fov(problem, fov, 2 * problem.centre[1])
    problem.distance = problem.focal * model_iod / float(np.median(iod[keys]))
    target, visible, iod = target[keys], visible[keys], iod[keys]
    q = np.stack([_fit.initial_parameters(problem, t) for t in target])
    q = _fit.solve_frames(problem, target, visible, iod, q, iterations=6, free_expression=False)
    for _ in range(rounds):
        q = _fit.solve_frames(problem, target, visible, iod, q, iterations=3, fresh_jacobian=False)
        problem.shape = _fit.solve_shape(problem, q, target, visible, iod)
        if refine:
            problem.rig.rest = problem.embedded + _fit.solve_offsets(problem, q, target, visible, iod,
                                                                     problem.embedded)
    errors = [np.median(_fit.frame_residuals(problem, q[k], target[k], iod[k])[0][visible[k]])
              for k in range(len(keys))]
    return float(np.mean(errors)), problem.shape.copy(), q


def _depth_scale(problem, q: np.ndarray, depth: np.ndarray) -> float:
    """MediaPipe's z [N, K] over the fitted keyframes' (q [N, 13 + E]) relative depth: the least-squares
    ratio (about 0.75: MediaPipe's depths are flatter than the head's)."""
    expression, pose, translation = _fit.unpack(q, problem.num_expressions)
    points, _ = _fit._rig.posed(problem.rig, problem.shape, expression, pose, translation)
    model = _fit.relative_depth(problem, points)
    seen = depth - depth.mean(axis=1, keepdims=True)
    scale = float(max(np.sum(model * seen) / max(np.sum(model * model), 1e-12), 0.0))
    return scale, np.mean(seen - scale * model, axis=0)


def _fit_frame(problem, target, visible, iod, previous, reuse=None) -> np.ndarray:
    """One frame's parameters, warm-started from the previous fitted frame (None: from scratch);
    `reuse` the Jacobian kept between warm frames (`fit.solve_frame`)."""
    if previous is None:
        q0 = _fit.initial_parameters(problem, target)
        q0 = _fit.solve_frame(problem, target, visible, iod, q0, iterations=6, free_expression=False)
        return _fit.solve_frame(problem, target, visible, iod, q0, None, COLD_ITERATIONS, fresh_jacobian=False)
    return _fit.solve_frame(problem, target, visible, iod, previous, previous, fresh_jacobian=False, reuse=reuse)


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
