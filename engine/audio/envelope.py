"""Frame-wise loudness (RMS) and brightness (spectral centroid) of a signal, in numpy.

Framing as in librosa (`center=True, pad_mode="constant"`): frame t is
centred on sample t * hop, the signal is zero-padded by half a frame at
both ends, and a signal of N samples gives 1 + N // hop frames (even frame
lengths). `rms` equals `librosa.feature.rms(y=..., center=True)` and
`spectral_centroid` equals `librosa.feature.spectral_centroid(y=...)` (a
periodic Hann window as long as the FFT). Frames are processed
`BLOCK_FRAMES` at a time, so an hour of audio never builds one big matrix.
"""

from __future__ import annotations

import numpy as np

BLOCK_FRAMES = 4096   # frames analysed together (about 40 s at a 10 ms hop)


def rms(samples: np.ndarray, frame_length: int, hop: int) -> np.ndarray:
    """Root-mean-square level [T] (float32) of samples [N] over centred frames of frame_length."""
    return np.concatenate([np.sqrt(np.mean(np.square(block, dtype=np.float64), axis=1))
                           for block in _frame_blocks(samples, frame_length, hop)]).astype(np.float32)


def spectral_centroid(samples: np.ndarray, rate: float, n_fft: int, hop: int) -> np.ndarray:
    """Magnitude-weighted mean frequency [T] in Hz (float32) of Hann-windowed centred frames;
    0 for a frame with no energy."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann [n_fft]
    freqs = np.fft.rfftfreq(n_fft, d=1.0 / rate)                         # [n_fft // 2 + 1]
    out = []
    for block in _frame_blocks(samples, n_fft, hop):
        magnitude = np.abs(np.fft.rfft(block * window, axis=1))           # [B, n_fft // 2 + 1]
        total = magnitude.sum(axis=1)
        total[total < np.finfo(np.float32).tiny] = 1.0
        out.append(magnitude @ freqs / total)
    return np.concatenate(out).astype(np.float32)


def _frame_blocks(samples: np.ndarray, frame_length: int, hop: int):
    """Yield views [B, frame_length] of consecutive centred frames of samples [N] (float), B <= BLOCK_FRAMES."""
    half = frame_length // 2
    padded = np.pad(np.asarray(samples), (half, half))
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop]  # [T, frame_length]
    for start in range(0, frames.shape[0], BLOCK_FRAMES):
        yield frames[start:start + BLOCK_FRAMES]
