"""What a style reference's own performance measures, for what the style encoder cannot carry.

The ADF network moves its brows only a little whatever its style code says (at most ~0.025
brow activity, where tracked talking videos show 0.04-0.4), and the style encoder reads only about
half of a video's blink rate. So beside the encoder's style, a reference performance (a tracked
video or any clip) is measured directly: its brow activity (the mean standard deviation of the
brow channels, after a short smoothing that takes out the tracker's frame-to-frame jitter) and its
blink rate (closures of both eyes well above the clip's own resting lid value, so that a tracker's
noisy, half-closed lids do not count; shrunk towards the neutral rate by PRIOR_S seconds of
evidence, since a 2 s clip shows 0 or 1 blinks). The blink rate becomes the style's `blink_rate`
(the procedural blinks every driver shares); the brow activity is the target that `match_brows`
scales the performed brow channels to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..style import NEUTRAL, RANGES, SpeakingStyle

BROWS = ("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight")
BLINKS = ("eyeBlinkLeft", "eyeBlinkRight")
SMOOTH_S = 0.2           # brows: a centred moving average this long before their deviation is taken
CLOSED = 0.5             # a blink closes both lids at least this far ...
ABOVE_REST = 0.3         # ... and this far above the clip's median lid value
LONGEST_BLINK_S = 0.5    # a longer closure is not a blink (eyes shut, looking down)
PRIOR_S = 10.0           # seconds of the neutral blink rate the measured rate is shrunk towards
MAX_BROW_GAIN = 50.0


@dataclass(frozen=True)
class ReferenceStyle:
    """A style reference read two ways: `style` the encoder's SpeakingStyle with the measured blink
    rate, `brow_activity` the measured brow activity the performance's brows are matched to (None:
    the reference has no brow channels), `measured` what was measured."""

    style: SpeakingStyle
    brow_activity: float | None
    measured: dict = field(default_factory=dict)


def measure(clip) -> dict:
    """{"brow_activity", "blinks", "blinks_per_min" (shrunk), "blinks_per_min_seen", "seconds"} of a MotionClip."""
    names = {n: k for k, n in enumerate(clip.names)}
    seconds = clip.num_frames / clip.fps
    out = {"seconds": round(float(seconds), 3)}
    brows = [clip.values[:, names[n]] for n in BROWS if n in names]
    if brows:
        width = max(1, int(round(SMOOTH_S * clip.fps)))
        out["brow_activity"] = float(np.mean([np.std(_smoothed(b, width)) for b in brows]))
    if all(n in names for n in BLINKS):
        lids = np.minimum(*(clip.values[:, names[n]] for n in BLINKS))
        bridged = set(clip.metadata.get("bridged_frames", ()))
        count = blink_count(lids, clip.fps, bridged)
        minutes, prior = seconds / 60.0, PRIOR_S / 60.0
        out["blinks"] = count
        out["blinks_per_min_seen"] = float(count / max(minutes, 1e-9))
        out["blinks_per_min"] = float(np.clip((count + NEUTRAL.blink_rate * prior) / (minutes + prior),
                                              *RANGES["blink_rate"]))
    return out


def blink_count(lids: np.ndarray, fps: float, bridged=frozenset()) -> int:
    """Blinks in a lid closure curve [T] (both eyes' lesser closure): rises to at least CLOSED and
    ABOVE_REST over the median, back below halfway, within LONGEST_BLINK_S; none on bridged frames."""
    rest = float(np.median(lids))
    close = max(CLOSED, rest + ABOVE_REST)
    reopen = 0.5 * (close + rest)
    count, start = 0, None
    for t, v in enumerate(np.append(lids, -np.inf)):
        if start is None and v >= close:
            start = t
        elif start is not None and v < reopen:
            if t - start <= LONGEST_BLINK_S * fps and not bridged.intersection(range(start, t)):
                count += 1
            start = None
    return count


def _smoothed(values: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or len(values) < width:
        return values
    padded = np.pad(values, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, np.ones(width) / width, mode="valid")


def reference_style(clip, style: SpeakingStyle) -> ReferenceStyle:
    """The reference `clip`'s ReferenceStyle given the encoder's `style` of it."""
    measured = measure(clip)
    if "blinks_per_min" in measured:
        style = SpeakingStyle.from_dict({**style.to_dict(), "blink_rate": measured["blinks_per_min"]})
    return ReferenceStyle(style, measured.get("brow_activity"), measured)


def brow_activity(channels: dict) -> float:
    """The mean standard deviation of the brow channels in {name: [T]} (0 without any)."""
    brows = [np.asarray(channels[n], np.float64) for n in BROWS if n in channels]
    return float(np.mean([np.std(b) for b in brows])) if brows else 0.0


def match_brows(channels: dict, target: float) -> float:
    """Scale the brow channels of {name: [T]} in place about their means (kept in [0, 1]) until their
    brow activity is `target`; returns the gain (1 when there is nothing to scale)."""
    present = [n for n in BROWS if n in channels]
    original = {n: np.asarray(channels[n], np.float64) for n in present}
    now = brow_activity(original)
    if not present or now < 1e-6 or target is None:
        return 1.0
    gain = 1.0
    for _ in range(4):                  # clipping at 0 and 1 takes some activity back: aim again
        gain = float(np.clip(gain * target / max(brow_activity(_scaled(original, gain)), 1e-9), 0.0, MAX_BROW_GAIN))
    for n, v in _scaled(original, gain).items():
        channels[n] = v.astype(np.asarray(channels[n]).dtype)
    return gain


def _scaled(channels: dict, gain: float) -> dict:
    return {n: np.clip(v.mean() + gain * (v - v.mean()), 0.0, 1.0) for n, v in channels.items()}
