"""Decode any audio file to mono float32 at the analysis rate, with one-sentence errors.

WAV (8/16/24/32-bit int, float), FLAC and OGG decode through libsndfile
(`soundfile`); MP3 and other containers through ffmpeg (or audioread). Files
are streamed in blocks (see `stream.py`), so a 60-minute file needs little
more memory than its 16 kHz result. Silence, clipping and DC offset are valid
input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from ..errors import AudioError
from ..progress import Reporter
from .stream import (ANALYSIS_RATE, MAX_RATE, MIN_RATE, NOT_AUDIO_SIGNATURES, RESAMPLE_QUALITY, decode_chunks,
                     probe_audio, to_mono)

LOAD_CHUNK_SECONDS = 10.0     # native audio decoded per block (and between progress/cancel points)
GROWTH = 1.5                  # how much the result buffer grows when the length estimate was short
SAMPLES_PER_BYTE = 64        # no codec packs more native samples than this into a byte of file
# The file suffixes a folder of voices is read by (batch, training pairs): what `load_audio` decodes,
# libsndfile's formats and the common ones ffmpeg brings.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aiff", ".aif", ".opus")
MAX_SLACK = 0.1               # copy the result out when more than this fraction of its buffer is unused

__all__ = ["ANALYSIS_RATE", "AUDIO_SUFFIXES", "NOT_AUDIO_SIGNATURES", "Audio", "audio_from_array", "load_audio", "resample"]


@dataclass(frozen=True)
class Audio:
    """Decoded speech: samples [N] mono float32 at `rate` Hz, and where it came from."""

    samples: np.ndarray
    rate: int
    source: str = ""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[0] / self.rate


def load_audio(path, rate: int = ANALYSIS_RATE, min_duration: float = 0.0,
               reporter: Optional[Reporter] = None) -> Audio:
    """Read an audio file as mono float32 samples [N] at `rate` Hz, streamed in blocks.

    Raises AudioError (one sentence) for a missing file, an empty file, a file
    that is not audio, a truncated or corrupt file, NaN/inf samples, or a clip
    shorter than `min_duration` seconds (pass one frame's length). `reporter`
    gets one "decoding audio" stage; cancelling it raises Cancelled.
    """
    info = probe_audio(path)
    expected = min(int(np.ceil(info.frames * rate / info.rate)) + 1, _plausible_samples(info, rate))
    samples = gather(decode_chunks(info, rate, LOAD_CHUNK_SECONDS, reporter), expected)
    audio = Audio(samples, rate, str(info.path))
    if audio.duration < min_duration:
        raise AudioError(f"{info.name} is {audio.duration * 1000:.0f} ms long, shorter than one "
                         f"frame ({min_duration * 1000:.0f} ms); use a longer clip.")
    return audio


def _plausible_samples(info, rate: int) -> int:
    """An upper bound for the first buffer, in samples at `rate`: a header may claim hours that a small
    file cannot hold (the buffer grows when a file really holds more)."""
    return int(SAMPLES_PER_BYTE * info.path.stat().st_size * rate / info.rate) + 60 * rate


def gather(chunks: Iterable[np.ndarray], expected: int) -> np.ndarray:
    """Chunks [n_i] joined into float32 [sum n_i], written into one buffer of `expected` samples
    (grown when the estimate was short), so the chunks are never held twice."""
    out, n = np.empty(max(1, expected), np.float32), 0
    for chunk in chunks:
        if n + chunk.size > out.size:
            grown = np.empty(max(n + chunk.size, int(out.size * GROWTH)), np.float32)
            grown[:n] = out[:n]
            out = grown
        out[n:n + chunk.size] = chunk
        n += chunk.size
    return out[:n] if n >= (1.0 - MAX_SLACK) * out.size else out[:n].copy()


def audio_from_array(samples: np.ndarray, rate: int, target_rate: int = ANALYSIS_RATE) -> Audio:
    """Wrap samples [N] or [N, channels] already in memory as mono Audio at `target_rate`."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        raise AudioError("The audio holds no samples (zero length).")
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"The audio's sample rate must be a whole number of Hz from {MIN_RATE} to {MAX_RATE}, "
                         f"not {rate!r}.")
    return Audio(resample(to_mono(samples, "The audio"), rate, target_rate), target_rate, "<array>")


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling (soxr, high quality) in one go. samples [N] -> [N * target / rate]."""
    if rate == target_rate:
        return samples.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(samples, rate, target_rate, quality=RESAMPLE_QUALITY).astype(np.float32)
