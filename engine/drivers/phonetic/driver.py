"""The phonetic driver: speech -> recognised phones -> coarticulated performance.

No trained network: pocketsphinx finds the phones (all-phone recognition, or
forced alignment when the user gives the transcript), and the same dominance
model that renders the training corpus turns them into motion. The phone set
is English; other languages animate at reduced accuracy (their sounds are
heard as the nearest English phones).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ...audio.features import features_of
from ...audio.load import Audio
from ...progress import Reporter, silent
from ...style import NEUTRAL, SpeakingStyle
from .performance import PROSODY_FEATURES, performance_channels
from .recognize import recognize_phones


def phonetic_channels(audio: Audio, fps: float, seed: int = 0, transcript: Optional[str] = None,
                      style: SpeakingStyle = NEUTRAL, reporter: Optional[Reporter] = None) -> dict[str, np.ndarray]:
    """Channel values {name: [T]} for `audio` at `fps` (T = ceil(duration * fps))."""
    reporter = reporter or silent()
    phones = recognize_phones(audio.samples, audio.rate, transcript=transcript, reporter=reporter)
    features = features_of(audio, PROSODY_FEATURES)
    return performance_channels(phones, features, audio.duration, fps, style, seed)
