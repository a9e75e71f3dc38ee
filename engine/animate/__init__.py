"""Speech to head motion: `animate(audio, fps, driver=...)` gives a MotionClip.

Drivers (each a function (audio, fps, seed, transcript, style, reporter) -> {channel: values [T]}):
- "phonetic": recognised phones -> coarticulated visemes, prosody -> brows/head/blinks (default);
- "energy": loudness/brightness baseline (no phonemes, no network);
- "adf": the ADF network (ONNX), registered when its model file is installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..audio.load import Audio, load_audio
from ..errors import InputError
from ..motion import MotionClip
from ..progress import Reporter, silent
from ..style import NEUTRAL, SpeakingStyle
from .energy import energy_channels


def _energy(audio, fps, seed, transcript=None, style=NEUTRAL, reporter=None):
    return energy_channels(audio, fps, seed)


def _phonetic(audio, fps, seed, transcript=None, style=NEUTRAL, reporter=None):
    from ..phonetic.driver import phonetic_channels  # pocketsphinx loads only when used

    return phonetic_channels(audio, fps, seed, transcript=transcript, style=style, reporter=reporter)


def _adf(audio, fps, seed, transcript=None, style=NEUTRAL, reporter=None):
    from ..adf.driver import adf_channels

    return adf_channels(audio, fps, seed, style=style, reporter=reporter)


def _registered() -> dict:
    from ..adf.runtime import available  # light: the driver (features, prosody) loads only when used

    drivers = {"phonetic": _phonetic, "energy": _energy}
    if available():
        drivers["adf"] = _adf
    return drivers


DRIVERS = _registered()
DEFAULT_DRIVER = "phonetic"


def animate(audio, fps: float = 30.0, driver: str = DEFAULT_DRIVER, seed: int = 0,
            start_frame: int = 1, reporter: Optional[Reporter] = None, transcript: Optional[str] = None,
            style: SpeakingStyle = NEUTRAL) -> MotionClip:
    """Animate a voice: an audio path (or decoded `Audio`) -> MotionClip at `fps`.

    The clip has one channel per driven expression/joint axis (channels.py
    names), `ceil(duration * fps)` frames, and metadata naming the source
    audio, driver, style and seed. `transcript` (the words spoken) lets the
    phonetic driver align instead of recognise; other drivers ignore it.
    """
    reporter = reporter or silent()
    if driver not in DRIVERS:
        raise InputError(f"Unknown driver '{driver}'; choose one of: {', '.join(sorted(DRIVERS))}.")
    if not (np.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise InputError(f"The frame rate must be between 1 and 240 fps, not {fps}.")
    if not isinstance(audio, Audio):
        audio = load_audio(audio, min_duration=1.0 / fps, reporter=reporter)
    channels = DRIVERS[driver](audio, fps, seed, transcript=transcript, style=style, reporter=reporter)
    reporter.stage("writing the clip", 1)
    names = list(channels)
    values = np.stack([channels[n] for n in names], axis=1)
    metadata = {"source_audio": Path(audio.source).name, "driver": driver, "seed": seed,
                "style": style.to_dict(), "duration_s": round(audio.duration, 4)}
    if transcript and driver == "phonetic":
        metadata["transcript"] = transcript if len(transcript) <= 2000 else transcript[:2000] + "..."
    reporter.update(1)
    return MotionClip(names=names, values=values, fps=fps, start_frame=start_frame, metadata=metadata)
