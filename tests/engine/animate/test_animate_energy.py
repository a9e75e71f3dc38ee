"""The audio-energy driver through `animate`: known answers on synthetic speech-like signals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.animate import animate as animate_any
from engine.audio import audio_from_array
from engine.errors import InputError
from engine.motion.channels import POSE_CHANNELS

SAMPLE = Path(__file__).resolve().parents[3] / "engine" / "data" / "voices" / "sample_en.wav"
RATE = 16000


def animate(audio, **kwargs):
    """`engine.animate` with the energy driver unless a test names another."""
    return animate_any(audio, **{"driver": "energy", **kwargs})


def bursts(on=((0.5, 1.0), (1.5, 2.0)), seconds=2.5):
    """Voiced 150 Hz buzz with harmonics during `on` intervals, near-silence elsewhere."""
    t = np.arange(int(seconds * RATE)) / RATE
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 12))
    gate = np.zeros_like(t)
    for a, b in on:
        gate[(t >= a) & (t < b)] = 1.0
    return audio_from_array(0.3 * buzz * gate + 1e-4 * np.random.default_rng(0).standard_normal(t.size), RATE)


def test_jaw_follows_loudness():
    clip = animate(bursts(), fps=30)
    jaw = clip.channel("jaw_rx")
    t = clip.times()
    assert jaw[(t > 0.6) & (t < 0.95)].min() > 0.15
    assert jaw[(t > 1.25) & (t < 1.45)].max() < 0.03
    assert jaw[t < 0.45].max() < 0.03


def test_silence_gives_a_closed_relaxed_mouth():
    clip = animate(audio_from_array(np.zeros(RATE * 2), RATE), fps=25)
    for name in ("jaw_rx", "mouthFunnel", "mouthStretchLeft", "mouthLowerDownLeft"):
        assert np.abs(clip.channel(name)).max() == 0.0


@pytest.mark.parametrize("fps,frames", [(24000 / 1001, 60), (24, 60), (25, 63), (30000 / 1001, 75), (60, 150)])
def test_frame_count_is_ceil_of_duration(fps, frames):
    clip = animate(bursts(seconds=2.5), fps=fps)
    assert clip.num_frames == frames and abs(clip.fps - fps) < 1e-9


def test_seed_changes_blinks_not_lips():
    a, b, c = (animate(bursts(seconds=6.0), fps=30, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.channel("jaw_rx"), c.channel("jaw_rx"))
    assert not np.array_equal(a.channel("eyeBlinkLeft"), c.channel("eyeBlinkLeft"))


def test_blinks_close_fully_and_briefly():
    blink = animate(bursts(seconds=12.0), fps=30).channel("eyeBlinkLeft")
    assert blink.max() == pytest.approx(1.0, abs=0.05)
    assert 0.01 < np.mean(blink > 0.5) < 0.1


def test_channels_are_known_names_and_metadata():
    clip = animate(SAMPLE, fps=30, seed=3)
    assert {"jaw_rx", "neck_ry", "eyeBlinkLeft", "mouthFunnel"} <= set(clip.names)
    assert set(n for n in clip.names if "_r" in n) <= set(POSE_CHANNELS)
    assert clip.metadata["driver"] == "energy" and clip.metadata["source_audio"] == "sample_en.wav"
    jaw = clip.channel("jaw_rx")
    openings = np.sum((jaw[1:] > 0.12) & (jaw[:-1] <= 0.12))
    assert openings >= 8  # the mouth opens and closes with the syllables of a 10 s sentence


@pytest.mark.parametrize("kwargs,sentence", [({"fps": 0.0}, "between 1 and 240"), ({"fps": float("nan")}, "between"),
                                             ({"driver": "magic"}, "Unknown driver 'magic'")])
def test_bad_settings(kwargs, sentence):
    with pytest.raises(InputError, match=sentence):
        animate(bursts(), **kwargs)


def test_the_energy_driver_blinks_by_the_shared_model_at_the_neutral_rate():
    from engine.drivers.procedural import blinks
    from engine.style import NEUTRAL

    clip = animate(bursts(seconds=6.0), fps=30, seed=4)
    frame_times = np.arange(clip.num_frames) / 30.0
    shared = blinks(frame_times, 30.0, (), NEUTRAL.blink_rate, np.random.default_rng(4))
    np.testing.assert_allclose(clip.channel("eyeBlinkLeft"), shared, atol=1e-7)
    assert shared.max() > 0.9
