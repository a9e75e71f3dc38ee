"""Decode any audio file to mono float32 at the analysis rate, with one-sentence errors.

WAV (8/16/24/32-bit int, float), FLAC and OGG decode through libsndfile
(`soundfile`); MP3 and other containers fall back to librosa/audioread
(ffmpeg). Silence, clipping and DC offset are valid input.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AudioError

ANALYSIS_RATE = 16000
NOT_AUDIO_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive",
    b"GIF8": "a GIF image",
}


@dataclass(frozen=True)
class Audio:
    """Decoded speech: samples [N] mono float32 at `rate` Hz, and where it came from."""

    samples: np.ndarray
    rate: int
    source: str = ""

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.rate


def load_audio(path, rate: int = ANALYSIS_RATE, min_duration: float = 0.0) -> Audio:
    """Read an audio file as mono float32 at `rate` Hz.

    Raises AudioError (one sentence) for a missing file, an empty file, a file
    that is not audio, a truncated or corrupt file, NaN/inf samples, or a clip
    shorter than `min_duration` seconds (pass one frame's length).
    """
    path = Path(path)
    _check_file(path)
    samples, native_rate = _decode(path)
    mono = _checked_mono(samples, f"'{path.name}'")
    audio = Audio(resample(mono, native_rate, rate), rate, str(path))
    if audio.duration < min_duration:
        raise AudioError(f"'{path.name}' is {audio.duration * 1000:.0f} ms long, shorter than one "
                         f"frame ({min_duration * 1000:.0f} ms); use a longer clip.")
    return audio


def audio_from_array(samples: np.ndarray, rate: int, target_rate: int = ANALYSIS_RATE) -> Audio:
    """Wrap samples [N] or [N, channels] already in memory as mono Audio at `target_rate`."""
    mono = _checked_mono(samples, "The audio")
    return Audio(resample(mono, rate, target_rate), target_rate, "<array>")


def _checked_mono(samples: np.ndarray, subject: str) -> np.ndarray:
    """Samples [N] or [N, channels] -> mono float32 [N]; AudioError (naming `subject`) when
    there are no samples or any is NaN/inf."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        raise AudioError(f"{subject} holds no samples (zero length).")
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"{subject} contains NaN or infinite samples; re-export it as PCM audio.")
    return samples.mean(axis=1) if samples.ndim == 2 else samples


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling (soxr, high quality). samples [N] -> [N * target / rate]."""
    if rate == target_rate:
        return samples.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(samples, rate, target_rate, quality="HQ").astype(np.float32)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"The audio file '{path}' does not exist.")
    if path.is_dir():
        raise AudioError(f"'{path}' is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioError(f"The audio file '{path.name}' is empty (0 bytes).")
    with open(path, "rb") as f:
        head = f.read(8)
    for signature, kind in NOT_AUDIO_SIGNATURES.items():
        if head.startswith(signature):
            raise AudioError(f"'{path.name}' is not audio: it is {kind}.")


def _decode(path: Path):
    """samples [N] or [N, channels] float32 and the native rate; AudioError when nothing can read it."""
    import soundfile

    try:
        with soundfile.SoundFile(str(path)) as f:
            expected = f.frames
            data = f.read(dtype="float32", always_2d=True)
        if expected > 0 and data.shape[0] < expected:
            raise AudioError(f"'{path.name}' is truncated: it ends after {data.shape[0]} of {expected} samples.")
        return data, f.samplerate
    except soundfile.LibsndfileError as error:
        if _has_sndfile_header(path):
            raise AudioError(f"'{path.name}' is a corrupt or truncated audio file ({error}).") from None
    return _decode_with_ffmpeg(path)


SNDFILE_HEADERS = (b"RIFF", b"RIFX", b"RF64", b"fLaC", b"OggS")  # WAV, FLAC, OGG: libsndfile's own


def _has_sndfile_header(path: Path) -> bool:
    """True when the file starts like a WAV, FLAC or OGG file (so ffmpeg would not do better)."""
    with open(path, "rb") as f:
        return f.read(4) in SNDFILE_HEADERS


def _decode_with_ffmpeg(path: Path):
    import librosa

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data, rate = librosa.load(str(path), sr=None, mono=False)
    except Exception as error:  # audioread raises many unrelated types; all mean "cannot decode"
        raise AudioError(f"'{path.name}' is not a readable audio file "
                         f"({type(error).__name__}); use WAV, FLAC, OGG or MP3.") from None
    data = data.T if data.ndim == 2 else data  # librosa: [channels, N] -> [N, channels]
    return data.astype(np.float32), int(rate)
