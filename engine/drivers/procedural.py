"""The motion every driver shares: blinks, gaze, slow head sway, and prosody -> brows and nods.

None of it needs phones or a network. Accents are peaks of prominence
(loudness plus pitch, each relative to the utterance) at least
MIN_ACCENT_GAP_S apart; each lifts the brows and nods the head a little.
The head sways slowly with the speech energy, the eyes hold fixations and
jump between them, and blinks come at the style's rate, preferably at the
start of pauses, as people blink at phrase boundaries. One blink model
serves every driver. All random choices come from the seeded generator, so a
seed repeats a performance exactly.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..numeric import peaks_above, smooth
from ..style import SpeakingStyle

MIN_ACCENT_GAP_S = 0.35      # accents closer than this merge into the stronger one
ACCENT_HEIGHT = 1.0          # prominence (z-score units) an accent must reach
ACCENT_PULSE_S = (0.08, 0.35)  # rise and decay of an accent's brow lift and nod
BROW_ACCENT = 0.35           # browInnerUp/OuterUp per unit accent at brow_accent = 1
BROW_BIAS = 0.3              # constant brow raise (or browDown) at brow = +-1
SMILE_BIAS = 0.45            # constant smile (or frown) at smile = +-1
NOD_RAD = 0.025              # head pitch per accent at head_motion = 1
PAUSE_BLINK_S = 0.25         # a pause at least this long invites a blink
PAUSE_BLINK_CHANCE = 0.6
BLINK_SHAPE_S = (0.06, 0.03, 0.12)  # close, hold, open
SPEECH_DB = -45.0            # energy (dB relative to loud speech) counted as voice for the sway gain
HEAD_SWAY_RAD = 0.035        # neck rotation (one standard deviation) at gain 1, before the axis scales
GAZE_SHIFT_RAD = 0.08        # the largest eye turn of a fixation


def prominence(energy_db: np.ndarray, pitch_hz: np.ndarray) -> np.ndarray:
    """[N] z-scored loudness plus z-scored log pitch (voiced frames only), smoothed over ~50 ms."""
    energy = (energy_db - np.mean(energy_db)) / (np.std(energy_db) + 1e-6)
    voiced = pitch_hz > 0
    pitch = np.zeros_like(energy)
    if np.count_nonzero(voiced) > 2:
        log_f0 = np.log(pitch_hz[voiced])
        pitch[voiced] = (log_f0 - log_f0.mean()) / (log_f0.std() + 1e-6)
    return smooth(energy + 0.7 * pitch, sigma=5.0)


def accent_times(times: np.ndarray, energy_db: np.ndarray, pitch_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accent times [A] (s) and strengths [A] in (0, 1] from frame-rate features [N] at `times`."""
    if times.size < 3:
        return np.zeros(0), np.zeros(0)
    step = float(np.median(np.diff(times)))
    prom = prominence(energy_db, pitch_hz)
    peaks, heights = peaks_above(prom, ACCENT_HEIGHT, max(1, int(MIN_ACCENT_GAP_S / step)))
    strength = np.clip(heights / 3.0, 0.0, 1.0)
    return times[peaks], strength


def pulses(frame_times: np.ndarray, at: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """[T] sum of asymmetric pulses (rise, decay ACCENT_PULSE_S) at times `at` [A], capped at 1."""
    rise, decay = ACCENT_PULSE_S
    out = np.zeros(frame_times.shape)
    for t0, s in zip(at, strength):
        lo, hi = np.searchsorted(frame_times, [t0 - 3 * rise, t0 + 4 * decay])
        d = frame_times[lo:hi] - t0
        out[lo:hi] += s * np.where(d < 0, np.exp(-(d / rise) ** 2), np.exp(-d / decay))
    return np.minimum(out, 1.0)


def blink_times(pauses: Sequence[tuple[float, float]], duration: float, rate_per_min: float,
                rng: np.random.Generator) -> np.ndarray:
    """Blink start times (s): some at the start of `pauses` ((start, end) s, in time order), the rest spread
    at random so the overall rate is about `rate_per_min`."""
    if rate_per_min <= 0 or duration <= 0:
        return np.zeros(0)
    starts = [start for start, end in pauses if end - start >= PAUSE_BLINK_S and start > 0.3]
    chosen = [t for t in starts if rng.random() < PAUSE_BLINK_CHANCE]
    interval = 60.0 / rate_per_min
    t = rng.uniform(0.3, interval)
    while t < duration:
        if not any(abs(t - c) < 0.5 * interval for c in chosen):
            chosen.append(t)
        t += interval * rng.uniform(0.6, 1.4)
    return np.sort(np.asarray(chosen, np.float64))


def blink_curve(frame_times: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Eyelid closure [T] in [0, 1] with a blink (BLINK_SHAPE_S) beginning at each of `starts`."""
    close, hold, open_ = BLINK_SHAPE_S
    out = np.zeros(frame_times.shape)
    for t0 in starts:
        lo, hi = np.searchsorted(frame_times, [t0, t0 + close + hold + open_])
        rel = frame_times[lo:hi] - t0
        shape = np.interp(rel, [0, close, close + hold, close + hold + open_], [0, 1, 1, 0])
        out[lo:hi] = np.maximum(out[lo:hi], shape)
    return out


def blinks(frame_times: np.ndarray, fps: float, pauses: Sequence[tuple[float, float]], rate_per_min: float,
           rng: np.random.Generator) -> np.ndarray:
    """Eyelid closure [T] at `frame_times` [T] (`fps` apart): blinks at about `rate_per_min`, some at `pauses`
    ((start, end) s, in time order; empty when unknown). The one blink model of every driver."""
    return blink_curve(frame_times, blink_times(pauses, frame_times[-1] + 1.0 / fps, rate_per_min, rng))


def head_sway(T: int, fps: float, rng: np.random.Generator, gain: np.ndarray) -> dict[str, np.ndarray]:
    """Slow neck rotations {neck_rx/ry/rz: [T]} (rad): smoothed noise scaled by `gain` [T].

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
    """Both eyes' rotations {eye_*_rx/ry: [T]} (rad): fixations that jump every 0.6-2.5 s with quick saccades."""
    yaw, pitch = np.zeros(T), np.zeros(T)
    frame = 0
    while frame < T:
        length = int(rng.uniform(0.6, 2.5) * fps) + 1
        yaw[frame:frame + length] = rng.uniform(-1, 1) * GAZE_SHIFT_RAD
        pitch[frame:frame + length] = rng.uniform(-0.5, 0.5) * GAZE_SHIFT_RAD
        frame += length
    yaw, pitch = (smooth(c, sigma=0.02 * fps) for c in (yaw, pitch))
    return {"eye_left_rx": pitch, "eye_right_rx": pitch, "eye_left_ry": yaw, "eye_right_ry": yaw}


def prosody_channels(frame_times: np.ndarray, feature_times: np.ndarray, energy_db: np.ndarray,
                     pitch_hz: np.ndarray, pauses: Sequence[tuple[float, float]], style: SpeakingStyle,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Brows, smile bias, blinks, gaze and neck rotation {name: [T]} at `frame_times` [T].

    feature_times/energy_db/pitch_hz [N] are the voice's features (energy in dB
    relative to loud speech; pitch 0 where unvoiced); `pauses` are the known
    silences ((start, end) s, in time order; empty when unknown).
    """
    T = frame_times.shape[0]
    fps = 1.0 / float(np.median(np.diff(frame_times))) if T > 1 else 30.0
    at, strength = accent_times(feature_times, energy_db, pitch_hz)
    accent = pulses(frame_times, at, strength)
    brow_up = BROW_ACCENT * style.brow_accent * accent + BROW_BIAS * max(style.brow, 0.0)
    brow_down = np.full(T, BROW_BIAS * max(-style.brow, 0.0))
    blink = blinks(frame_times, fps, pauses, style.blink_rate, rng)
    speech = np.interp(frame_times, feature_times, (energy_db > SPEECH_DB).astype(float)) if feature_times.size else np.zeros(T)
    gain = style.head_motion * (0.4 + smooth(speech, sigma=0.5 * fps))
    channels = {
        "browInnerUp": np.clip(brow_up, 0, 1), "browOuterUpLeft": np.clip(0.7 * brow_up, 0, 1),
        "browOuterUpRight": np.clip(0.7 * brow_up, 0, 1),
        "browDownLeft": brow_down, "browDownRight": brow_down,
        "mouthSmileLeft": np.full(T, SMILE_BIAS * max(style.smile, 0.0)),
        "mouthSmileRight": np.full(T, SMILE_BIAS * max(style.smile, 0.0)),
        "mouthFrownLeft": np.full(T, SMILE_BIAS * max(-style.smile, 0.0)),
        "mouthFrownRight": np.full(T, SMILE_BIAS * max(-style.smile, 0.0)),
        "eyeBlinkLeft": blink, "eyeBlinkRight": blink,
    }
    channels.update(head_sway(T, fps, rng, gain))
    channels["neck_rx"] = channels["neck_rx"] + NOD_RAD * style.head_motion * accent
    channels.update(gaze(T, fps, rng))
    return channels
