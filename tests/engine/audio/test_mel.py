"""The Slaney mel scale and filterbank: known answers, and librosa's default filterbank as a reference."""

from __future__ import annotations

import numpy as np
import pytest

from engine.audio.mel import hz_to_mel, mel_filterbank, mel_to_hz


def test_scale_is_linear_below_1_khz_and_logarithmic_above():
    assert np.allclose(hz_to_mel([0.0, 200.0 / 3, 500.0, 1000.0]), [0.0, 1.0, 7.5, 15.0])
    assert np.isclose(hz_to_mel(6400.0) - hz_to_mel(1000.0), 27.0)  # 27 mels per factor 6.4
    hz = np.array([0.0, 60.0, 999.0, 1000.0, 1001.0, 7600.0, 11025.0])
    assert np.allclose(mel_to_hz(hz_to_mel(hz)), hz)


def test_triangles_peak_at_their_centres_with_unit_area():
    rate, n_fft = 16000, 4096
    bank = mel_filterbank(rate, n_fft, n_mels=10, fmin=100.0, fmax=6000.0)
    edges = mel_to_hz(np.linspace(hz_to_mel(100.0), hz_to_mel(6000.0), 12))
    bins = np.fft.rfftfreq(n_fft, 1.0 / rate)
    assert bank.shape == (10, n_fft // 2 + 1) and bank.dtype == np.float32
    assert np.all(np.abs(bins[bank.argmax(axis=1)] - edges[1:-1]) <= rate / n_fft)
    areas = bank.sum(axis=1, dtype=np.float64) * rate / n_fft  # the Slaney norm: each triangle integrates to 1 in Hz
    assert np.allclose(areas, 1.0, rtol=0.02)
    assert np.all(bank[:, bins < 100.0] == 0) and np.all(bank[:, bins > 6000.0] == 0)


@pytest.mark.parametrize("rate, n_fft, n_mels, fmin, fmax", [
    (16000, 512, 40, 60.0, 7600.0),    # the engine's log-mel features
    (22050, 2048, 128, 0.0, None),     # librosa's defaults
    (16000, 1024, 80, 0.0, 8000.0),
    (8000, 256, 20, 300.0, 3999.0),
])
def test_matches_librosa_default_filterbank(rate, n_fft, n_mels, fmin, fmax):
    import librosa

    reference = librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    ours = mel_filterbank(rate, n_fft, n_mels, fmin, fmax)
    assert ours.shape == reference.shape
    assert np.allclose(ours, reference, rtol=1e-5, atol=1e-7 * reference.max())
