"""The phonetic driver: speech -> recognised phones -> coarticulated performance.

No trained network: pocketsphinx finds the phones (all-phone recognition, or
forced alignment when the user gives the transcript), and the same dominance
model that renders the training corpus turns them into motion. The phone set
is English; other languages animate at reduced accuracy (their sounds are
heard as the nearest English phones).
"""

from __future__ import annotations

import numpy as np

from ...audio.features import features_of
from ..interface import DriveRequest
from .performance import PROSODY_FEATURES, performance_channels
from .recognize import recognize_phones


def drive(request: DriveRequest) -> dict[str, np.ndarray]:
    """The "phonetic" driver: {channel: values [T] float32}, T = request.frame_count; the phones are aligned
    to `request.transcript` when given, else recognised; the mouth anticipates them by `request.lead_ms`."""
    audio = request.audio
    phones = recognize_phones(audio.samples, audio.rate, transcript=request.transcript, reporter=request.reporter)
    features = features_of(audio, PROSODY_FEATURES)
    return performance_channels(phones, features, audio.duration, request.fps, request.style, request.seed,
                                lead_s=request.lead_s)
