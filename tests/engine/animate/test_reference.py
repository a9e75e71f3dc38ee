"""A style reference measured directly: blinks robust to a tracker's noisy lids, brows matched."""

import numpy as np
import pytest

from engine.animate.reference import BROWS, PRIOR_S, blink_count, brow_activity, match_brows, measure
from engine.motion import MotionClip
from engine.style import NEUTRAL


def lids(T=100, rest=0.3, noise=0.12, blinks=(20, 60), seed=0):
    """A tracker's lid curve: a half-closed, jittery rest (crossing 0.5 by noise) and 3-frame blinks."""
    v = rest + noise * np.random.default_rng(seed).standard_normal(T)
    for b in blinks:
        v[b:b + 3] = 0.95
    return np.clip(v, 0, 1)


def test_blinks_are_counted_above_the_clips_own_rest_not_at_every_noisy_crossing():
    curve = lids()
    assert np.count_nonzero((curve[1:] > 0.5) & (curve[:-1] <= 0.5)) > 4      # the naive count
    assert blink_count(curve, 25.0) == 2
    assert blink_count(curve, 25.0, bridged={61}) == 1                      # not on bridged frames
    shut = lids(blinks=())
    shut[30:60] = 0.95                                                      # 1.2 s shut: not a blink
    assert blink_count(shut, 25.0) == 0


def test_a_short_clips_rate_is_shrunk_towards_the_neutral_rate():
    T, fps = 50, 25.0                                                       # 2 s, both eyes blinking once
    values = np.stack([lids(T, blinks=(20,))] * 2, axis=1)
    seen = measure(MotionClip(["eyeBlinkLeft", "eyeBlinkRight"], values, fps))
    assert seen["blinks"] == 1 and seen["blinks_per_min_seen"] == pytest.approx(30.0)
    assert seen["blinks_per_min"] == pytest.approx((1 + NEUTRAL.blink_rate * PRIOR_S / 60) / ((2 + PRIOR_S) / 60))


def test_brows_are_scaled_to_the_target_activity_and_stay_in_range():
    t = np.arange(200) / 25.0
    channels = {n: (0.05 + 0.01 * np.sin(t * (k + 1))).astype(np.float32) for k, n in enumerate(BROWS)}
    channels["jawOpen"] = np.full(200, 0.3, np.float32)
    gain = match_brows(channels, 0.08)
    assert gain > 5 and brow_activity(channels) == pytest.approx(0.08, rel=0.02)
    assert all(channels[n].dtype == np.float32 and 0 <= channels[n].min() and channels[n].max() <= 1 for n in BROWS)
    assert np.all(channels["jawOpen"] == np.float32(0.3))
    assert match_brows({n: np.zeros(10) for n in BROWS}, 0.1) == 1.0       # nothing to scale
