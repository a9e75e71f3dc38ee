"""Speech features with known answers: tones, synthetic vowels, noise, silence, and librosa as a reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from engine.audio import FeatureConfig, audio_from_array, compute_features, features_of, normalize_features
from engine.audio import features as features_module
from engine.errors import AudioError, Cancelled, InputError
from engine.progress import CancelToken, Reporter

RATE = 16000
VOWEL_FORMANTS = (700.0, 1220.0, 2600.0)   # an open /a/-like vowel
VOWEL_BANDWIDTHS = (80.0, 90.0, 120.0)


def sine(freq, seconds=1.0, amplitude=0.5, rate=RATE):
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)).astype(np.float32)


def vowel(f0=120.0, formants=VOWEL_FORMANTS, bandwidths=VOWEL_BANDWIDTHS, seconds=1.0):
    """A pulse train at f0 through two-pole resonators at `formants` (Hz) with `bandwidths` (Hz)."""
    x = np.zeros(int(RATE * seconds))
    x[:: int(round(RATE / f0))] = 1.0
    for fc, bw in zip(formants, bandwidths):
        r = np.exp(-np.pi * bw / RATE)
        x = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / RATE), r * r], x)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def inner(values, margin=5):
    """Frames away from the zero-padded edges."""
    return values[margin:-margin]


@pytest.mark.parametrize("freq", [65.0, 110.0, 220.0, 333.3, 480.0])
def test_sine_pitch_within_one_percent(freq):
    f = compute_features(sine(freq))
    assert np.all(np.abs(inner(f.pitch_hz) / freq - 1.0) < 0.01)
    assert np.all(inner(f.voicing) > 0.9)


@pytest.mark.parametrize("f0", [100.0, 120.0, 180.0])
def test_vowel_formants_where_they_were_put(f0):
    f = compute_features(vowel(f0))
    formants = inner(f.formants_hz, 10)
    assert not np.isnan(formants).any()
    error = np.abs(np.median(formants, axis=0) / np.array(VOWEL_FORMANTS) - 1.0)
    assert np.all(error < 0.10), error
    assert abs(np.median(inner(f.pitch_hz, 10)) / f0 - 1.0) < 0.01


def test_white_noise_is_unvoiced():
    noise = (0.1 * np.random.default_rng(0).standard_normal(2 * RATE)).astype(np.float32)
    f = compute_features(noise)
    assert np.mean(f.pitch_hz > 0) < 0.02
    assert np.median(f.voicing) < 0.5
    assert np.isnan(f.formants_hz[f.pitch_hz == 0]).all()


def test_silence_gives_floor_energy_and_no_voicing():
    f = compute_features(np.zeros(RATE, np.float32))
    assert np.all(f.energy_db == features_module.ENERGY_FLOOR_DB)
    assert not f.voicing.any() and not f.pitch_hz.any() and np.isnan(f.formants_hz).all()
    assert np.allclose(f.log_mel, np.log(features_module.MEL_FLOOR))


def test_energy_of_a_sine_is_its_rms_in_dbfs():
    f = compute_features(sine(400.0, amplitude=0.25))  # 40-sample period: whole periods in every window
    assert np.allclose(inner(f.energy_db, 3), 20 * np.log10(0.25 / np.sqrt(2)), atol=0.01)


def test_dc_offset_is_removed():
    clean = compute_features(sine(200.0))
    shifted = compute_features(sine(200.0) + 0.4)
    assert np.allclose(clean.energy_db, shifted.energy_db, atol=0.05)
    assert np.allclose(clean.pitch_hz, shifted.pitch_hz, rtol=1e-3)


@pytest.mark.parametrize("n, frames", [(0, 1), (1, 1), (159, 1), (160, 1), (161, 2), (16000, 100), (16001, 101)])
def test_frame_count_and_times(n, frames):
    f = compute_features(np.zeros(n, np.float32))
    assert f.num_frames == frames and f.log_mel.shape == (frames, 40) and f.formants_hz.shape == (frames, 3)
    assert np.allclose(f.times, np.arange(frames) * 0.01)
    assert {a.dtype for a in (f.log_mel, f.energy_db, f.pitch_hz, f.voicing, f.formants_hz)} == {np.dtype("float32")}


def test_log_mel_matches_librosa():
    import librosa

    y = vowel(130.0, seconds=0.8) + 0.01 * np.random.default_rng(1).standard_normal(12800).astype(np.float32)
    y -= y.mean()
    f = compute_features(y)
    reference = librosa.feature.melspectrogram(y=y, sr=RATE, n_fft=512, hop_length=160, win_length=400,
                                               window="hann", center=True, pad_mode="constant", power=2.0,
                                               n_mels=40, fmin=60.0, fmax=7600.0).T[: f.num_frames]
    ours = np.exp(f.log_mel.astype(np.float64)) - features_module.MEL_FLOOR
    assert np.all(np.abs(ours - reference) <= 1e-3 * reference + 1e-6 * reference.max())


def test_blocks_give_the_same_features(monkeypatch):
    y = np.concatenate([np.zeros(3000, np.float32), vowel(110.0, seconds=1.5), sine(250.0, 0.5)])
    whole = compute_features(y)
    seen = []
    block_features = features_module._block_features
    monkeypatch.setattr(features_module, "BLOCK_FRAMES", 23)
    monkeypatch.setattr(features_module, "_block_features",
                        lambda seg, count, plan: seen.append(count) or block_features(seg, count, plan))
    blocked = compute_features(y)
    assert max(seen) == 23 and sum(seen) == whole.num_frames
    for name in ("log_mel", "energy_db", "pitch_hz", "voicing", "formants_hz"):
        np.testing.assert_allclose(getattr(blocked, name), getattr(whole, name), rtol=1e-4, atol=1e-4)


def test_levinson_solves_the_normal_equations():
    rng = np.random.default_rng(2)
    frames = rng.standard_normal((6, 400))
    r = np.array([[x[: x.size - k] @ x[k:] for k in range(15)] for x in frames])
    a = features_module.levinson(r, 14)
    for row, coefficients in zip(r, a):
        assert coefficients[0] == 1.0
        np.testing.assert_allclose(coefficients[1:], solve_toeplitz(row[:14], -row[1:15]), rtol=1e-4, atol=1e-6)


def test_yin_difference_matches_its_definition():
    rng = np.random.default_rng(3)
    W = 50
    frames = rng.standard_normal((4, 2 * W)).astype(np.float32)
    energy = np.array([[np.sum(x[t:t + W] ** 2) for t in range(W + 1)] for x in frames], np.float32)
    d = features_module.yin_difference(frames, energy, 128)
    direct = np.array([[np.sum((x[:W] - x[t:t + W]) ** 2) for t in range(W + 1)] for x in frames])
    np.testing.assert_allclose(d, direct, rtol=1e-4, atol=1e-3)


def test_envelope_peaks_finds_resonances_lowest_first():
    freqs = np.linspace(0, RATE / 2, 513)
    envelope = sum(-np.log((freqs - fc) ** 2 + (bw / 2) ** 2) for fc, bw in zip((2500, 500, 1500), (100, 80, 120)))
    peaks = features_module.envelope_peaks(envelope[None], RATE, 4)[0]
    np.testing.assert_allclose(peaks[:3], [500, 1500, 2500], atol=8.0)
    assert np.isnan(peaks[3])


def test_normalize_features():
    y = np.concatenate([vowel(100.0), 0.01 * sine(50.0), vowel(150.0, seconds=0.5)])
    f = compute_features(y)
    n = normalize_features(f)
    assert np.allclose(n.log_mel.mean(axis=0), 0.0, atol=1e-4) and np.allclose(n.log_mel.std(axis=0), 1.0, atol=1e-3)
    assert abs(np.percentile(n.energy_db, 95)) < 1e-4
    voiced = f.pitch_hz > 0
    assert abs(n.pitch_hz[voiced].mean()) < 1e-4 and abs(n.pitch_hz[voiced].std() - 1.0) < 1e-3
    assert not n.pitch_hz[~voiced].any()
    assert np.array_equal(n.voicing, f.voicing) and np.array_equal(n.formants_hz, f.formants_hz, equal_nan=True)


def test_normalize_silence_stays_finite():
    n = normalize_features(compute_features(np.zeros(RATE, np.float32)))
    assert all(np.isfinite(a).all() for a in (n.log_mel, n.energy_db, n.pitch_hz))


def test_features_of_resamples_audio():
    audio = audio_from_array(sine(220.0, rate=8000), 8000, target_rate=8000)
    f = features_of(audio)
    assert f.num_frames == 100 and np.all(np.abs(inner(f.pitch_hz) / 220.0 - 1.0) < 0.01)


def test_other_hop_and_rate():
    config = FeatureConfig(rate=22050, hop_s=0.005, n_mels=64, fmax=11025.0)
    f = compute_features(sine(150.0, rate=22050), config)
    assert f.num_frames == int(np.ceil(22050 / config.hop)) and f.log_mel.shape[1] == 64
    assert np.all(np.abs(inner(f.pitch_hz) / 150.0 - 1.0) < 0.01)


def test_config_round_trip_and_typos():
    config = FeatureConfig(hop_s=0.02, n_mels=80)
    assert FeatureConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InputError, match="no setting n_mel;"):
        FeatureConfig.from_dict({"n_mel": 80})
    for bad in ({"hop_s": 0.0}, {"fmax": 9000.0}, {"pitch_min": 600.0}, {"lpc_order": 4}, {"n_mels": 0}):
        with pytest.raises(InputError, match="FeatureConfig"):
            FeatureConfig(**bad)


def test_bad_samples():
    with pytest.raises(InputError, match="mono samples"):
        compute_features(np.zeros((100, 2), np.float32))
    with pytest.raises(AudioError, match="NaN or infinite"):
        compute_features(np.array([0.0, np.nan, 0.0], np.float32))


def test_progress_and_cancel(monkeypatch):
    monkeypatch.setattr(features_module, "BLOCK_FRAMES", 20)
    events = []
    compute_features(np.zeros(RATE, np.float32), reporter=Reporter(events.append))
    assert events[0].stage == "features" and events[-1].done == events[-1].total == 5
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        compute_features(np.zeros(RATE, np.float32), reporter=Reporter(cancel=token))


def test_without_voice_analysis_log_mel_and_energy_are_the_same():
    rng = np.random.default_rng(3)
    t = np.arange(16000) / 16000
    samples = (0.3 * np.sin(2 * np.pi * 140 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    full = compute_features(samples, FeatureConfig())
    quick = compute_features(samples, FeatureConfig(voice=False))
    np.testing.assert_array_equal(quick.log_mel, full.log_mel)
    np.testing.assert_array_equal(quick.energy_db, full.energy_db)
    assert full.pitch_hz.max() > 100 and quick.pitch_hz.max() == 0.0 and np.all(np.isnan(quick.formants_hz))
