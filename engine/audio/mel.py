"""The Slaney mel scale and its triangular filterbank, in numpy.

Equal to `librosa.filters.mel(..., htk=False, norm="slaney")` (librosa's
default, after Slaney's Auditory Toolbox): the scale is linear below 1 kHz
and logarithmic above, and each triangle is scaled to unit area in Hz so
bands of different widths carry comparable energy.
"""

from __future__ import annotations

import numpy as np

LINEAR_HZ_PER_MEL = 200.0 / 3   # below BREAK_HZ, one mel is this many Hz
BREAK_HZ = 1000.0               # where the scale turns logarithmic
BREAK_MEL = BREAK_HZ / LINEAR_HZ_PER_MEL
LOG_STEP = np.log(6.4) / 27.0   # natural-log Hz ratio per mel above BREAK_HZ


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Frequencies [...] in Hz -> Slaney mels [...] (float64)."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / LINEAR_HZ_PER_MEL
    logarithmic = BREAK_MEL + np.log(np.maximum(hz, BREAK_HZ) / BREAK_HZ) / LOG_STEP
    return np.where(hz >= BREAK_HZ, logarithmic, linear)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Slaney mels [...] -> frequencies [...] in Hz (float64); the inverse of `hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * LINEAR_HZ_PER_MEL
    logarithmic = BREAK_HZ * np.exp(LOG_STEP * (np.maximum(mel, BREAK_MEL) - BREAK_MEL))
    return np.where(mel >= BREAK_MEL, logarithmic, linear)


def mel_filterbank(rate: float, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Triangular filters [n_mels, n_fft // 2 + 1] (float32) over the rfft bins of an n_fft frame.

    Band edges are n_mels + 2 points evenly spaced in mels from fmin to fmax
    (default: Nyquist); filter i rises from edge i to edge i+1 and falls to
    edge i+2, then is scaled by 2 / (edge i+2 - edge i) in Hz.
    """
    fmax = rate / 2.0 if fmax is None else fmax
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))  # [n_mels + 2]
    bins = np.fft.rfftfreq(n_fft, d=1.0 / rate)                                    # [n_fft // 2 + 1]
    widths = np.diff(edges)                                                         # [n_mels + 1]
    offsets = edges[:, None] - bins[None, :]                                        # [n_mels + 2, F]
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)
