"""Augmentation of synthetic speech, with every parameter recorded per clip.

Two kinds, applied in this order:
- timing (`retime`): a resampling speed change (pitch and tempo together, the
  cheap pitch shift) and a phase-vocoder tempo change; both rescale the phone
  times exactly, so targets rendered afterwards stay aligned;
- channel (`degrade`): EQ, reverberation (synthetic exponential-decay impulse
  response), noise, level and clipping; all keep the length, so the phones
  and the targets rendered from the clean timings still hold.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from ...audio.load import Audio, resample
from ...drivers.phonetic.phones import Phone
from .stretch import time_stretch

LOW_SHELF_HZ = 250.0
MID_BELL_HZ = 1500.0
HIGH_SHELF_HZ = 4000.0
SHELF_OCTAVES = 1.0          # width of the shelves' transition, octaves
BELL_OCTAVES = 1.0           # standard deviation of the mid bell, octaves
DECAY_60DB = math.log(1000.0)  # amplitude falls by 60 dB (1/1000) after rt60 seconds
MAX_IR_SECONDS = 1.0
TINY = 1e-12


@dataclass(frozen=True)
class Augmentation:
    """The augmentation of one clip; defaults are "none"."""

    speed: float = 1.0          # resampling factor: pitch x speed, duration / speed
    tempo: float = 1.0          # time-stretch factor, pitch kept: duration / tempo
    eq_low_db: float = 0.0      # gain below LOW_SHELF_HZ
    eq_mid_db: float = 0.0      # gain of a bell at MID_BELL_HZ
    eq_high_db: float = 0.0     # gain above HIGH_SHELF_HZ
    reverb_rt60: float = 0.0    # reverberation time, seconds (0 = dry)
    reverb_wet: float = 0.0     # reverberant share of the mix, 0..1
    noise_snr_db: float = math.inf  # speech-to-noise ratio (inf = no noise)
    noise_color: float = 0.0    # noise spectrum ~ 1 / f**color: 0 white, 1 pink, 2 brown
    clip_drive_db: float = 0.0  # gain into a hard clipper at full scale (0 = no clipping)
    level_db: float = -1.0      # final peak level, dB full scale

    def to_dict(self) -> dict[str, float]:
        """{name: value} of every parameter."""
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> "Augmentation":
        """The inverse of `to_dict`; unknown names are ignored (older shards may lack new ones)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in values.items() if k in known})


AUGMENTATION_NAMES = tuple(f.name for f in fields(Augmentation))


def retime(audio: Audio, phones: list[Phone], augmentation: Augmentation) -> tuple[Audio, list[Phone]]:
    """Apply the speed and tempo changes: audio [N] -> [round(N / speed / tempo)] (each step
    rounds its own length), phone times divided by speed x tempo."""
    audio, phones = change_speed(audio, phones, augmentation.speed)
    return change_tempo(audio, phones, augmentation.tempo)


def change_speed(audio: Audio, phones: list[Phone], speed: float) -> tuple[Audio, list[Phone]]:
    """Play faster (speed > 1, higher pitch) by resampling: samples [N] -> [round(N / speed)]."""
    if speed == 1.0:
        return audio, phones
    samples = resample(audio.samples, int(round(audio.rate * speed)), audio.rate)
    return _with_length(audio, samples, round(audio.samples.shape[0] / speed)), scale_times(phones, 1.0 / speed)


def change_tempo(audio: Audio, phones: list[Phone], tempo: float) -> tuple[Audio, list[Phone]]:
    """Speak faster (tempo > 1) at the same pitch (phase vocoder): samples [N] -> [round(N / tempo)]."""
    if tempo == 1.0:
        return audio, phones
    samples = time_stretch(audio.samples, tempo)
    return _with_length(audio, samples, round(audio.samples.shape[0] / tempo)), scale_times(phones, 1.0 / tempo)


def scale_times(phones: list[Phone], factor: float) -> list[Phone]:
    """Phones with start and end multiplied by `factor`."""
    return [Phone(p.label, p.start * factor, p.end * factor) for p in phones]


def degrade(audio: Audio, augmentation: Augmentation, rng: np.random.Generator) -> Audio:
    """Apply EQ, reverb, noise, clipping and level; samples [N] -> [N] within [-1, 1]."""
    x = equalize(audio.samples, audio.rate, augmentation.eq_low_db, augmentation.eq_mid_db, augmentation.eq_high_db)
    x = reverberate(x, audio.rate, augmentation.reverb_rt60, augmentation.reverb_wet, rng)
    x = add_noise(x, audio.rate, augmentation.noise_snr_db, augmentation.noise_color, rng)
    x = clip(x, augmentation.clip_drive_db)
    return Audio(set_level(x, augmentation.level_db), audio.rate, audio.source)


def equalize(x: np.ndarray, rate: int, low_db: float, mid_db: float, high_db: float) -> np.ndarray:
    """Zero-phase three-band EQ (low shelf, mid bell, high shelf) in the frequency domain; [N] -> [N]."""
    if low_db == mid_db == high_db == 0.0:
        return x
    octaves = np.log2(np.maximum(np.fft.rfftfreq(x.shape[0], 1.0 / rate), 1.0))
    gain_db = (low_db * _sigmoid((math.log2(LOW_SHELF_HZ) - octaves) / SHELF_OCTAVES)
               + mid_db * np.exp(-0.5 * ((octaves - math.log2(MID_BELL_HZ)) / BELL_OCTAVES) ** 2)
               + high_db * _sigmoid((octaves - math.log2(HIGH_SHELF_HZ)) / SHELF_OCTAVES))
    spectrum = np.fft.rfft(x) * 10.0 ** (gain_db / 20.0)
    return np.fft.irfft(spectrum, n=x.shape[0]).astype(np.float32)


def impulse_response(rate: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """A synthetic room response [L]: noise under an exponential decay reaching -60 dB at `rt60`
    seconds (L = min(rt60, MAX_IR_SECONDS) * rate), unit energy."""
    length = max(1, int(min(rt60, MAX_IR_SECONDS) * rate))
    t = np.arange(length) / rate
    ir = rng.standard_normal(length) * np.exp(-DECAY_60DB * t / rt60)
    return (ir / math.sqrt(float(np.sum(ir ** 2)) + TINY)).astype(np.float32)


def reverberate(x: np.ndarray, rate: int, rt60: float, wet: float, rng: np.random.Generator) -> np.ndarray:
    """Mix `wet` of the signal convolved with `impulse_response`; [N] -> [N] (the tail is cut)."""
    if rt60 <= 0.0 or wet <= 0.0:
        return x
    from scipy.signal import fftconvolve

    reverberant = fftconvolve(x, impulse_response(rate, rt60, rng))[: x.shape[0]]
    return ((1.0 - wet) * x + wet * reverberant).astype(np.float32)


def noise(n: int, color: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-power noise [n] with a 1 / f**color power spectrum."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    frequency = np.maximum(np.arange(spectrum.shape[0]), 1.0)
    shaped = np.fft.irfft(spectrum / frequency ** (color / 2.0), n=n)
    return (shaped / math.sqrt(float(np.mean(shaped ** 2)) + TINY)).astype(np.float32)


def add_noise(x: np.ndarray, rate: int, snr_db: float, color: float, rng: np.random.Generator) -> np.ndarray:
    """x [N] plus noise at `snr_db` below the signal's mean power (inf = none); [N] -> [N]."""
    if math.isinf(snr_db):
        return x
    power = float(np.mean(x.astype(np.float64) ** 2))
    return (x + noise(x.shape[0], color, rng) * math.sqrt(power / 10.0 ** (snr_db / 10.0))).astype(np.float32)


def clip(x: np.ndarray, drive_db: float) -> np.ndarray:
    """Normalise the peak to full scale, amplify by `drive_db` and hard-clip at +-1; [N] -> [N]."""
    if drive_db <= 0.0:
        return x
    peak = float(np.max(np.abs(x))) + TINY
    return np.clip(x / peak * 10.0 ** (drive_db / 20.0), -1.0, 1.0).astype(np.float32)


def set_level(x: np.ndarray, level_db: float) -> np.ndarray:
    """x [N] scaled so its peak is `level_db` dB full scale (<= 0), bounded to [-1, 1]."""
    peak = float(np.max(np.abs(x)))
    if peak <= 0.0:
        return x.astype(np.float32)
    return np.clip(x * (10.0 ** (min(level_db, 0.0) / 20.0) / peak), -1.0, 1.0).astype(np.float32)


def _with_length(audio: Audio, samples: np.ndarray, length: int) -> Audio:
    """Audio with `samples` cut or zero-padded to exactly `length`."""
    fitted = np.zeros(length, np.float32)
    fitted[: min(length, samples.shape[0])] = samples[:length]
    return Audio(fitted, audio.rate, audio.source)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))
