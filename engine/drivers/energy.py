"""The audio-energy driver: loudness and brightness of the voice to jaw, lips, blinks and head motion.

The baseline every smarter driver is measured against. It knows nothing of
phonemes: the jaw follows the loudness envelope, the lips widen on bright
(hissy, high-centroid) sounds and round on dark voiced ones, brows lift on
loud accents, and blinks, gaze shifts and head sway are seeded random
processes scaled by the speech energy.
"""

from __future__ import annotations

import numpy as np

from ..audio.envelope import rms, spectral_centroid
from ..audio.load import Audio
from ..numeric import smooth

ANALYSIS_HOP_S = 0.01          # features every 10 ms, then sampled at the clip's frames
WINDOW = 512                   # 32 ms analysis window at 16 kHz
SILENCE_DB = -60.0             # a clip whose loudest window is below this is silence
DYNAMIC_RANGE_DB = 40.0        # loudness range mapped onto [0, 1]
JAW_OPEN_MAX = 0.30            # rad, at the loudest speech
BLINK_INTERVAL_S = 3.5         # mean time between blinks
BLINK_SHAPE_S = (0.07, 0.03, 0.13)  # close, hold, open
HEAD_SWAY_RAD = 0.035
GAZE_SHIFT_RAD = 0.08


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


def energy_channels(audio: Audio, fps: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Channel values [T] for every driven channel, T = ceil(duration * fps) frames."""
    loud, bright, times = envelope_features(audio)
    T = max(1, int(np.ceil(audio.duration * fps - 1e-9)))
    frame_times = np.arange(T) / fps
    env = np.interp(frame_times, times, loud)
    tone = np.interp(frame_times, times, bright) * (env > 0.05)
    slow = smooth(env, sigma=0.4 * fps)
    accent = np.clip(env - slow - 0.15, 0.0, None)
    rng = np.random.default_rng(seed)
    blink = blink_curve(T, fps, rng)
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


def blink_curve(T: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """Eyelid closure [T] in [0, 1]: blinks at random intervals (mean BLINK_INTERVAL_S)."""
    t = np.arange(T) / fps
    curve = np.zeros(T)
    close, hold, open_ = BLINK_SHAPE_S
    start = rng.uniform(0.5, BLINK_INTERVAL_S)
    while start < t[-1]:
        rel = t - start
        shape = np.interp(rel, [0, close, close + hold, close + hold + open_], [0, 1, 1, 0], left=0, right=0)
        curve = np.maximum(curve, shape)
        start += rng.uniform(0.5, 1.5) * BLINK_INTERVAL_S
    return curve


def head_sway(T: int, fps: float, rng: np.random.Generator, gain: np.ndarray) -> dict[str, np.ndarray]:
    """Slow neck rotations [T] (rad): smoothed noise scaled by the speech energy.

    The noise is drawn over at least 8 smoothing widths and normalised there, so a
    clip shorter than the smoothing still gets a sway of the usual size (normalising
    a nearly constant stretch of noise would blow it up to whole turns)."""
    out = {}
    sigma = 0.6 * fps
    length = max(T + 1, int(np.ceil(8 * sigma)))
    for axis, scale in (("x", 1.0), ("y", 1.3), ("z", 0.5)):
        noise = smooth(rng.standard_normal(length), sigma=sigma, mode="wrap")
        noise = noise[:T] / max(1e-6, float(np.std(noise)))
        out[f"neck_r{axis}"] = HEAD_SWAY_RAD * scale * noise * gain
    return out


def gaze(T: int, fps: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Both eyes' rotations [T] (rad): fixations that jump every 0.6-2.5 s with quick saccades."""
    yaw, pitch = np.zeros(T), np.zeros(T)
    frame = 0
    while frame < T:
        length = int(rng.uniform(0.6, 2.5) * fps) + 1
        yaw[frame:frame + length] = rng.uniform(-1, 1) * GAZE_SHIFT_RAD
        pitch[frame:frame + length] = rng.uniform(-0.5, 0.5) * GAZE_SHIFT_RAD
        frame += length
    yaw, pitch = (smooth(c, sigma=0.02 * fps) for c in (yaw, pitch))
    return {"eye_left_rx": pitch, "eye_right_rx": pitch, "eye_left_ry": yaw, "eye_right_ry": yaw}


def _attack_release(x: np.ndarray, attack: float, release: float) -> np.ndarray:
    """One-pole smoothing [N] with a fast rise (`attack` per step) and a slower fall."""
    out = np.empty_like(x)
    level = 0.0
    for i, value in enumerate(x):
        rate = attack if value > level else release
        level += rate * (value - level)
        out[i] = level
    return out
