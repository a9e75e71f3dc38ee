"""Real (audio, motion) pairs from talking videos: the tracked take and the video's own voice.

    python -m engine.training.real_pairs ../shared/data/videos out/real_pairs

Only the rows of ../shared/data/videos that may train a shipped model are used
(`evaluate_real.TRAINING_VIDEOS`; the held-out speakers of `EVAL_VIDEOS` never
are). Each video is tracked once (`evaluate_real.tracked_take`, cached in the checkout's
out/real_speech/takes, shared with eval-lipsync --videos and the bench) and
written as `<stem>.pair.npz`:

    audio        [N] float32, mono at `rate` Hz (16 kHz), the video's sound
    names        [C] the clip's channels (tracker order: pose, then expressions)
    values       [T, C] float32 at `fps`, frame t at t / fps from the video's start
    confidence   [T] float32 in [0, 1]: the tracker's (1 - landmark error / 0.1 eye distance),
                 0 on bridged frames
    weight       [T] float32: confidence, set to 0 below MIN_CONFIDENCE (a loss multiplies by it)

A pair already written for the same take is kept (re-running costs nothing).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..motion import MotionClip
from ..progress import Reporter, silent
from ..evaluation.takes import SILENT_PEAK, TAKE_CACHE, TRAINING_VIDEOS, tracked_take

MIN_CONFIDENCE = 0.5          # frames tracked worse than this (error > 5% of the eye distance) weigh 0


@dataclass
class RealPair:
    """One tracked talking video: its voice (Audio), its performance (MotionClip), and the per-frame
    confidence [T] and training weight [T]."""

    audio: object
    clip: MotionClip
    confidence: np.ndarray
    weight: np.ndarray


def pair_weight(confidence: np.ndarray) -> np.ndarray:
    """The training weight [T] of frames with tracker confidence [T]: the confidence, 0 below MIN_CONFIDENCE."""
    return np.where(confidence >= MIN_CONFIDENCE, confidence, 0.0).astype(np.float32)


def build_real_pairs(videos, out, cache, reporter: Optional[Reporter] = None) -> list:
    """Write `out`/<stem>.pair.npz for each TRAINING_VIDEOS file in `videos` (tracked takes cached in
    `cache`); videos the tracker refuses or with a silent sound are left out. Returns the pair paths."""
    from ..audio import load_audio
    from ..video.errors import VideoError

    reporter = reporter or silent()
    paths = [Path(videos) / n for n in TRAINING_VIDEOS if (Path(videos) / n).is_file()]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    reporter.stage("real (audio, motion) pairs", len(paths))
    for k, path in enumerate(paths):
        target = out / f"{path.stem}.pair.npz"
        try:
            take = tracked_take(path, cache, path.stem)
        except VideoError:
            reporter.update(k + 1)
            continue
        if not target.is_file():
            audio = load_audio(path)
            if float(np.max(np.abs(audio.samples), initial=0.0)) >= SILENT_PEAK:
                np.savez(target, audio=audio.samples.astype(np.float32), rate=audio.rate,
                         names=np.array(take.clip.names), values=take.clip.values.astype(np.float32),
                         fps=take.fps, confidence=take.confidence.astype(np.float32),
                         weight=pair_weight(take.confidence), speaker=np.array(take.speaker),
                         source_video=np.array(path.name))
        if target.is_file():
            written.append(target)
        reporter.update(k + 1)
    return written


def load_pair(path) -> RealPair:
    """A pair file written by build_real_pairs."""
    from ..audio.load import Audio

    with np.load(path) as f:
        clip = MotionClip([str(n) for n in f["names"]], f["values"], float(f["fps"]), 1,
                          {"source_video": str(f["source_video"]), "speaker": str(f["speaker"])})
        audio = Audio(f["audio"], int(f["rate"]), str(f["source_video"]))
        return RealPair(audio, clip, f["confidence"].copy(), f["weight"].copy())


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m engine.training.real_pairs VIDEOS_FOLDER OUT_FOLDER", file=sys.stderr)
        return 2
    out = Path(args[1])
    paths = build_real_pairs(args[0], out, TAKE_CACHE)
    clips = [load_pair(p).clip for p in paths]
    seconds = sum(c.num_frames / c.fps for c in clips)
    print(f"wrote {len(paths)} pairs ({seconds:.0f} s) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
