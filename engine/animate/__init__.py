"""Speech to head motion: `animate(audio, fps, driver=...)` gives a MotionClip.

Drivers (each a function Audio, fps, seed -> {channel: values [T]}):
- "energy": loudness/brightness baseline (no phonemes, no network).
Later drivers (phonetic, the ADF network) register here under their names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..audio.load import Audio, load_audio
from ..errors import InputError
from ..motion import MotionClip
from ..progress import Reporter, silent
from .energy import energy_channels

DRIVERS = {"energy": energy_channels}
DEFAULT_DRIVER = "energy"


def animate(audio, fps: float = 30.0, driver: str = DEFAULT_DRIVER, seed: int = 0,
            start_frame: int = 1, reporter: Optional[Reporter] = None) -> MotionClip:
    """Animate a voice: an audio path (or decoded `Audio`) -> MotionClip at `fps`.

    The clip has one channel per driven expression/joint axis (channels.py
    names), `ceil(duration * fps)` frames, and metadata naming the source
    audio, driver and seed.
    """
    reporter = reporter or silent()
    if driver not in DRIVERS:
        raise InputError(f"Unknown driver '{driver}'; choose one of: {', '.join(sorted(DRIVERS))}.")
    if not (np.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise InputError(f"The frame rate must be between 1 and 240 fps, not {fps}.")
    reporter.stage("loading audio", 2)
    if not isinstance(audio, Audio):
        audio = load_audio(audio, min_duration=1.0 / fps)
    reporter.update(1, "animating")
    channels = DRIVERS[driver](audio, fps, seed)
    reporter.update(2)
    names = list(channels)
    values = np.stack([channels[n] for n in names], axis=1)
    metadata = {"source_audio": Path(audio.source).name, "driver": driver, "seed": seed,
                "duration_s": round(audio.duration, 4)}
    return MotionClip(names=names, values=values, fps=fps, start_frame=start_frame, metadata=metadata)
