"""perform(): phones + voice -> a whole MotionClip, shared by the driver and the corpus."""

from __future__ import annotations

import numpy as np
import pytest

from engine.audio import audio_from_array
from engine.head import load_head
from engine.drivers.phonetic import Phone, perform
from engine.drivers.phonetic.metrics import closure_score, mouth_opening
from engine.drivers.interface import frame_count
from engine.style import SpeakingStyle

RATE = 16000


def voice(seconds=2.0, f0=120.0):
    t = np.arange(int(seconds * RATE)) / RATE
    buzz = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 10))
    return audio_from_array(0.2 * buzz * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)), RATE)


PHONES = [Phone("SIL", 0.0, 0.3), Phone("M", 0.3, 0.38), Phone("AA", 0.38, 0.6), Phone("P", 0.6, 0.68),
          Phone("UW", 0.68, 0.9), Phone("B", 0.9, 0.97), Phone("IY", 0.97, 1.3), Phone("SIL", 1.3, 2.0)]


@pytest.mark.parametrize("fps", [23.976, 30.0, 59.94])
def test_clip_covers_the_audio_at_the_requested_rate(fps):
    clip = perform(PHONES, voice(), fps)
    assert clip.fps == pytest.approx(fps, rel=1e-4) and clip.num_frames == frame_count(2.0, fps) == int(np.ceil(2.0 * fps))
    assert {"jaw_rx", "mouthClose", "mouthPucker", "eyeBlinkLeft", "browInnerUp", "neck_rx", "eye_left_ry"} <= set(clip.names)
    assert clip.metadata["driver"] == "phonetic" and clip.metadata["style"]["articulation"] == 1.0
    assert np.all(np.isfinite(clip.values))


def test_same_seed_same_clip_and_styles_differ_but_both_close_the_lips():
    head = load_head()
    a, b = perform(PHONES, voice(), 30.0, seed=5), perform(PHONES, voice(), 30.0, seed=5)
    np.testing.assert_array_equal(a.values, b.values)
    lively = perform(PHONES, voice(), 30.0, SpeakingStyle(articulation=1.5, smile=0.6, head_motion=2.0), seed=5)
    assert not np.allclose(a.values[:, a.names.index("jaw_rx")], lively.values[:, lively.names.index("jaw_rx")])
    for clip in (a, lively):
        assert closure_score(mouth_opening(head, clip), 30.0, PHONES).recall == 1.0


def test_silence_gives_a_closed_relaxed_mouth():
    silent = audio_from_array(np.zeros(RATE), RATE)
    clip = perform([Phone("SIL", 0.0, 1.0)], silent, 30.0)
    mouth = [k for k, n in enumerate(clip.names) if n.startswith("mouth") or n == "jaw_rx"]
    assert np.abs(clip.values[:, mouth]).max() == 0.0
    assert np.abs(mouth_opening(load_head(), clip)).max() < 0.1


def test_no_phones_and_a_one_frame_clip():
    short = audio_from_array(np.zeros(RATE // 40), RATE)  # 25 ms
    clip = perform([], short, 30.0)
    assert clip.num_frames == 1 and np.all(np.isfinite(clip.values))
