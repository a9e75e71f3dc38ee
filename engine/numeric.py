"""numpy versions of the three scipy functions the animate path needs, so it never imports scipy.

`import scipy.signal` costs about 0.9 s (it pulls in scipy.stats), scipy.ndimage 0.35 s and
scipy.fft 0.3 s (scipy.special): more than the whole `python -m engine animate` run on a minute of
speech should take. These give scipy's results (tests/engine/test_numeric.py holds them to it):

    smooth(x, sigma)            == scipy.ndimage.gaussian_filter1d(x, sigma, mode=...)   ('reflect', 'wrap')
    peaks_above(x, height, gap) == scipy.signal.find_peaks(x, height=height, distance=gap)
    fast_fft_size(n)            == scipy.fft.next_fast_len(n, real=True)
"""

from __future__ import annotations

import math

import numpy as np

PAD_MODES = {"reflect": "symmetric", "wrap": "wrap"}  # scipy.ndimage's names -> np.pad's


def smooth(x: np.ndarray, sigma: float, mode: str = "reflect", truncate: float = 4.0) -> np.ndarray:
    """x [N] convolved with a normalised Gaussian of `sigma` samples cut at `truncate` sigmas, its ends
    extended by `mode` ('reflect': d c b a | a b c d | d c b a; 'wrap': the other end); float dtype kept."""
    x = np.asarray(x)
    radius = int(truncate * float(sigma) + 0.5)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 / (float(sigma) ** 2) * offsets ** 2)
    weights /= weights.sum()
    padded = np.pad(x.astype(np.float64), radius, mode=PAD_MODES[mode])
    out = np.convolve(padded, weights, mode="valid")
    return out.astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64)


def peaks_above(x: np.ndarray, height: float, gap: float = 1) -> tuple[np.ndarray, np.ndarray]:
    """Indices [P] of the local maxima of x [N] (a flat top counts once, at its middle; never an end
    sample) at least `height` high, and no two closer than `gap` samples (the higher kept), with
    their heights [P]."""
    x = np.asarray(x, dtype=np.float64)
    peaks = _local_maxima(x)
    peaks = peaks[x[peaks] >= height]
    if gap > 1 and peaks.size > 1:
        peaks = peaks[_spaced(peaks, x[peaks], math.ceil(gap))]
    return peaks, x[peaks]


def _local_maxima(x: np.ndarray) -> np.ndarray:
    """Middles [P] of the runs of equal samples higher than both neighbouring runs, ends excluded."""
    if x.size < 3:
        return np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(np.concatenate([[True], x[1:] != x[:-1]]))
    ends = np.concatenate([starts[1:], [x.size]]) - 1
    values = x[starts]
    inner = np.arange(1, starts.size - 1)
    higher = (values[inner] > values[inner - 1]) & (values[inner] > values[inner + 1])
    run = inner[higher]
    return (starts[run] + ends[run]) // 2


def _spaced(peaks: np.ndarray, heights: np.ndarray, gap: int) -> np.ndarray:
    """Mask [P] keeping peaks highest first, dropping those closer than `gap` to a kept one (scipy's order)."""
    keep = np.ones(peaks.size, dtype=bool)
    for j in np.argsort(heights)[::-1]:
        if not keep[j]:
            continue
        k = j - 1
        while k >= 0 and peaks[j] - peaks[k] < gap:
            keep[k] = False
            k -= 1
        k = j + 1
        while k < peaks.size and peaks[k] - peaks[j] < gap:
            keep[k] = False
            k += 1
    return keep


def fast_fft_size(n: int) -> int:
    """The smallest size >= n whose only prime factors are 2, 3 and 5 (FFTs of it are fast)."""
    size = max(1, int(n))
    while True:
        rest = size
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return size
        size += 1
