"""Track a talking video into a MotionClip: decode, find landmarks, fit the head, write the take.

The clip runs at the video's own frame rate with the channels the drivers
write (the head's expression names, `neck_r*` for the head's rotation,
`jaw_r*`, `eye_left_r*` / `eye_right_r*` for the gaze, `global_t*` for the
head's movement about its median place). Its metadata names the source video,
the camera and the fitted identity; per-frame arrays go to a sidecar
`<take>.track.npz` beside the clip.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..motion import MotionClip
from ..progress import Reporter, silent
from . import decode, topology
from . import fit as _fit
from .embedding import embedding_for
from .landmarks import NUM_POINTS, LandmarkReader, early_probe
from .solve import StreamingFit, VideoFit

TRACKER = "mediapipe 0.10.14 face mesh (478 points) + engine.video fit"
SIDECAR_SUFFIX = ".track.npz"
WAIT_BATCH = 16          # records taken at once while the identity waits for its window (see `_follow`)


@dataclass
class Take:
    """A tracked video: the clip, the fit behind it, and where it came from."""

    clip: MotionClip
    fit: VideoFit
    info: decode.VideoInfo
    start: float
    end: Optional[float]
    timings: dict = field(default_factory=dict)     # seconds per stage, see `track_video`


def track_video(path, head=None, landmarks=None, start: float = 0.0, end: Optional[float] = None,
                reporter: Optional[Reporter] = None, settings: Optional[_fit.FitSettings] = None) -> Take:
    """Track the face in the video at `path` onto `head` (None: the built-in head).

    start / end in seconds (None: to the end); `landmarks` a MediaPipe
    embedding file for a head that is not the built-in one. Raises VideoError
    (not a video, no face, ...) or TrackerMissingError, each one sentence.
    """
    from ..head import load_head

    reporter = reporter or silent()
    info = early_probe(path) or decode.probe_video(path)     # `python -m engine track` probed it already
    start, end = decode.checked_range(info, start, end)
    model = {"head": head}

    def prepare_head():
        if "embedding" not in model:
            model["head"] = model["head"] if model["head"] is not None else load_head()
            model["embedding"] = embedding_for(model["head"], landmarks)

    if head is not None:
        prepare_head()                         # a head's embedding errors come before any tracking
    clock = _Clock()
    with LandmarkReader(info, start, end) as reader:
        prepare_head()                         # while the MediaPipe child starts
        clock.mark("head_ready")
        stream = StreamingFit(model["head"], model["embedding"], info.width, info.height, float(info.fps),
                              settings, f"'{info.name}'", info.frame_count(start, end) + 8)
        with _one_thread():
            _follow(reader, stream, reporter, info.frame_count(start, end), clock)
    clock.mark("frames_fitted")
    marks = reader.landmarks()
    _warn_faces(marks, info)
    _warn_short(len(marks.faces), info.frame_count(start, end), info)
    with _one_thread():
        fit = stream.finish()
    take = Take(take_clip(model["head"], fit, info, start, end), fit, info, start, end)
    take.timings = dict(clock.marks, **stream.cpu, landmark_child_cpu_s=clock.children_cpu())
    return take


class _Clock:
    """Wall seconds since tracking began at named points, and the CPU the finished children used."""

    def __init__(self) -> None:
        import resource
        import time

        self._time, self._resource = time, resource
        self.started, self.marks = time.perf_counter(), {}
        self._children = self._children_cpu_now()

    def mark(self, name: str) -> None:
        self.marks[f"{name}_wall_s"] = self._time.perf_counter() - self.started

    def _children_cpu_now(self) -> float:
        used = self._resource.getrusage(self._resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime

    def children_cpu(self) -> float:
        """CPU seconds of the children that ended since the clock started (the MediaPipe child and its ffmpeg)."""
        return self._children_cpu_now() - self._children


def _follow(reader: LandmarkReader, stream: StreamingFit, reporter: Reporter, expected: int, clock) -> None:
    """Fit frames as the MediaPipe child sends their landmarks, until it ends and all came in
    (`clock` marks "landmarks_done" when the child's last record has come)."""
    reporter.stage("tracking the face", 2 * expected)
    fitted = 0
    while True:
        # Until the identity is fitted no frame can be, so records are taken in batches (fewer wake-ups)
        batch = WAIT_BATCH if stream.fov is None else 1
        count, ended = reader.wait(stream.count + batch - 1, timeout=0.0 if fitted else 0.05 * batch)
        if ended and "landmarks_done_wall_s" not in clock.marks:
            clock.mark("landmarks_done")
        if count > stream.count:
            records = reader.records(stream.count, count)
            stream.add(records[:, 2:].reshape(-1, NUM_POINTS, 3), records[:, 0] > 0)
        fitted = stream.fit(ended, limit=4)
        reporter.update(min(stream.count + stream.fitted, 2 * expected))
        if ended and not fitted and count == stream.count:
            return


def _warn_faces(marks, info) -> None:
    import warnings

    from .landmarks import SECOND_FACE_RATIO

    two = int(np.sum(marks.second_face >= SECOND_FACE_RATIO))
    if two:
        warnings.warn(f"'{info.name}' shows two faces in {two} frames; the largest face is tracked.", stacklevel=3)


def _warn_short(got: int, expected: int, info) -> None:
    import warnings

    if got < expected - 2:
        warnings.warn(f"'{info.name}' ends at frame {got} of the {expected} its header promises; "
                      "it may be truncated (the frames that were there are tracked).", stacklevel=3)


@contextlib.contextmanager
def _one_thread():
    """The fit's small matrices run fastest on one BLAS thread (the landmark child uses the other core)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


def channel_names(head) -> list:
    """The clip's channels: the pose channels of `fit.POSE_NAMES`, then the head's expressions."""
    return list(_fit.POSE_NAMES) + list(head.expression_names)


def take_clip(head, fit: VideoFit, info: decode.VideoInfo, start: float, end) -> MotionClip:
    """The MotionClip of a fit, translation about its median, camera and identity in the metadata."""
    values = fit.params.copy()
    centre = np.median(values[:, 10:13], axis=0)
    values[:, 10:13] -= centre
    camera = _camera(fit, centre)
    metadata = {"source_video": info.path.name, "tracker": TRACKER, "video_fps": float(info.fps),
                "video_start_s": start, "video_end_s": end if end is not None else info.duration,
                "camera": camera, "identity": dict(zip(head.shape_names, map(float, fit.shape))),
                "head": head.name, "landmark_error_median": _finite_median(fit.error),
                "bridged_frames": [int(t) for t in np.nonzero(fit.bridged)[0]],
                "sidecar": "<clip name>" + SIDECAR_SUFFIX}
    return MotionClip(channel_names(head), values, float(info.fps), 1, metadata)


def _camera(fit: VideoFit, centre: np.ndarray) -> dict:
    """The camera in the clip's world (the head's rest frame, median place at the origin)."""
    p = fit.problem
    position = [float(-centre[0]), float(-centre[1]), float(p.distance - centre[2])]
    return {"fx": p.focal, "fy": p.focal, "cx": p.centre[0], "cy": p.centre[1],
            "width": int(round(2 * p.centre[0])), "height": int(round(2 * p.centre[1])),
            "fov_y_deg": fit.fov_y, "position": position, "looks_along": [0.0, 0.0, -1.0], "up": [0.0, 1.0, 0.0]}


def _finite_median(values) -> float:
    finite = np.asarray(values)[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else math.nan


def camera_arrays(take: Take):
    """Per-frame intrinsics [T, 3, 3] and world-to-camera extrinsics [T, 3, 4] (OpenCV axes)."""
    cam, T = take.clip.metadata["camera"], take.clip.num_frames
    K = np.array([[cam["fx"], 0, cam["cx"]], [0, cam["fy"], cam["cy"]], [0, 0, 1.0]])
    R = np.diag([1.0, -1.0, -1.0])                               # camera looking down -Z, image y down
    t = -R @ np.array(cam["position"])
    return np.repeat(K[None], T, 0), np.repeat(np.concatenate([R, t[:, None]], 1)[None], T, 0)


def save_take(take: Take, path) -> Path:
    """Write the clip (.npz / .json / .csv) and its sidecar `<stem>.track.npz`; returns the clip's path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clip = take.clip.copy()
    clip.metadata["sidecar"] = sidecar_path(path).name
    clip.to_arkit_csv(path) if path.suffix.lower() == ".csv" else clip.save(path)
    intrinsics, extrinsics = camera_arrays(take)
    f = take.fit
    np.savez(sidecar_path(path), intrinsics=intrinsics, extrinsics=extrinsics, landmark_error=f.error,
             confidence=f.confidence, bridged=f.bridged, shape=f.shape, shape_names=np.array(list(
                 take.clip.metadata["identity"])), mediapipe_indices=f.problem.indices,
             landmarks=f.target_uv.astype(np.float32), fitted_landmarks=f.fitted_uv.astype(np.float32),
             inter_ocular_px=f.iod, source_video=np.array(str(take.info.path)))
    return path


def sidecar_path(clip_path) -> Path:
    """Where the per-frame arrays of a take saved at clip_path go."""
    clip_path = Path(clip_path)
    return clip_path.with_name(clip_path.stem + SIDECAR_SUFFIX)


def lip_gaps(fit: VideoFit):
    """Inner-lip gap over the inter-ocular distance [T] of the fitted head and of MediaPipe's points."""
    where = {int(i): k for k, i in enumerate(fit.problem.indices)}
    a, b = (where[i] for i in topology.INNER_LIP_MIDDLE)
    fitted = np.linalg.norm(fit.fitted_uv[:, a] - fit.fitted_uv[:, b], axis=1) / fit.iod
    seen = np.linalg.norm(fit.target_uv[:, a] - fit.target_uv[:, b], axis=1) / fit.iod
    return fitted, seen
