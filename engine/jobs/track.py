"""The track job: a talking video -> its tracked MotionClip (video mocap), with the fit's quality and the
tracker's warnings in the clip's metadata, and the per-frame arrays in a sidecar beside it."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar, Optional

import numpy as np

from ..errors import InputError, shown
from ..progress import Reporter, silent
from . import rules
from .base import Job

WORST_FRAMES = 5   # the frames of a take with the largest landmark error, kept in its metadata
MAX_WARNINGS = 8


@dataclass(frozen=True)
class TrackJob(Job):
    """Track a video: the arguments of `engine.video.track_video` as plain JSON values, plus where the take goes."""

    kind: ClassVar[str] = "track"
    version: ClassVar[int] = 1

    video: str                            # the video of a talking face
    output: Optional[str] = None          # clip file (.npz, .json, ARKit .csv); its sidecar <stem>.track.npz beside
    head: Optional[str] = None            # FLAME .pkl or head .npz; None: the built-in head
    landmarks: Optional[str] = None       # MediaPipe embedding .npz for a head that is not the built-in one
    start_s: float = 0.0                  # the stretch of the video to track, in seconds
    end_s: Optional[float] = None         # None: to its end
    start_frame: Optional[int] = None     # scene frame of the first tracked frame; None: the take's own
    overlay: Optional[str] = None         # also write this .mp4: the fit drawn over the video, with its sound
    tracker_python: Optional[str] = None  # a Python with mediapipe 0.10.14; None: the engine's search

    def validate(self) -> None:
        if not (math.isfinite(self.start_s) and self.start_s >= 0):
            raise InputError(f"The start of the stretch to track must be 0 s or later, not {shown(self.start_s)}.")
        if self.end_s is not None and not (math.isfinite(self.end_s) and self.end_s > self.start_s):
            raise InputError(f"The end of the stretch to track ({shown(self.end_s)} s) must come after its start "
                             f"({self.start_s:g} s).")
        if self.start_frame is not None:
            rules.check_start_frame(self.start_frame)
        if self.output is not None:
            rules.check_clip_output(self.output)
        if self.overlay is not None:
            rules.check_video_output(self.overlay, "overlay")


@dataclass(frozen=True)
class TrackResult:
    """What a track job made: the take (clip, fit, video info), the files written, the tracker's warnings."""

    take: object
    path: Optional[Path] = None
    overlay: Optional[Path] = None
    warnings: tuple = ()

    @property
    def clip(self):
        return self.take.clip


def fit_quality(error) -> dict:
    """The landmark error [T] (over the eye distance; NaN where the face was lost) as the panel shows it:
    median, 95th percentile and the worst frames [[video frame, error], ...], worst first."""
    error = np.asarray(error, np.float64)
    frames = np.nonzero(np.isfinite(error))[0]
    if frames.size == 0:
        return {"median": None, "p95": None, "worst": []}
    worst = frames[np.argsort(-error[frames], kind="stable")[:WORST_FRAMES]]
    return {"median": float(np.median(error[frames])), "p95": float(np.percentile(error[frames], 95)),
            "worst": [[int(t), float(error[t])] for t in worst]}


def described(take, job: TrackJob, said: list):
    """The take with its clip at the job's start frame and its fit's quality, sound and warnings in its metadata."""
    clip = take.clip.copy()
    if job.start_frame is not None:
        clip.start_frame = job.start_frame
    clip.metadata.update(fit_quality=fit_quality(take.fit.error), has_audio=bool(take.info.has_audio),
                         warnings=list(said[:MAX_WARNINGS]))
    return replace(take, clip=clip)


def run(job: TrackJob, reporter: Optional[Reporter] = None) -> TrackResult:
    """Validate the job, track its video, save the take (clip and sidecar) atomically and the overlay; the result."""
    from ..head import load_head
    from ..video import save_take, track_video  # MediaPipe runs in its own child Python

    reporter = reporter or silent()
    job.validate()
    with warnings.catch_warnings(record=True) as caught, rules.tracker(job.tracker_python):
        warnings.simplefilter("always")
        head = load_head(job.head) if job.head else None
        take = track_video(job.video, head, job.landmarks, job.start_s, job.end_s, reporter)
        take = described(take, job, _said(caught))
        path = save_take(take, job.output) if job.output else None
        overlay = _overlay(job, take, reporter) if job.overlay else None
    return TrackResult(take, path, overlay, tuple(_said(caught)))


def _overlay(job: TrackJob, take, reporter: Reporter) -> Path:
    from ..video.overlay import write_overlay

    write_overlay(job.overlay, take.info, take.fit, take.start, take.end, reporter)
    return Path(job.overlay)


def _said(caught) -> list:
    """The messages of the UserWarnings caught (the tracker's notes on faces, short takes, ...)."""
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
