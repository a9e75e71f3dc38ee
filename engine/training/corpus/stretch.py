"""Time stretching at constant pitch: a phase vocoder in numpy (scipy's STFT).

Frames are read at fractional steps of `rate` frames; magnitudes are
interpolated between neighbouring frames and phases advanced by each bin's
measured instantaneous frequency, so partials stay coherent. Linear in time:
a sound at t seconds moves to t / rate.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import istft, stft

N_FFT = 512          # 32 ms at 16 kHz
HOP = N_FFT // 4


def time_stretch(x: np.ndarray, rate: float) -> np.ndarray:
    """x [N] played `rate` times faster at the same pitch: [round(N / rate)] float32."""
    length = int(round(x.shape[0] / rate))
    _, _, spectrum = stft(x, nperseg=N_FFT, noverlap=N_FFT - HOP, boundary="even", padded=True)
    stretched = phase_vocoder(spectrum, rate)
    _, y = istft(stretched, nperseg=N_FFT, noverlap=N_FFT - HOP, boundary=True)
    out = np.zeros(length, np.float32)
    out[: min(length, y.shape[0])] = y[:length]
    return out


def phase_vocoder(spectrum: np.ndarray, rate: float) -> np.ndarray:
    """STFT [F, K] -> [F, ceil(K / rate)]: frames read at steps 0, rate, 2 rate, ..."""
    steps = np.arange(0, spectrum.shape[1], rate)
    padded = np.pad(spectrum, ((0, 0), (0, 2)))
    left, frac = steps.astype(int), (steps % 1.0)[None, :]
    a, b = padded[:, left], padded[:, left + 1]
    magnitude = (1.0 - frac) * np.abs(a) + frac * np.abs(b)
    advance = np.pi * np.arange(spectrum.shape[0])[:, None] * HOP / (spectrum.shape[0] - 1)
    delta = np.angle(b) - np.angle(a) - advance
    delta -= 2.0 * np.pi * np.round(delta / (2.0 * np.pi))
    step = advance + delta
    phase = np.angle(spectrum[:, :1]) + np.cumsum(step, axis=1) - step  # phase before each step
    return magnitude * np.exp(1j * phase)
