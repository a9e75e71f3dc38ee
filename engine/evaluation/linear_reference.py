"""A linear reference for lip sync on real speech: how much of the tracked mouth opening a ridge map of
the audio explains, and how that grows with the number of speakers it learns from.

Every figure of eval-lipsync's real-speech table is a driver against the tracked mouth. This asks what
the data allows: a ridge regression from the voice's log-mel bands and loudness (each clip normalised,
frames from -CONTEXT_S to +CONTEXT_S around the video frame) to the tracked inner-lip gap, scored with
the same measure (each clip's best lag within +-MAX_LAG frames, mean over clips then over speakers):

- *training rows*: learnt from the TRAINING_VIDEOS only (what a shipped model may learn from), scored on
  the held-out speakers: a baseline beside the drivers;
- *leave one speaker out*: each held-out speaker scored by a map learnt from every other trackable clip
  (the other held-out speakers too: about 1.5x the training rows; an analysis, never a shipped model);
- *learning curve*: the same with random subsets of N speakers, REPEATS draws each: whether more
  speakers of this kind would lift the figure.

Nothing here imports torch; the map is numpy least squares (`ridge_map`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ..progress import Reporter, silent
from .measures import lagged_correlations

CONTEXT_S = 0.30            # audio seconds each side of a video frame that the map reads
CONTEXT_STEP_S = 0.03       # spacing of the frames it reads within that context
RIDGE = 10000.0             # ridge weight on the standardised features (best of 10-10,000 on the training rows)
CURVE_SPEAKERS = (5, 10, 20)  # learning-curve sizes (plus every speaker there is)
REPEATS = 3                 # random draws of speakers per learning-curve size and held-out speaker
SEED = 0


@dataclass
class ReferenceClip:
    """One tracked clip as the map sees it: features [T, F], the tracked gap [T] (mm), good frames [T]."""

    name: str
    speaker: str
    held_out: bool
    features: np.ndarray
    opening: np.ndarray
    good: np.ndarray


def audio_context(audio, fps: float, frames: int) -> np.ndarray:
    """Features [frames, F] of `audio` for a video of `frames` frames at `fps`: per-clip standardised log-mel
    bands and level (10 ms frames), read at CONTEXT_STEP_S steps from -CONTEXT_S to +CONTEXT_S."""
    from ..audio.features import FeatureConfig, compute_features
    from ..audio.load import audio_from_array

    config = FeatureConfig(voice=False)
    speech = audio_from_array(audio.samples, audio.rate, config.rate)
    features = compute_features(speech.samples, config)
    bands = np.concatenate([features.log_mel, features.energy_db[:, None]], axis=1).astype(np.float64)
    bands = (bands - bands.mean(axis=0)) / (bands.std(axis=0) + 1e-3)
    centre = np.round(np.arange(frames) / fps / config.hop_s).astype(int)
    reach, step = round(CONTEXT_S / config.hop_s), max(1, round(CONTEXT_STEP_S / config.hop_s))
    offsets = np.arange(-reach, reach + 1, step)
    rows = np.clip(centre[:, None] + offsets[None, :], 0, len(bands) - 1)
    return bands[rows].reshape(frames, -1)


def ridge_map(clips: Sequence[ReferenceClip], ridge: float = RIDGE) -> Callable[[ReferenceClip], np.ndarray]:
    """The ridge map learnt on the good frames of `clips` (each clip's gap about its own mean: the drivers are
    judged by correlation, which ignores a clip's offset); a function from a clip to its predicted gap [T]."""
    if not clips:
        raise ValueError("a ridge map needs at least one clip to learn from")
    x = np.concatenate([c.features[c.good] for c in clips])
    y = np.concatenate([c.opening[c.good] - c.opening[c.good].mean() for c in clips])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    weights = np.linalg.solve(z.T @ z + ridge * np.eye(z.shape[1]), z.T @ y)
    return lambda clip: ((clip.features - mean) / scale) @ weights


def speaker_scores(predict: Callable, clips: Sequence[ReferenceClip]) -> dict:
    """{speaker: (best-lag r, lag-0 r)}, each the mean over that speaker's clips."""
    per: dict = {}
    for clip in clips:
        lags = lagged_correlations(predict(clip), clip.opening, clip.good)
        per.setdefault(clip.speaker, []).append((max(lags.values()), lags[0]))
    return {s: (float(np.mean([b for b, _ in v])), float(np.mean([z for _, z in v]))) for s, v in per.items()}


def linear_reference(clips: Sequence[ReferenceClip], ridge: float = RIDGE, seed: int = SEED,
                     reporter: Optional[Reporter] = None) -> dict:
    """The three figures of the module's docstring on `clips` (held-out and training clips): a JSON-ready dict."""
    reporter = reporter or silent()
    held = [c for c in clips if c.held_out]
    speakers = sorted({c.speaker for c in held})
    if not held or len(held) == len(clips):
        raise ValueError("the linear reference needs held-out clips and clips to learn from")
    trained = speaker_scores(ridge_map([c for c in clips if not c.held_out], ridge), held)
    sizes = [n for n in CURVE_SPEAKERS if n < len({c.speaker for c in clips}) - 1]
    reporter.stage("linear reference", len(speakers))
    rng = np.random.default_rng(seed)
    others, curve = {}, {n: [] for n in sizes}
    for k, speaker in enumerate(speakers):
        pool = [c for c in clips if c.speaker != speaker]
        own = [c for c in held if c.speaker == speaker]
        others[speaker] = speaker_scores(ridge_map(pool, ridge), own)[speaker]
        names = sorted({c.speaker for c in pool})
        for n in sizes:
            for _ in range(REPEATS):
                pick = set(rng.choice(names, size=n, replace=False))
                curve[n].append(speaker_scores(ridge_map([c for c in pool if c.speaker in pick], ridge), own)[speaker][0])
        reporter.update(k + 1)
    every = len({c.speaker for c in clips}) - 1

    def summary(scores: dict) -> dict:
        best = [b for b, _ in scores.values()]
        return {"r_best": float(np.mean(best)), "r_lag0": float(np.mean([z for _, z in scores.values()])),
                "r_best_lowest_speaker": float(np.min(best)), "per_speaker": {s: round(b, 3) for s, (b, _) in scores.items()}}

    return {"ridge": ridge, "context_s": CONTEXT_S, "held_out_speakers": len(speakers),
            "training_rows": {"speakers": len({c.speaker for c in clips if not c.held_out}), **summary(trained)},
            "leave_one_speaker_out": {"speakers": every, **summary(others)},
            "learning_curve": {str(n): float(np.mean(v)) for n, v in curve.items()} | {str(every): summary(others)["r_best"]}}


def reference_clips(videos: Sequence, cache: Path, reporter: Optional[Reporter] = None) -> tuple:
    """(ReferenceClips, skipped notes) of `videos` [(path, speaker)], tracked once (cached under `cache`, as
    eval-lipsync's takes); held out are the EVAL_VIDEOS. Silent or untrackable videos are left out, said."""
    from ..audio import load_audio
    from ..drivers.phonetic.metrics import mouth_opening
    from ..head import load_head
    from ..video.errors import VideoError
    from .takes import EVAL_VIDEOS, SILENT_PEAK, tracked_take

    reporter = reporter or silent()
    head, clips, skipped = load_head(), [], []
    reporter.stage("tracking and reading real talking videos", len(videos))
    for k, (path, speaker) in enumerate(videos):
        audio = load_audio(path)
        if float(np.max(np.abs(audio.samples), initial=0.0)) < SILENT_PEAK:
            skipped.append(f"{Path(path).name}: its sound is silent")
            continue
        try:
            take = tracked_take(path, cache, speaker)
        except VideoError as error:
            skipped.append(f"{Path(path).name}: {error}")
            continue
        opening = mouth_opening(head, take.clip)
        clips.append(ReferenceClip(Path(path).name, speaker, Path(path).name in EVAL_VIDEOS,
                                   audio_context(audio, take.fps, opening.size), opening, take.good[:opening.size]))
        reporter.update(k + 1)
    return clips, skipped
