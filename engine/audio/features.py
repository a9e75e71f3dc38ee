"""Speech features at a fixed hop: log-mel, energy, pitch and voicing (YIN), formants (LPC). Pure numpy.

This is the reference implementation every runtime feature is checked
against. Frame t is centred on sample t * hop (zero padding outside the
signal), as in `librosa.stft(center=True, pad_mode="constant")`. Long input is
processed `BLOCK_FRAMES` frames at a time, so a 60-minute file never builds a
full STFT. Everything is vectorised over frames: FFT power spectra, FFT-based
YIN, a batched Levinson recursion and LPC-envelope peak picking for formants.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

import numpy as np

from ..errors import AudioError, InputError
from ..numeric import fast_fft_size
from ..progress import Reporter, silent
from .load import Audio, resample
from .mel import mel_filterbank

BLOCK_FRAMES = 2048            # frames analysed together (about 20 s at a 10 ms hop)
MEL_FLOOR = 1e-10              # added to mel power before the log
ENERGY_FLOOR_DB = -100.0       # the energy of digital silence, dBFS
SILENCE_DB = -60.0             # frames quieter than this have no voicing
YIN_DIP = 0.15                 # the first dip of the YIN difference below this gives the period
VOICED_MAX_DIFFERENCE = 0.3    # a frame whose best YIN dip is above this is unvoiced
YIN_DEFINED = 1e-6             # a YIN mean difference below this fraction of the frame's energy is undefined
PRE_EMPHASIS = 0.97            # first-order high-pass before LPC (flattens the glottal tilt)
LPC_REGULARISATION = 1e-6      # white-noise correction on r[0] (-60 dB): keeps pure tones stable
FORMANT_FFT = 1024             # points of the LPC envelope searched for formant peaks
FORMANT_MIN_HZ = 150.0         # lower peaks are the glottal source, not a formant
FORMANT_EDGE_HZ = 100.0        # peaks this close to Nyquist are filter edges, not formants
FORMANT_MAX_BANDWIDTH_HZ = 800.0  # broader peaks are spectral tilt, not resonances
HALF_POWER = np.log(2.0)       # natural-log power drop that defines a peak's bandwidth
STD_FLOOR = 1e-5               # smallest standard deviation used by normalisation
LOUD_PERCENTILE = 95.0         # normalised energy is 0 dB at this percentile of the utterance
TINY = 1e-20


@dataclass(frozen=True)
class FeatureConfig:
    """How features are computed; `to_dict`/`from_dict` round-trip it (unknown keys are errors)."""

    rate: int = 16000          # sample rate of the input, Hz
    hop_s: float = 0.01        # frame spacing, s (rounded to whole samples)
    window_s: float = 0.025    # analysis window of log-mel, energy and formants, s
    n_mels: int = 40           # mel bands
    fmin: float = 60.0         # lowest mel band edge, Hz
    fmax: float = 7600.0       # highest mel band edge, Hz
    pitch_min: float = 60.0    # lowest pitch searched, Hz (also sets the YIN window)
    pitch_max: float = 500.0   # highest pitch searched, Hz
    lpc_order: int = 14        # LPC poles for the formant envelope
    n_formants: int = 3        # formants reported per frame
    voice: bool = True         # pitch, voicing and formants; False: log-mel and energy only (faster)

    def __post_init__(self) -> None:
        for broken, sentence in _config_problems(self):
            if broken:
                raise InputError(f"FeatureConfig: {sentence}.")

    def to_dict(self) -> dict:
        """The settings as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureConfig":
        """Settings from a dict; missing keys take defaults, unknown keys raise InputError."""
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise InputError(f"FeatureConfig has no setting {', '.join(sorted(unknown))}; check the spelling.")
        return cls(**d)

    @property
    def hop(self) -> int:
        """Frame spacing in samples."""
        return max(1, int(round(self.rate * self.hop_s)))

    @property
    def window(self) -> int:
        """Analysis window in samples."""
        return max(2, int(round(self.rate * self.window_s)))


def _config_problems(c: FeatureConfig) -> list:
    """(is broken, what to fix) for every rule a config must follow."""
    nyquist = c.rate / 2
    return [(c.rate <= 0, f"the rate must be positive, not {c.rate}"),
            (not c.hop_s > 0 or not c.window_s > 0, "hop_s and window_s must be positive"),
            (c.n_mels < 1, "n_mels must be at least 1"),
            (not 0 <= c.fmin < c.fmax <= nyquist, f"need 0 <= fmin < fmax <= {nyquist:g} Hz"),
            (not 0 < c.pitch_min < c.pitch_max <= c.rate / 4, f"need 0 < pitch_min < pitch_max <= {c.rate / 4:g} Hz"),
            (c.n_formants < 1 or c.lpc_order < 2 * c.n_formants, "lpc_order must be at least 2 * n_formants >= 2")]


@dataclass(frozen=True)
class Features:
    """Frame-wise features of one utterance, T frames at config.hop_s."""

    times: np.ndarray          # [T] s, frame centres (frame t centred at t * hop)
    log_mel: np.ndarray        # [T, n_mels] float32, natural log of mel power (+ MEL_FLOOR)
    energy_db: np.ndarray      # [T] float32, RMS level in dBFS (floor ENERGY_FLOOR_DB)
    pitch_hz: np.ndarray       # [T] float32, 0 where unvoiced
    voicing: np.ndarray        # [T] float32 in [0, 1], periodicity strength
    formants_hz: np.ndarray    # [T, n_formants] float32, NaN where unvoiced or not found
    config: FeatureConfig

    @property
    def num_frames(self) -> int:
        """T, the number of frames."""
        return int(self.times.shape[0])


@dataclass(frozen=True)
class AnalysisPlan:
    """Constants derived once per config: sizes, window, filterbank, lags."""

    rate: int
    n_formants: int
    lpc_order: int
    hop: int
    window: int
    voice: bool                # compute pitch, voicing and formants
    n_fft: int                 # next power of two >= window + lpc_order
    hann: np.ndarray           # [window] float32, periodic Hann
    mel: np.ndarray            # [n_mels, n_fft // 2 + 1] float32, Slaney filterbank
    emphasis: np.ndarray       # [n_fft // 2 + 1] float32, |1 - a e^-jw|^2
    min_lag: int
    max_lag: int               # also the YIN integration window
    pitch_fft: int             # a fast FFT size >= 2 * max_lag
    reach: int                 # samples either side of a frame centre that any frame touches


@lru_cache(maxsize=8)
def analysis_plan(config: FeatureConfig) -> AnalysisPlan:
    """The constants `compute_features` needs for `config` (cached)."""
    c, window = config, config.window
    n_fft = 1 << (window + c.lpc_order - 1).bit_length()  # room for the LPC lags without wrap-around
    mel = mel_filterbank(c.rate, n_fft, c.n_mels, c.fmin, c.fmax)
    w = 2 * np.pi * np.arange(n_fft // 2 + 1) / n_fft
    max_lag = int(np.ceil(c.rate / c.pitch_min))
    return AnalysisPlan(
        rate=c.rate, n_formants=c.n_formants, lpc_order=c.lpc_order, hop=c.hop, window=window, voice=c.voice,
        n_fft=n_fft,
        hann=_periodic_hann(window), mel=mel.astype(np.float32),
        emphasis=(1 + PRE_EMPHASIS ** 2 - 2 * PRE_EMPHASIS * np.cos(w)).astype(np.float32),
        min_lag=max(2, int(np.floor(c.rate / c.pitch_max))), max_lag=max_lag,
        pitch_fft=fast_fft_size(2 * max_lag), reach=max(window // 2, max_lag) + 1)


def _periodic_hann(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


def compute_features(samples: np.ndarray, config: FeatureConfig = FeatureConfig(),
                     reporter: Optional[Reporter] = None) -> Features:
    """Features of samples [N] (mono float32 at config.rate): T = max(1, ceil(N / hop)) frames.

    The DC offset is removed first. Work proceeds `BLOCK_FRAMES` frames at a
    time (one "features" progress unit each), so memory stays bounded.
    """
    samples = _checked_samples(samples)
    plan, reporter = analysis_plan(config), reporter or silent()
    T = max(1, -(-samples.shape[0] // plan.hop))
    dc = float(np.mean(samples, dtype=np.float64)) if samples.size else 0.0
    out = _empty_features(T, config)
    starts = range(0, T, BLOCK_FRAMES)
    reporter.stage("features", len(starts))
    for t0 in starts:
        t1 = min(T, t0 + BLOCK_FRAMES)
        for name, values in _block_features(_segment(samples, dc, t0, t1, plan), t1 - t0, plan).items():
            out[name][t0:t1] = values
        reporter.advance(1)
    times = np.arange(T) * (plan.hop / config.rate)
    return Features(times=times, config=config, **out)


def _checked_samples(samples) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise InputError(f"Features need mono samples [N], not an array of shape {samples.shape}; mix to mono first.")
    return samples


def _empty_features(T: int, config: FeatureConfig) -> dict:
    return {"log_mel": np.empty((T, config.n_mels), np.float32), "energy_db": np.empty(T, np.float32),
            "pitch_hz": np.empty(T, np.float32), "voicing": np.empty(T, np.float32),
            "formants_hz": np.empty((T, config.n_formants), np.float32)}


def _segment(samples: np.ndarray, dc: float, t0: int, t1: int, plan: AnalysisPlan) -> np.ndarray:
    """DC-free samples [(t1 - t0 - 1) * hop + 2 * reach] around frames t0..t1-1, zero outside the signal."""
    start = t0 * plan.hop - plan.reach
    seg = np.zeros((t1 - t0 - 1) * plan.hop + 2 * plan.reach, np.float32)
    lo, hi = max(0, start), min(samples.shape[0], start + seg.shape[0])
    if hi > lo:
        seg[lo - start:hi - start] = samples[lo:hi] - np.float32(dc)
    if not np.all(np.isfinite(seg)):
        raise AudioError("The samples contain NaN or infinite values; check the audio they came from.")
    return seg


def frames_of(seg: np.ndarray, offset: int, length: int, hop: int, count: int) -> np.ndarray:
    """Frames [count, length] (a strided view): frame i is seg[offset + i * hop : ... + length]."""
    return np.lib.stride_tricks.sliding_window_view(seg[offset:], length)[::hop][:count]


def _block_features(seg: np.ndarray, count: int, plan: AnalysisPlan) -> dict:
    """Every feature of `count` frames whose samples (plus reach either side) are `seg`."""
    frames = frames_of(seg, plan.reach - plan.window // 2, plan.window, plan.hop, count)
    energy_db = energy_dbfs(frames)
    power = power_spectrum(frames, plan)
    formants = np.full((count, plan.n_formants), np.nan, np.float32)
    log_mel = np.log(power @ plan.mel.T + MEL_FLOOR)
    if not plan.voice:
        zeros = np.zeros(count, np.float32)
        return {"log_mel": log_mel, "energy_db": energy_db, "pitch_hz": zeros, "voicing": zeros,
                "formants_hz": formants}
    pitch, voicing = yin_pitch(seg, count, plan)
    audible = energy_db > SILENCE_DB
    voicing = np.where(audible, voicing, 0.0)
    pitch = np.where(audible, pitch, 0.0)
    voiced = pitch > 0
    if voiced.any():
        formants[voiced] = lpc_formants(power[voiced], plan)
    return {"log_mel": log_mel, "energy_db": energy_db,
            "pitch_hz": pitch, "voicing": voicing, "formants_hz": formants}


def energy_dbfs(frames: np.ndarray) -> np.ndarray:
    """RMS level [B] in dBFS (a full-scale square wave is 0 dB) of frames [B, L], floored at -100 dB."""
    ms = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frames.shape[1]
    return np.maximum(10.0 * np.log10(ms + TINY), ENERGY_FLOOR_DB).astype(np.float32)


def power_spectrum(frames: np.ndarray, plan: AnalysisPlan) -> np.ndarray:
    """|FFT|^2 [B, n_fft // 2 + 1] float32 of Hann-windowed frames [B, window], zero-padded to n_fft."""
    spectrum = np.fft.rfft(frames * plan.hann, n=plan.n_fft, axis=1)
    return (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)


def yin_pitch(seg: np.ndarray, count: int, plan: AnalysisPlan) -> tuple:
    """YIN pitch [B] Hz (0 where unvoiced) and voicing [B] in [0, 1] of the `count` frames
    [B, 2 * max_lag] centred every hop in `seg` (which has `plan.reach` samples before the first).

    d(tau) = sum_j (x[j] - x[j + tau])^2 over the first max_lag samples, via
    FFT cross-correlation and running energies; the cumulative-mean-normalised
    d' is searched for its first dip below YIN_DIP (else its minimum), refined
    by a parabola. Voicing is 1 - d' at the chosen lag.
    """
    offset, W = plan.reach - plan.max_lag, plan.max_lag
    cumulative = np.concatenate([[0.0], np.cumsum(np.square(seg, dtype=np.float64))])
    sliding = (cumulative[W:] - cumulative[:-W]).astype(np.float32)     # sliding[i] = sum seg[i : i + W]^2
    energy = frames_of(sliding, offset, W + 1, plan.hop, count)
    difference = yin_difference(frames_of(seg, offset, 2 * W, plan.hop, count), energy, plan.pitch_fft)
    search = normalised_difference(difference, energy)[:, plan.min_lag - 1:]   # lags min_lag .. max_lag
    best = _first_dip(search)
    depth = np.take_along_axis(search, best[:, None], axis=1)[:, 0]
    period = plan.min_lag + best + _parabola_offset(search, best)
    voiced = depth < VOICED_MAX_DIFFERENCE
    pitch = np.where(voiced, plan.rate / period, 0.0).astype(np.float32)
    return pitch, np.clip(1.0 - depth, 0.0, 1.0).astype(np.float32)


def yin_difference(frames: np.ndarray, window_energy: np.ndarray, n_fft: int) -> np.ndarray:
    """YIN difference d [B, W + 1]: d[b, tau] = sum_{j < W} (x[j] - x[j + tau])^2 for frames x [B, 2W],
    given window_energy [B, W + 1] = sum_{j < W} x[j + tau]^2 and an FFT size n_fft >= 2W."""
    max_lag = window_energy.shape[1] - 1
    head = np.fft.rfft(frames[:, :max_lag], n=n_fft, axis=1)
    whole = np.fft.rfft(frames, n=n_fft, axis=1)
    cross = np.fft.irfft(np.conj(head) * whole, n=n_fft, axis=1)[:, :max_lag + 1].astype(np.float32)
    return np.maximum(window_energy[:, :1] + window_energy - 2.0 * cross, 0.0)


def normalised_difference(difference: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """YIN's cumulative-mean-normalised difference d' [B, W] at lags 1..W from d [B, W + 1] and the
    window energies [B, W + 1]; 1 (aperiodic) where the mean difference vanishes (zeros, DC)."""
    mean = np.cumsum(difference[:, 1:], axis=1) / np.arange(1, difference.shape[1])
    defined = mean > YIN_DEFINED * (energy[:, :1] + energy.max(axis=1, keepdims=True)) + TINY
    return np.where(defined, difference[:, 1:] / np.where(defined, mean, 1.0), 1.0)


def _first_dip(cmnd: np.ndarray) -> np.ndarray:
    """Index [B] of the minimum of the first run below YIN_DIP in each row of cmnd [B, K] (else the minimum)."""
    below = cmnd < YIN_DIP
    first = np.argmax(below, axis=1)
    after = np.arange(cmnd.shape[1]) >= first[:, None]
    run = after & (np.cumsum(after & ~below, axis=1) == 0)
    in_run = np.argmin(np.where(run, cmnd, np.inf), axis=1)
    return np.where(below.any(axis=1), in_run, np.argmin(cmnd, axis=1))


def _parabola_offset(rows: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Sub-sample offset [B] in [-0.5, 0.5] of the extremum of a parabola through rows[b, index[b] +- 1]."""
    i = np.clip(index, 1, rows.shape[1] - 2)[:, None]
    left, mid, right = (np.take_along_axis(rows, i + k, axis=1)[:, 0] for k in (-1, 0, 1))
    curvature = left - 2.0 * mid + right
    offset = 0.5 * (left - right) / np.where(np.abs(curvature) > TINY, curvature, np.inf)
    inside = (index >= 1) & (index <= rows.shape[1] - 2)
    return np.where(inside, np.clip(offset, -0.5, 0.5), 0.0)


def lpc_formants(power: np.ndarray, plan: AnalysisPlan) -> np.ndarray:
    """Formants [B, n_formants] Hz (NaN where not found) from power spectra [B, n_fft // 2 + 1].

    Pre-emphasis is applied to the spectrum, whose inverse FFT gives the
    autocorrelation; the batched Levinson recursion gives the LPC polynomial,
    and the lowest peaks of its envelope 1 / |A|^2 are the formants.
    """
    r = np.fft.irfft(power.astype(np.float64) * plan.emphasis, n=plan.n_fft, axis=1)
    a = levinson(r[:, :plan.lpc_order + 1], plan.lpc_order)
    envelope = -np.log(np.abs(np.fft.rfft(a, n=FORMANT_FFT, axis=1)) ** 2 + TINY)
    return envelope_peaks(envelope, plan.rate, plan.n_formants)


def levinson(r: np.ndarray, order: int) -> np.ndarray:
    """LPC polynomials a [B, order + 1] (a[:, 0] = 1) from autocorrelations r [B, >= order + 1].

    Solves the normal equations sum_j a_j r[|i - j|] = -r[i] for every row at
    once (Levinson-Durbin); equals scipy.linalg.solve_toeplitz row by row.
    """
    a = np.zeros((r.shape[0], order + 1))
    a[:, 0] = 1.0
    error = r[:, 0] * (1.0 + LPC_REGULARISATION) + TINY
    for i in range(1, order + 1):
        k = -np.einsum("bj,bj->b", a[:, :i], r[:, i:0:-1]) / error
        a[:, 1:i + 1] = a[:, 1:i + 1] + k[:, None] * a[:, i - 1::-1]
        error = np.maximum(error * (1.0 - k * k), TINY)
    return a


def envelope_peaks(envelope: np.ndarray, rate: int, count: int) -> np.ndarray:
    """Frequencies [B, count] Hz of the lowest `count` resonance peaks of log envelopes [B, F]
    (F bins from 0 to rate / 2), NaN where fewer are found."""
    left, mid, right = envelope[:, :-2], envelope[:, 1:-1], envelope[:, 2:]
    bin_hz = rate / (2.0 * (envelope.shape[1] - 1))
    curvature = np.minimum(left - 2.0 * mid + right, -TINY)
    bandwidth = 2.0 * np.sqrt(2.0 * HALF_POWER / -curvature) * bin_hz
    hz = (np.arange(1, envelope.shape[1] - 1) + np.clip(0.5 * (left - right) / curvature, -0.5, 0.5)) * bin_hz
    peak = (mid > left) & (mid >= right) & (bandwidth < FORMANT_MAX_BANDWIDTH_HZ)
    peak &= (hz >= FORMANT_MIN_HZ) & (hz <= rate / 2 - FORMANT_EDGE_HZ)
    rows = np.arange(envelope.shape[0])
    out = np.full((envelope.shape[0], count), np.nan, np.float32)
    for k in range(count):                      # the lowest remaining peak, then remove it
        lowest = np.argmax(peak, axis=1)
        found = peak[rows, lowest]
        out[found, k] = hz[rows[found], lowest[found]]
        peak[rows, lowest] = False
    return out


def relative_level_db(energy_db: np.ndarray) -> np.ndarray:
    """Energy [T] (dB) relative to the utterance's LOUD_PERCENTILE: 0 dB = loud speech."""
    return energy_db - np.float32(np.percentile(energy_db, LOUD_PERCENTILE))


def normalize_features(features: Features) -> Features:
    """Per-utterance normalisation: log_mel z-scored per band; energy_db relative to the utterance's
    95th percentile (0 = loud speech); pitch as z-scores of log pitch over voiced frames (0 where
    unvoiced). Voicing and formants are unchanged."""
    mean = features.log_mel.mean(axis=0, dtype=np.float64)
    std = np.maximum(features.log_mel.std(axis=0, dtype=np.float64), STD_FLOOR)
    log_mel = (features.log_mel - mean.astype(np.float32)) / std.astype(np.float32)
    energy = relative_level_db(features.energy_db)
    voiced = features.pitch_hz > 0
    pitch = np.zeros_like(features.pitch_hz)
    if voiced.any():
        log_pitch = np.log(features.pitch_hz[voiced].astype(np.float64))
        pitch[voiced] = (log_pitch - log_pitch.mean()) / max(float(log_pitch.std()), STD_FLOOR)
    return dataclasses.replace(features, log_mel=log_mel, energy_db=energy, pitch_hz=pitch)


def features_of(audio: Audio, config: FeatureConfig = FeatureConfig(),
                reporter: Optional[Reporter] = None) -> Features:
    """Features of decoded `Audio` (samples [N] at audio.rate), resampled to config.rate first when needed."""
    return compute_features(resample(audio.samples, audio.rate, config.rate), config, reporter)
