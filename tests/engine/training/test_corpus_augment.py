"""Augmentation: timing changes rescale the phones exactly; channel changes keep the length."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.audio.load import Audio
from engine.drivers.phonetic.phones import Phone
from engine.training.corpus.augment import (AUGMENTATION_NAMES, Augmentation, add_noise, change_speed,
                                            change_tempo, clip, degrade, equalize, impulse_response,
                                            retime, set_level)
from engine.training.corpus.config import AugmentationConfig
from engine.training.corpus.variation import sample_augmentation

RATE = 16000


def tone(freq=220.0, seconds=1.0, amplitude=0.5):
    t = np.arange(int(RATE * seconds)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def speech_like():
    audio = Audio(np.concatenate([np.zeros(1600, np.float32), tone(seconds=0.8), np.zeros(1600, np.float32)]), RATE)
    phones = [Phone("SIL", 0.0, 0.1), Phone("AA", 0.1, 0.5), Phone("M", 0.5, 0.9), Phone("SIL", 0.9, 1.0)]
    return audio, phones


@pytest.mark.parametrize("factor", [0.9, 1.0625, 1.2])
@pytest.mark.parametrize("change", [change_speed, change_tempo])
def test_timing_changes_rescale_phones_exactly(change, factor):
    audio, phones = speech_like()
    changed, moved = change(audio, phones, factor)
    assert changed.samples.shape[0] == round(audio.samples.shape[0] / factor)
    assert [(p.label, p.start, p.end) for p in moved] == [(p.label, p.start / factor, p.end / factor) for p in phones]
    assert abs(moved[-1].end - changed.duration) < 1.0 / RATE


def test_speed_shifts_pitch_and_tempo_keeps_it():
    audio = Audio(tone(freq=200.0), RATE)

    def peak_hz(x):
        return np.argmax(np.abs(np.fft.rfft(x))) * RATE / x.shape[0]

    fast, _ = change_speed(audio, [], 1.1)
    stretched, _ = change_tempo(audio, [], 1.1)
    assert peak_hz(fast.samples) == pytest.approx(220.0, abs=2.0)
    assert peak_hz(stretched.samples) == pytest.approx(200.0, abs=2.0)


def test_retime_composes_speed_and_tempo():
    audio, phones = speech_like()
    _, moved = retime(audio, phones, Augmentation(speed=1.25, tempo=0.8))
    assert moved[1].start == pytest.approx(0.1)  # 1.25 * 0.8 = 1


def test_eq_gain_at_the_mid_band_is_exact():
    x = tone(freq=1500.0)  # the bell's centre, on an FFT bin
    y = equalize(x, RATE, 0.0, 6.0, 0.0)
    assert np.abs(y).max() / np.abs(x).max() == pytest.approx(10 ** (6.0 / 20.0), rel=1e-3)
    assert np.array_equal(equalize(x, RATE, 0.0, 0.0, 0.0), x)


def test_impulse_response_decays_60_db_at_rt60():
    ir = impulse_response(RATE, 0.5, np.random.default_rng(0))
    assert ir.shape == (8000,) and np.sum(ir.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-4)
    head = np.sqrt(np.mean(ir[:400] ** 2))
    tail = np.sqrt(np.mean(ir[-400:] ** 2))
    assert 20 * np.log10(head / tail) == pytest.approx(60.0 * (8000 - 400) / 8000, abs=4.0)


def test_noise_has_the_asked_snr():
    x = tone()
    for color in (0.0, 1.0, 2.0):
        noisy = add_noise(x, RATE, 10.0, color, np.random.default_rng(1))
        snr = 10 * np.log10(np.mean(x ** 2) / np.mean((noisy - x) ** 2))
        assert snr == pytest.approx(10.0, abs=0.01)


def test_clipping_and_level_are_bounded_with_known_peaks():
    x = tone(amplitude=0.3)
    clipped = clip(x, 12.0)
    assert np.abs(clipped).max() == 1.0 and np.mean(np.abs(clipped) == 1.0) > 0.3
    assert np.abs(set_level(x, -6.0)).max() == pytest.approx(10 ** (-6.0 / 20.0), rel=1e-6)
    assert np.abs(set_level(x * 100, 3.0)).max() <= 1.0  # never above full scale


def test_degrade_keeps_length_and_stays_in_range():
    audio, _ = speech_like()
    heavy = Augmentation(eq_low_db=8, eq_mid_db=-8, eq_high_db=8, reverb_rt60=0.6, reverb_wet=0.5,
                         noise_snr_db=5.0, noise_color=1.0, clip_drive_db=15.0, level_db=-3.0)
    out = degrade(audio, heavy, np.random.default_rng(0))
    assert out.samples.shape == audio.samples.shape and out.samples.dtype == np.float32
    assert np.abs(out.samples).max() == pytest.approx(10 ** (-3.0 / 20.0), rel=1e-5)
    assert np.isfinite(out.samples).all()


def test_sampling_follows_the_probabilities_and_ranges():
    rng = np.random.default_rng(0)
    never = AugmentationConfig(p_speed=0, p_tempo=0, p_eq=0, p_reverb=0, p_noise=0, p_clip=0)
    plain = sample_augmentation(rng, never)
    assert plain.to_dict() == Augmentation(level_db=plain.level_db).to_dict() and math.isinf(plain.noise_snr_db)
    always = AugmentationConfig(p_speed=1, p_tempo=1, p_eq=1, p_reverb=1, p_noise=1, p_clip=1)
    for _ in range(50):
        a = sample_augmentation(rng, always)
        assert 0.94 <= a.speed <= 1.06 and abs(a.speed * RATE - round(a.speed * RATE)) < 1e-6 and 0.85 <= a.tempo <= 1.2
        assert 0.15 <= a.reverb_rt60 <= 0.8 and 5 <= a.noise_snr_db <= 35 and 3 <= a.clip_drive_db <= 15
        assert -30 <= a.level_db <= -1 and max(abs(a.eq_low_db), abs(a.eq_mid_db), abs(a.eq_high_db)) <= 8
    assert set(Augmentation().to_dict()) == set(AUGMENTATION_NAMES)
    assert Augmentation.from_dict(a.to_dict()) == a
