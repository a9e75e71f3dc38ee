"""Exact resampling of frame-sampled channels to another frame rate.

Time grid: frame rates are rationals (`rational_fps` recognises the NTSC rates
24000/1001, 30000/1001, 60000/1001, ...), and frame k of a clip at rate r sits
at exactly k / r seconds.

Frame-count rule: a clip of T frames at rate r covers [0, T / r) seconds; at
rate r' it has round(T * r' / r) frames (halves round up, never fewer than 1),
computed in exact rational arithmetic. So 300 frames at 30 fps (10 s) become
240 frames at 23.976 fps (24000/1001; 240 frames last 10.01 s), 240 at 24 fps,
250 at 25, 300 at 29.97 and 600 at 60.

Values: between source frames a local cubic Hermite curve, modified Akima
("makima", the default: flat on flat runs, no ringing on steps, about 4x closer
than PCHIP on smooth motion, because PCHIP flattens every peak onto its nearest
sample) or PCHIP (never leaves the range of the two samples it joins). Going
down in rate, that curve is first low-passed by a windowed sinc (Lanczos-2,
cut off at the new Nyquist rate), integrated by quadrature on nodes symmetric
about each new frame, and clamped to the range the curve takes in the window,
so fast motion does not alias and steps do not ring.

Ends: inside the low-pass window the curve continues past the first and last
source frames by odd reflection (2 x[0] - x[-u], a linear continuation), so
constants and ramps stay exact up to the ends. New frames whose time falls past
the last source frame (less than one source frame, by the count rule) continue
the curve but never leave the channel's range (a ramp holds its last value).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import MotionClipError, shown

NTSC_TOLERANCE = 1e-5          # relative: 23.976 and 29.97 are NTSC rates
MAX_DENOMINATOR = 1001         # any other rate is the nearest fraction with this denominator
LANCZOS_LOBES = 2              # kernel support: +-2 new frames
NODES_PER_SOURCE_FRAME = 4     # quadrature density of the low-pass
MAX_NODES = 512
CHUNK_ELEMENTS = 1 << 22       # frames x nodes x channels evaluated at once
METHODS = ("makima", "pchip")


def rational_fps(fps) -> Fraction:
    """The exact rational frame rate for a float (or Fraction) rate.

    23.976 and 23.976023976... both give 24000/1001; 29.97 gives 30000/1001;
    24.0 gives 24; 12.5 gives 25/2; other rates are the fraction with
    denominator <= 1001 that equals the float to 1e-9, else the float exactly.
    """
    if isinstance(fps, Fraction) and fps > 0:
        return fps
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not np.isfinite(fps) or fps <= 0:
        raise MotionClipError(f"The frame rate must be a positive finite number, not {shown(fps)}.")
    fps = float(fps)
    base = round(fps * 1.001)
    if base > 0 and abs(fps - base / 1.001) <= NTSC_TOLERANCE * fps:
        return Fraction(base * 1000, 1001)
    nearest = Fraction(fps).limit_denominator(MAX_DENOMINATOR)
    if nearest == 0 or abs(nearest - Fraction(fps)) > Fraction(1, 10**9) * Fraction(fps):
        return Fraction(fps)    # an odd rate: the float itself, exactly
    return nearest


def resampled_frame_count(num_frames: int, fps, new_fps) -> int:
    """round(T * new_fps / fps), halves up, in exact rational arithmetic (at least 1)."""
    exact = num_frames * rational_fps(new_fps) / rational_fps(fps)
    return max(1, int((exact + Fraction(1, 2)) // 1))


def frame_times(num_frames: int, fps) -> np.ndarray:
    """Times [T] in seconds of frames 0..T-1: exactly k / fps, rounded once to float64."""
    rate = rational_fps(fps)
    k = np.arange(num_frames, dtype=np.float64)
    return k * rate.denominator / rate.numerator


def source_positions(num_frames: int, fps, new_fps) -> np.ndarray:
    """Where each new frame falls on the source grid, in source frames [T'].

    New frame k sits at k * fps / new_fps source frames, computed from integers.
    """
    ratio = rational_fps(fps) / rational_fps(new_fps)
    k = np.arange(resampled_frame_count(num_frames, fps, new_fps), dtype=np.int64)
    whole = (k * ratio.numerator) // ratio.denominator
    rest = (k * ratio.numerator) % ratio.denominator
    return whole + rest / ratio.denominator


def resample_values(values: np.ndarray, fps, new_fps, method: str = "makima") -> np.ndarray:
    """Channels [T, C] at `fps` -> [T', C] at `new_fps` (float32); see the module docstring.

    `method` is the interpolant between source frames, "makima" or "pchip".
    """
    if method not in METHODS:
        raise ValueError(f"unknown resampling method {method!r}; use one of {METHODS}")
    values = np.asarray(values, dtype=np.float64)
    if rational_fps(fps) == rational_fps(new_fps):
        return values.astype(np.float32)
    positions = source_positions(values.shape[0], fps, new_fps)
    if values.shape[0] == 1:
        return np.repeat(values, positions.size, axis=0).astype(np.float32)
    curve = _ReflectedCurve(values, method)
    step = float(rational_fps(fps) / rational_fps(new_fps))
    if step <= 1.0:
        out = _continued(curve, positions)
    else:
        out = _low_passed(curve, positions, step)
    return out.astype(np.float32)


class _ReflectedCurve:
    """A cubic Hermite curve through samples [T, C] at 0..T-1, oddly reflected past both ends."""

    def __init__(self, values: np.ndarray, method: str) -> None:
        from scipy.interpolate import Akima1DInterpolator, PchipInterpolator  # lazy: import engine stays fast
        self.values = values
        self.last = values.shape[0] - 1
        x = np.arange(values.shape[0], dtype=np.float64)
        if self.last > 0 and method == "makima":
            self.spline = Akima1DInterpolator(x, values, axis=0, method="makima")
        elif self.last > 0:
            self.spline = PchipInterpolator(x, values, axis=0)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        """Values [..., C] at source positions u [...]."""
        if self.last == 0:
            return np.broadcast_to(self.values[0], u.shape + self.values.shape[1:]).copy()
        u = np.asarray(u, dtype=np.float64)
        low, high = u < 0, u > self.last
        inner = np.clip(np.where(low, -u, np.where(high, 2 * self.last - u, u)), 0, self.last)
        out = self.spline(inner)
        out = np.where(low[..., None], 2 * self.values[0] - out, out)
        return np.where(high[..., None], 2 * self.values[-1] - out, out)


def _continued(curve: _ReflectedCurve, positions: np.ndarray) -> np.ndarray:
    """The curve at positions [T'] -> [T', C]; past the last sample it continues but stays in the channel's range."""
    out = curve(positions)
    past = positions > curve.last
    out[past] = np.clip(out[past], curve.values.min(axis=0), curve.values.max(axis=0))
    return out


def _lanczos_nodes(step: float) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric quadrature offsets [N] (in new frames) and normalised weights [N]."""
    count = int(np.ceil(2 * LANCZOS_LOBES * step * NODES_PER_SOURCE_FRAME))
    count = int(np.clip(count, 8, MAX_NODES))
    s = -LANCZOS_LOBES + (np.arange(count) + 0.5) * (2 * LANCZOS_LOBES / count)
    weights = np.sinc(s) * np.sinc(s / LANCZOS_LOBES)
    return s, weights / weights.sum()


def _low_passed(curve: _ReflectedCurve, positions: np.ndarray, step: float) -> np.ndarray:
    """The curve convolved with a Lanczos-2 kernel one new frame wide, at positions [T'] -> [T', C].

    The kernel's nodes are symmetric about each position, so constants and
    ramps come through exactly; the result is clamped to the range the curve
    itself takes over the window (held, not reflected, past the ends).
    """
    offsets, weights = _lanczos_nodes(step)
    channels = curve.values.shape[1]
    chunk = max(1, CHUNK_ELEMENTS // (offsets.size * max(channels, 1)))
    out = np.empty((positions.size, channels), dtype=np.float64)
    for start in range(0, positions.size, chunk):
        u = positions[start:start + chunk, None] + offsets[None, :] * step
        window = curve(u)                                  # [n, N, C]
        filtered = np.einsum("nkc,k->nc", window, weights)
        held = np.where((u < 0)[..., None], curve.values[0], curve.values[-1])
        real = np.where(((u >= 0) & (u <= curve.last))[..., None], window, held)
        out[start:start + chunk] = np.clip(filtered, real.min(axis=1), real.max(axis=1))
    return out
