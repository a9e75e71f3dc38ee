"""The shared procedural motion: accents, blinks, sway and style biases with known answers on synthetic features."""

from __future__ import annotations

import numpy as np
import pytest

from engine.drivers.procedural import (HEAD_SWAY_RAD, accent_times, blink_curve, blink_times, head_sway,
                                       prosody_channels, pulses)
from engine.style import SpeakingStyle

HOP = 0.01


def features_with_bumps(bumps=(1.0, 2.0, 3.2), seconds=4.0):
    """Energy (dB) with loud bumps at `bumps` (s) over steady speech, pitch rising at the bumps."""
    times = np.arange(int(seconds / HOP)) * HOP
    energy = np.full(times.shape, -20.0)
    pitch = np.full(times.shape, 120.0)
    for b in bumps:
        bump = np.exp(-((times - b) / 0.06) ** 2)
        energy += 15.0 * bump
        pitch *= 1.0 + 0.4 * bump
    return times, energy, pitch


def test_accents_are_found_at_the_bumps():
    times, energy, pitch = features_with_bumps()
    at, strength = accent_times(times, energy, pitch)
    np.testing.assert_allclose(at, [1.0, 2.0, 3.2], atol=0.03)
    assert np.all((strength > 0) & (strength <= 1))


def test_flat_voice_has_no_accents_and_short_input_is_fine():
    times = np.arange(300) * HOP
    assert accent_times(times, np.full(300, -20.0), np.full(300, 120.0))[0].size == 0
    assert accent_times(times[:2], np.zeros(2), np.zeros(2))[0].size == 0


def test_pulse_peaks_at_its_time():
    t = np.arange(200) / 100.0
    p = pulses(t, np.array([1.0]), np.array([0.8]))
    assert t[np.argmax(p)] == pytest.approx(1.0) and p.max() == pytest.approx(0.8)
    assert p[0] == pytest.approx(0.0, abs=1e-6)


def test_blink_rate_follows_the_style():
    rng = np.random.default_rng(0)
    starts = blink_times([], 600.0, 20.0, rng)
    assert 170 <= starts.size <= 230
    assert blink_times([], 60.0, 0.0, rng).size == 0


def test_blinks_prefer_pauses():
    pauses = [(t, t + 0.5) for t in np.arange(2.0, 100.0, 4.0)]
    hits = 0
    for seed in range(5):
        starts = blink_times(pauses, 100.0, 10.0, np.random.default_rng(seed))
        hits += sum(np.any(np.abs(starts - start) < 1e-9) for start, _ in pauses)
    assert hits > 0.4 * 5 * len(pauses)
    short = [(t, t + 0.2) for t in np.arange(2.0, 100.0, 4.0)]  # shorter than PAUSE_BLINK_S: no pull
    starts = blink_times(short, 100.0, 10.0, np.random.default_rng(0))
    assert sum(np.any(np.abs(starts - start) < 1e-9) for start, _ in short) == 0


def test_blink_curve_closes_fully_and_reopens():
    t = np.arange(100) / 100.0
    curve = blink_curve(t, np.array([0.2]))
    assert curve.max() == pytest.approx(1.0) and curve[0] == 0.0 and curve[-1] == 0.0


def test_style_biases_and_seeded_repeatability():
    times, energy, pitch = features_with_bumps()
    frames = np.arange(120) / 30.0
    def rng():
        return np.random.default_rng(4)

    neutral = prosody_channels(frames, times, energy - 5.0, pitch, [], SpeakingStyle(), rng())
    again = prosody_channels(frames, times, energy - 5.0, pitch, [], SpeakingStyle(), rng())
    for name in neutral:
        np.testing.assert_array_equal(neutral[name], again[name])
    happy = prosody_channels(frames, times, energy - 5.0, pitch, [], SpeakingStyle(smile=1.0, brow=-1.0), rng())
    assert happy["mouthSmileLeft"].min() > 0.3 and neutral["mouthSmileLeft"].max() == 0.0
    assert happy["browDownLeft"].min() > 0.2
    still = prosody_channels(frames, times, energy - 5.0, pitch, [], SpeakingStyle(head_motion=0.0), rng())
    assert np.abs(still["neck_rx"]).max() == 0.0 and np.abs(neutral["neck_rx"]).max() > 0.005
    flat = prosody_channels(frames, times, energy - 5.0, pitch, [], SpeakingStyle(brow_accent=0.0), rng())
    assert flat["browInnerUp"].max() == 0.0 and neutral["browInnerUp"].max() > 0.1


def test_head_sway_stays_small_on_clips_shorter_than_its_smoothing():
    for seconds in (0.1, 0.5, 1.0, 2.0, 30.0):
        T = int(seconds * 30)
        for seed in range(5):
            sway = head_sway(T, 30.0, np.random.default_rng(seed), np.ones(T))
            assert all(v.shape == (T,) for v in sway.values())
            assert max(float(np.abs(v).max()) for v in sway.values()) < 6 * 1.3 * HEAD_SWAY_RAD
