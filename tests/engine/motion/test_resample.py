"""Exact resampling: rational rates, frame counts, ramps, constants, sines, aliasing."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from engine.errors import MotionClipError
from engine.motion import MotionClip, rational_fps, resampled_frame_count
from engine.motion.resample import frame_times, resample_values, source_positions

RATES = [24000 / 1001, 23.976, 24.0, 25.0, 30000 / 1001, 29.97, 30.0, 60.0]
METHODS = ["makima", "pchip"]


def clip_of(signal, fps=30.0, seconds=4.0, **kwargs) -> MotionClip:
    """One channel [T] = signal(t) sampled at fps (as the exact rational rate) over [0, seconds)."""
    t = frame_times(resampled_frame_count(int(round(seconds * 1000)), 1000, fps), fps)
    return MotionClip(names=["a"], values=signal(t)[:, None], fps=fps, **kwargs)


@pytest.mark.parametrize("fps, exact", [
    (23.976, Fraction(24000, 1001)), (24000 / 1001, Fraction(24000, 1001)), (24.0, Fraction(24)),
    (25, Fraction(25)), (29.97, Fraction(30000, 1001)), (30000 / 1001, Fraction(30000, 1001)),
    (30.0, Fraction(30)), (59.94, Fraction(60000, 1001)), (60.0, Fraction(60)), (12.5, Fraction(25, 2)),
    (Fraction(48000, 1001), Fraction(48000, 1001)),
])
def test_rational_fps_recognises_ntsc_rates(fps, exact):
    assert rational_fps(fps) == exact


@pytest.mark.parametrize("frames, fps, new_fps, expected", [
    (300, 30, 23.976, 240),    # 10 s -> 239.76 frames, rounded to 240
    (300, 30, 24, 240), (300, 30, 25, 250), (300, 30, 29.97, 300), (300, 30, 60, 600),
    (301, 30, 29.97, 301),     # 300.699
    (240, 23.976, 30, 300),    # 300.3
    (31, 30, 24, 25),          # 24.8
    (15, 30, 25, 13),          # 12.5: halves round up
    (1, 60, 24, 1),            # never fewer than one frame
])
def test_frame_count_rule(frames, fps, new_fps, expected):
    assert resampled_frame_count(frames, fps, new_fps) == expected
    clip = MotionClip(names=["a"], values=np.zeros((frames, 1)), fps=fps)
    assert clip.resample(new_fps).num_frames == expected


def test_ntsc_frames_land_on_exact_times():
    clip = MotionClip(names=["a"], values=np.zeros((300, 1)), fps=30.0).resample(23.976)
    assert clip.fps == 24000 / 1001
    k = np.arange(240)
    np.testing.assert_array_equal(clip.times(), k * 1001 / 24000)
    positions = source_positions(300, 30, 23.976)          # in 30 fps frames
    np.testing.assert_array_equal(positions, k * 30 * 1001 / 24000)
    assert positions[-1] == 239 * 1.25125


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("new_fps", RATES)
def test_constant_and_ramp_stay_exact(new_fps, method):
    for fps in (30.0, 60.0, 23.976):
        ramp = clip_of(lambda t: 0.2 + 0.5 * t, fps=fps)
        out = ramp.resample(new_fps, method=method)
        inside = out.times() <= ramp.times()[-1]
        np.testing.assert_allclose(out.values[inside, 0], 0.2 + 0.5 * out.times()[inside], rtol=0, atol=5e-7)
        np.testing.assert_array_equal(out.values[~inside, 0], ramp.values[-1, 0])  # past the end: in range
        constant = clip_of(lambda t: np.full_like(t, 0.7), fps=fps).resample(new_fps, method=method)
        np.testing.assert_allclose(constant.values, 0.7, rtol=0, atol=1e-7)


@pytest.mark.parametrize("new_fps", RATES)
def test_slow_sine_is_reproduced_at_every_rate(new_fps):
    for fps in (30.0, 60.0):
        def sine(t):
            return np.sin(2 * np.pi * 1.0 * t + 0.4)
        out = clip_of(sine, fps=fps).resample(new_fps)
        inner = slice(3, -3)
        np.testing.assert_allclose(out.values[inner, 0], sine(out.times())[inner], atol=2e-3)


def test_round_trip_30_60_30_is_near_exact():
    clip = clip_of(lambda t: 0.3 * np.sin(2 * np.pi * 0.7 * t) + 0.1 * np.cos(2 * np.pi * 0.3 * t), seconds=6)
    back = clip.resample(60).resample(30)
    assert back.num_frames == clip.num_frames
    np.testing.assert_allclose(back.values, clip.values, atol=2e-4)


def test_same_rate_is_an_identical_copy():
    clip = clip_of(np.sin, fps=29.97, start_frame=7, metadata={"driver": "x"})
    same = clip.resample(30000 / 1001)
    assert same == clip and same is not clip and same.values is not clip.values


def test_start_frame_kept_and_source_fps_recorded():
    clip = clip_of(np.sin, fps=30.0, start_frame=101, metadata={"driver": "energy"})
    once = clip.resample(24)
    assert once.start_frame == 101
    assert once.metadata == {"driver": "energy", "resampled_from_fps": 30.0, "source_fps": 30.0}
    twice = once.resample(25)
    assert twice.metadata["resampled_from_fps"] == 24.0 and twice.metadata["source_fps"] == 30.0


@pytest.mark.parametrize("frequency", [18.0, 27.0])
def test_downsampling_does_not_alias_fast_motion(frequency):
    clip = clip_of(lambda t: np.sin(2 * np.pi * frequency * t + 0.3), fps=60.0)
    for new_fps in (24.0, 23.976):
        naive = np.sin(2 * np.pi * frequency * np.arange(96) / new_fps + 0.3)
        assert np.abs(naive).max() > 0.5                   # point sampling would alias
        assert np.abs(clip.resample(new_fps).values[4:-4]).max() < 0.05


def test_steps_do_not_ring():
    clip = clip_of(lambda t: (t > 1.0).astype(float), fps=60.0)
    for new_fps in (24.0, 30.0, 120.0):
        values = clip.resample(new_fps).values
        assert values.min() >= 0.0 and values.max() <= 1.0


def test_pchip_never_leaves_the_source_range():
    rng = np.random.default_rng(0)
    values = rng.random((90, 3))
    up = resample_values(values, 30, 60, method="pchip")
    assert up.min() >= values.min() - 1e-7 and up.max() <= values.max() + 1e-7


def test_tiny_clips_and_bad_arguments():
    one = MotionClip(names=["a", "b"], values=[[0.5, -1.0]], fps=30.0)
    assert one.resample(60).values.tolist() == [[0.5, -1.0], [0.5, -1.0]]
    two = MotionClip(names=["a"], values=[[0.0], [1.0]], fps=30.0).resample(60)
    np.testing.assert_allclose(two.values[:, 0], [0.0, 0.5, 1.0, 1.0])
    for bad in (0, -30.0, float("nan"), float("inf"), "24"):
        with pytest.raises(MotionClipError, match="frame rate must be a"):
            one.resample(bad)
        with pytest.raises(MotionClipError, match="frame rate must be a positive finite number"):
            rational_fps(bad)
    with pytest.raises(MotionClipError, match="Unknown resampling method 'cubic'"):
        one.resample(24, method="cubic")
