"""The audio-energy driver: loudness and brightness of the voice to jaw, lips, blinks and head motion.

The baseline every smarter driver is measured against. It knows nothing of
phonemes: the jaw follows the loudness envelope, the lips widen on bright
(hissy, high-centroid) sounds and round on dark voiced ones, brows lift on
loud accents, and blinks (at the neutral rate), gaze shifts and head sway
are the seeded random processes every driver shares (procedural.py), the
sway scaled by the speech energy. It reads no transcript and no style.
"""

from __future__ import annotations

import numpy as np

from ..audio.envelope import rms, spectral_centroid
from ..audio.load import Audio
from ..numeric import smooth
from ..style import NEUTRAL
from .interface import DriveRequest, frame_count
from .procedural import blinks, gaze, head_sway

ANALYSIS_HOP_S = 0.01          # features every 10 ms, then sampled at the clip's frames
WINDOW = 512                   # 32 ms analysis window at 16 kHz
SILENCE_DB = -60.0             # a clip whose loudest window is below this is silence
DYNAMIC_RANGE_DB = 40.0        # loudness range mapped onto [0, 1]
JAW_OPEN_MAX = 0.30            # rad, at the loudest speech


def envelope_features(audio: Audio) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loudness [N] in [0, 1], brightness [N] in [0, 1] and their times [N] (s), every 10 ms."""
    hop = int(round(audio.rate * ANALYSIS_HOP_S))
    y = audio.samples - float(np.mean(audio.samples))  # DC offset is valid input; ignore it
    level = rms(y, WINDOW, hop)
    centroid = spectral_centroid(y, audio.rate, WINDOW, hop)
    db = 20.0 * np.log10(level + 1e-9)
    peak = float(np.percentile(db, 98))
    if peak < SILENCE_DB:
        loud = np.zeros_like(db)
    else:
        loud = np.clip((db - (peak - DYNAMIC_RANGE_DB)) / DYNAMIC_RANGE_DB, 0.0, 1.0) ** 1.5
    loud = _attack_release(loud, attack=0.5, release=0.2)
    bright = np.clip((centroid - 1500.0) / 2500.0, 0.0, 1.0)
    times = np.arange(loud.shape[0]) * hop / audio.rate
    return loud.astype(np.float32), bright.astype(np.float32), times


def drive(request: DriveRequest) -> dict[str, np.ndarray]:
    """The "energy" driver: {channel: values [T] float32}, T = request.frame_count."""
    return energy_channels(request.audio, request.fps, request.seed)


def energy_channels(audio: Audio, fps: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Channel values [T] float32 for every driven channel, T = ceil(duration * fps) frames."""
    loud, bright, times = envelope_features(audio)
    T = frame_count(audio.duration, fps)
    frame_times = np.arange(T) / fps
    env = np.interp(frame_times, times, loud)
    tone = np.interp(frame_times, times, bright) * (env > 0.05)
    slow = smooth(env, sigma=0.4 * fps)
    accent = np.clip(env - slow - 0.15, 0.0, None)
    rng = np.random.default_rng(seed)
    blink = blinks(frame_times, fps, (), NEUTRAL.blink_rate, rng)
    channels = {
        "jaw_rx": JAW_OPEN_MAX * env,
        "mouthLowerDownLeft": 0.35 * env, "mouthLowerDownRight": 0.35 * env,
        "mouthUpperUpLeft": 0.2 * env, "mouthUpperUpRight": 0.2 * env,
        "mouthStretchLeft": 0.45 * env * tone, "mouthStretchRight": 0.45 * env * tone,
        "mouthFunnel": 0.5 * env * (1.0 - tone) * (env > 0.3),
        "browInnerUp": np.clip(1.5 * smooth(accent, 0.08 * fps), 0.0, 0.6),
        "eyeBlinkLeft": blink, "eyeBlinkRight": blink,
    }
    channels.update(head_sway(T, fps, rng, 0.5 + slow))
    channels.update(gaze(T, fps, rng))
    return {name: np.asarray(v, dtype=np.float32) for name, v in channels.items()}


def _attack_release(x: np.ndarray, attack: float, release: float) -> np.ndarray:
    """One-pole smoothing [N] with a fast rise (`attack` per step) and a slower fall."""
    out = np.empty_like(x)
    level = 0.0
    for i, value in enumerate(x):
        rate = attack if value > level else release
        level += rate * (value - level)
        out[i] = level
    return out
