"""A whole head performance from phones with timings and the voice they came from.

`perform` is the one recipe the phonetic driver (recognised phones) and the
training corpus (the synthesizer's own phone timings) share, so the neural
driver learns exactly what the phonetic driver would do with perfect phones.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ...audio.features import FeatureConfig, Features, features_of, relative_level_db
from ...audio.load import Audio
from ...motion import MotionClip
from ...style import NEUTRAL, SpeakingStyle
from ..interface import frame_count
from ..procedural import prosody_channels
from .coarticulation import articulate
from .phones import SILENCE, Phone, clean_phones

PROSODY_FEATURES = FeatureConfig(n_mels=8)  # prosody needs level and pitch only; few mel bands are cheaper


def performance_channels(phones: Sequence[Phone], features: Features, duration: float, fps: float,
                         style: SpeakingStyle = NEUTRAL, seed: int = 0, lead_s: float = 0.0) -> dict[str, np.ndarray]:
    """Every channel {name: [T] float32} of the performance, T = frame_count(duration, fps).

    The mouth comes from the phones (coarticulation.py), anticipated by `lead_s` seconds (every
    phone's shape, its closures included, is reached that much before its sound: frame t articulates
    the phones at t + lead_s; before the first phone and after the last the mouth rests); brows,
    blinks, gaze, smile bias and head motion from the voice's features and the pauses between the
    phones (../procedural.py), not moved.
    """
    phones = clean_phones(phones)
    frame_times = np.arange(frame_count(duration, fps)) / fps
    channels = articulate(phones, frame_times + lead_s, style)
    rng = np.random.default_rng(seed)
    level = relative_level_db(features.energy_db)
    pauses = [(p.start, p.end) for p in phones if p.label == SILENCE]
    for name, values in prosody_channels(frame_times, features.times, level, features.pitch_hz,
                                         pauses, style, rng).items():
        merged = channels[name] + values if name in channels else values
        channels[name] = merged if name.endswith(("_rx", "_ry", "_rz")) else np.clip(merged, 0.0, 1.0)
    return {name: np.asarray(v, np.float32) for name, v in channels.items()}


def perform(phones: Sequence[Phone], audio: Audio, fps: float, style: SpeakingStyle = NEUTRAL,
            seed: int = 0, start_frame: int = 1, features: Optional[Features] = None,
            lead_s: float = 0.0) -> MotionClip:
    """The MotionClip of `audio` spoken as `phones` (times in seconds) at `fps`, in `style`, the mouth
    leading the phones by `lead_s` seconds (0: on the phones' acoustic times, as the corpus is made).

    Pass `features` when they are already computed (at any hop); otherwise
    they are computed from the audio.
    """
    features = features if features is not None else features_of(audio, PROSODY_FEATURES)
    channels = performance_channels(phones, features, audio.duration, fps, style, seed, lead_s)
    names = sorted(channels)
    metadata = {"driver": "phonetic", "style": style.to_dict(), "seed": seed,
                "duration_s": round(audio.duration, 4)}
    return MotionClip(names=names, values=np.stack([channels[n] for n in names], axis=1), fps=fps,
                      start_frame=start_frame, metadata=metadata)
