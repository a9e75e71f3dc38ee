"""Frame-wise RMS and spectral centroid: known answers on tones and silence, and librosa as a reference."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest

from engine.audio import envelope

RATE = 16000


def tone(hz: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_rms_of_a_sine_is_its_amplitude_over_root_two():
    level = envelope.rms(tone(250.0, 1.0, amplitude=0.4), 512, 160)
    assert level.shape == (101,) and level.dtype == np.float32
    assert np.allclose(level[5:-5], 0.4 / np.sqrt(2), rtol=1e-3)
    assert np.isclose(level[0], 0.4 / 2, rtol=0.02)  # half the first frame is padding: half the power


def test_centroid_of_a_tone_is_its_frequency_and_silence_is_zero():
    y = np.concatenate([np.zeros(RATE // 2, np.float32), tone(1000.0, 0.5)])
    centroid = envelope.spectral_centroid(y, RATE, 512, 160)
    assert centroid.shape == (101,)
    assert np.all(centroid[:45] == 0.0)
    assert np.all(np.abs(centroid[55:-5] - 1000.0) < 60.0)  # Hann leakage is symmetric about the tone


def test_blocks_give_the_same_answer(monkeypatch):
    y = np.random.default_rng(3).standard_normal(9999).astype(np.float32)
    whole = envelope.rms(y, 512, 160), envelope.spectral_centroid(y, RATE, 512, 160)
    monkeypatch.setattr(envelope, "BLOCK_FRAMES", 7)
    blocked = envelope.rms(y, 512, 160), envelope.spectral_centroid(y, RATE, 512, 160)
    assert all(np.array_equal(a, b) for a, b in zip(whole, blocked))


@pytest.mark.parametrize("n", [1, 100, 513, 12345, 16000])
def test_match_librosa(n):
    import librosa

    rng = np.random.default_rng(n)
    y = (0.1 * rng.standard_normal(n)).astype(np.float32)
    y[: n // 3] = 0.0  # silent frames too
    y += tone(330.0, n / RATE, amplitude=0.2)[:n]
    reference_rms = librosa.feature.rms(y=y, frame_length=512, hop_length=160, center=True)[0]
    with pytest.warns(UserWarning) if n < 512 else nullcontext():  # librosa warns on clips shorter than a frame
        reference_centroid = librosa.feature.spectral_centroid(y=y, sr=RATE, n_fft=512, hop_length=160)[0]
    assert np.allclose(envelope.rms(y, 512, 160), reference_rms, rtol=1e-5, atol=1e-7)
    assert np.allclose(envelope.spectral_centroid(y, RATE, 512, 160), reference_centroid, rtol=1e-5, atol=1e-3)
