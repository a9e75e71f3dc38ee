"""What eval-lipsync measures on real speech, each from arrays: the lagged correlation of two lip gaps, the
lip-vertex error, head-motion and blink statistics, and the opening cycles and syllables of a voice.
Nothing here imports torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..motion import MotionClip

MAX_LAG = 5                   # frames either way searched for the best-lag correlation
BLINK_RISE = 0.3              # an eye is closed where eyeBlink rises this far above the clip's median
BLINK_MIN_S = 0.06            # ... for at least this long (shorter rises are tracking noise)
SMOOTH_S = 0.2                # head rotation is averaged over this window before its speed is taken
HEAD_CHANNELS = ("neck_rx", "neck_ry", "neck_rz")
CYCLE_MM = 3.0                # an opening cycle: the gap rises and falls again by this much
SYLLABLE_DB = 6.0             # a syllable of the voice: its loudness rises and falls by this much
SHUT_MM = 2.0                 # an inner-lip gap below this counts as shut lips


def lagged_correlations(predicted: np.ndarray, tracked: np.ndarray, good: np.ndarray,
                        max_lag: int = MAX_LAG) -> dict:
    """{lag: Pearson r} of predicted[t + lag] with tracked[t] over good frames t, for |lag| <= max_lag.
    predicted, tracked, good: [T] (equal length). A constant track scores 0."""
    out = {}
    T = min(predicted.size, tracked.size, good.size)
    for lag in range(-max_lag, max_lag + 1):
        t = np.arange(max(0, -lag), min(T, T - lag))
        t = t[good[t]]
        a, b = predicted[t + lag], tracked[t]
        out[lag] = float(np.corrcoef(a, b)[0, 1]) if t.size > 2 and a.std() > 1e-9 and b.std() > 1e-9 else 0.0
    return out


def lip_error_mm(head, predicted: MotionClip, tracked: MotionClip, good: np.ndarray) -> float:
    """Mean over good frames of the largest distance (mm) between the 20 iBUG lip points of the two
    clips posed on `head` (jaw only of the pose, as `phonetic.metrics.lip_vertex_error`)."""
    from ..drivers.phonetic.metrics import LIP_LANDMARKS, _lip_points

    a = _lip_points(head, predicted, LIP_LANDMARKS)
    b = _lip_points(head, tracked, LIP_LANDMARKS)
    T = min(a.shape[0], b.shape[0], good.size)
    distance = np.max(np.linalg.norm(a[:T] - b[:T], axis=-1), axis=1)
    return float(1000.0 * np.mean(distance[good[:T]]))


@dataclass
class MotionStats:
    """Head motion and blinks of a clip: neck rotation spread (deg, mean of the three axes' standard
    deviations) and speed (deg/s, mean frame-to-frame change), blinks per minute, mean blink length (s)."""

    head_sd_deg: float
    head_speed_deg_s: float
    blinks_per_min: float
    blink_s: float


def _channel(clip: MotionClip, name: str) -> np.ndarray:
    return clip.values[:, clip.names.index(name)] if name in clip.names else np.zeros(clip.num_frames)


def motion_stats(clip: MotionClip, good: Optional[np.ndarray] = None) -> MotionStats:
    """MotionStats of `clip` over its good frames [T] bool (None: all). The head's speed is taken
    after a SMOOTH_S moving average (a tracker's frame-to-frame jitter is not head motion); a blink
    is a rise of eyeBlink above the clip's median (a tracked eye's rest value is not 0)."""
    from ..drivers.phonetic.metrics import closure_runs

    good = np.ones(clip.num_frames, bool) if good is None else good[:clip.num_frames]
    head = np.degrees(np.stack([_channel(clip, n) for n in HEAD_CHANNELS], axis=1))[good]
    width = max(1, int(round(SMOOTH_S * clip.fps)))
    smooth = np.stack([np.convolve(h, np.ones(width) / width, mode="valid") for h in head.T], axis=1) \
        if len(head) > width else head
    speed = np.abs(np.diff(smooth, axis=0)).sum(axis=1) * clip.fps if len(smooth) > 1 else np.zeros(1)
    blink = 0.5 * (_channel(clip, "eyeBlinkLeft") + _channel(clip, "eyeBlinkRight"))
    closed = (blink - np.median(blink[good]) > BLINK_RISE) & good if good.any() else good
    runs = [(a, b) for a, b in closure_runs(closed) if (b - a) / clip.fps >= BLINK_MIN_S - 1e-9]
    minutes = good.sum() / clip.fps / 60.0
    return MotionStats(head_sd_deg=float(np.mean(head.std(axis=0))) if len(head) else 0.0,
                       head_speed_deg_s=float(np.mean(speed)), blinks_per_min=len(runs) / max(minutes, 1e-9),
                       blink_s=float(np.mean([b - a for a, b in runs]) / clip.fps) if runs else 0.0)


def peaks(values: np.ndarray, delta: float) -> int:
    """How many times values [T] rise by at least `delta` from a low and fall back by `delta`
    (wiggles smaller than `delta` are not counted)."""
    count, low, high, rising = 0, np.inf, -np.inf, True
    for v in values:
        if rising:
            if high - low >= delta and high - v >= delta:
                count, rising, low = count + 1, False, v
            elif v < low:
                low = high = v                      # the high must come after the low
            else:
                high = max(high, v)
        else:
            low = min(low, v)
            if v - low >= delta:
                rising, high = True, v
    return count


def opening_cycles(opening_mm: np.ndarray) -> int:
    """How many times the inner-lip gap [T] (mm) opens and closes again by CYCLE_MM."""
    return peaks(opening_mm, CYCLE_MM)


def loudness(audio, fps: float, frames: int) -> np.ndarray:
    """The voice's loudness envelope [frames] (dB RMS over each frame's window)."""
    hop = audio.rate / fps
    out = np.empty(frames)
    for t in range(frames):
        a = int(t * hop)
        window = audio.samples[a:int(a + hop)]
        out[t] = 10 * np.log10(np.mean(np.square(window, dtype=np.float64)) + 1e-10) if window.size else -100.0
    return out
