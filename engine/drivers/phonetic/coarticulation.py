"""Coarticulation: phones with timings -> smooth mouth channels at any frame rate.

A dominance model after Cohen & Massaro (1993). Every viseme segment s has a
target T_s and, per channel group (lips, jaw), a dominance over time

    D_s(t) = alpha_s * exp(-(|t - c_s| / w_s) ** POWER)

centred on the segment, wider before it than after (lip rounding is
anticipated). A channel's value is the dominance-weighted mean of the
targets of the segments around t, so neighbouring phones blend and strong
segments (bilabials, rounded vowels) win over weak ones (t, d, k, h).

Two constraints are then enforced on top of the blend, because a viewer
notices them at once: the lips close on every p, b and m (at least one frame,
at any frame rate), and the lower lip comes up to the teeth on f and v.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...style import NEUTRAL, SpeakingStyle
from .phones import BILABIALS, LABIODENTALS, SILENCE, Phone
from .visemes import JAW, LIP_CHANNELS, LIP_GAP_MM, MOUTH_CHANNELS, PHONE_VISEMES, VISEMES, lip_gap_mm

POWER = 1.5                 # shape of the dominance falloff (1 = exponential, 2 = Gaussian)
BASE_WIDTH_S = 0.045        # dominance half-width of a segment, plus ...
DURATION_WIDTH = 0.35       # ... this fraction of its duration
ANTICIPATION = 1.4          # the dominance reaches this much further before a segment than after it
NEIGHBOURS = 5              # segments each side of a frame's own that can influence it
CLOSED_GAP_MM = -1.0        # lips pressed slightly together on p/b/m
TEETH_GAP_MM = 2.5          # lower lip at the upper teeth on f/v
TEETH_ROLL = 0.55           # at least this much mouthRollLower on f/v
CONSTRAINT_RAMP_S = 0.035   # constraints fade in and out over this time around their phone
CLOSE_PER_MM = -1.0 / LIP_GAP_MM["mouthClose"]
SHORT_PAUSE_S = 0.2         # silences shorter than this between phones do not close the mouth


def segments(phones: Sequence[Phone]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Viseme segments of the phones: names [S], starts [S] and ends [S] (s).
    Diphthongs give two segments (first and second half); a short pause between phones is a
    weak "pause" segment, so the mouth does not snap shut between words."""
    names, starts, ends = [], [], []
    for k, p in enumerate(phones):
        inside = 0 < k < len(phones) - 1
        parts = ("pause",) if p.label == SILENCE and inside and p.duration < SHORT_PAUSE_S else PHONE_VISEMES[p.label]
        edges = np.linspace(p.start, p.end, len(parts) + 1)
        for name, a, b in zip(parts, edges[:-1], edges[1:]):
            names.append(name)
            starts.append(a)
            ends.append(b)
    return names, np.asarray(starts, np.float64), np.asarray(ends, np.float64)


def articulate(phones: Sequence[Phone], times: np.ndarray,
               style: SpeakingStyle = NEUTRAL) -> dict[str, np.ndarray]:
    """Mouth channels {name: [T] float32} at `times` [T] (s) from phones with timings.

    Outside the phones (before the first, after the last) the mouth rests.
    The style's `articulation` scales every mouth shape and `smoothness` the
    dominance widths.
    """
    times = np.asarray(times, np.float64)
    names, starts, ends = segments(phones)
    if not names:
        return {c: np.zeros(times.shape, np.float32) for c in MOUTH_CHANNELS}
    targets, lip_alpha, jaw_alpha, spread = _segment_table(names)
    centres = 0.5 * (starts + ends)
    widths = (BASE_WIDTH_S + DURATION_WIDTH * (ends - starts)) * style.smoothness
    near = _neighbourhood(starts, times)                                   # [T, K]
    offset = times[:, None] - centres[near]                               # [T, K]
    lip_d = _dominance(offset, widths[near] * spread[near], lip_alpha[near])
    jaw_d = _dominance(offset, widths[near], jaw_alpha[near])
    values = {}
    for c, channel in enumerate(MOUTH_CHANNELS):
        d = jaw_d if channel == JAW else lip_d
        values[channel] = np.sum(d * targets[near, c], axis=1) / np.maximum(np.sum(d, axis=1), 1e-12)
    values = {k: v * style.articulation for k, v in values.items()}
    _enforce_constraints(values, phones, times, style)
    return {k: np.clip(v, 0.0, None if k == JAW else 1.0).astype(np.float32) for k, v in values.items()}


def _segment_table(names: list[str]):
    """Per segment: targets [S, C] (MOUTH_CHANNELS order), lip and jaw dominance [S], lip spread [S]."""
    visemes = [VISEMES[n] for n in names]
    targets = np.array([[v.channels().get(c, 0.0) for c in MOUTH_CHANNELS] for v in visemes])
    lip_alpha = np.array([v.lips for v in visemes])
    jaw_alpha = np.array([v.jaw for v in visemes])
    spread = np.array([v.spread for v in visemes])
    return targets, lip_alpha, jaw_alpha, spread


def _neighbourhood(starts: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Indices [T, 2 * NEIGHBOURS + 1] of the segments around each time (clipped at the ends,
    so an index may repeat; repeats only re-weight the edge segment, which is the same target)."""
    own = np.searchsorted(starts, times, side="right") - 1
    window = own[:, None] + np.arange(-NEIGHBOURS, NEIGHBOURS + 1)[None, :]
    return np.clip(window, 0, starts.shape[0] - 1)


def _dominance(offset: np.ndarray, width: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """alpha * exp(-(|offset| / width) ** POWER), wider by ANTICIPATION before the centre (offset < 0)."""
    scaled = np.where(offset < 0, width * ANTICIPATION, width)
    return alpha * np.exp(-np.power(np.abs(offset) / scaled, POWER))


def _enforce_constraints(values: dict, phones: Sequence[Phone], times: np.ndarray,
                         style: SpeakingStyle) -> None:
    """Close the lips on bilabials and bring the lower lip to the teeth on labiodentals, in place."""
    if style.articulation <= 0.0:
        return
    ramp = CONSTRAINT_RAMP_S * style.smoothness
    closing = constraint_weight([p for p in phones if p.label in BILABIALS], times, ramp)
    teeth = constraint_weight([p for p in phones if p.label in LABIODENTALS], times, ramp)
    values["mouthRollLower"] = np.maximum(values["mouthRollLower"], teeth * TEETH_ROLL * min(1.0, style.articulation))
    for weight, gap in ((closing, CLOSED_GAP_MM), (teeth, TEETH_GAP_MM)):
        excess = np.maximum(lip_gap_mm(values) - gap, 0.0)
        close = values["mouthClose"] + weight * excess * CLOSE_PER_MM
        values["mouthClose"] = np.minimum(close, 1.0)
        # what mouthClose cannot take up (a wide-open, exaggerated jaw) the jaw gives back
        values[JAW] = values[JAW] - np.maximum(close - 1.0, 0.0) / CLOSE_PER_MM / LIP_GAP_MM[JAW]


def constraint_weight(phones: Sequence[Phone], times: np.ndarray, ramp: float) -> np.ndarray:
    """[T] in [0, 1]: 1 during each phone (widened to contain at least the frame nearest its
    centre), fading to 0 over `ramp` seconds outside it."""
    weight = np.zeros(times.shape)
    if not phones or times.size == 0:
        return weight
    half_step = 0.5 * float(np.median(np.diff(times))) if times.size > 1 else 0.0
    for p in phones:
        centre = 0.5 * (p.start + p.end)
        start, end = min(p.start, centre - half_step), max(p.end, centre + half_step)
        lo, hi = np.searchsorted(times, [start - ramp, end + ramp])  # only the frames it reaches
        t = times[lo:hi]
        outside = np.maximum(np.maximum(start - t, t - end), 0.0)
        weight[lo:hi] = np.maximum(weight[lo:hi], np.clip(1.0 - outside / max(ramp, 1e-6), 0.0, 1.0))
    return weight


__all__ = ["articulate", "segments", "constraint_weight", "LIP_CHANNELS"]
