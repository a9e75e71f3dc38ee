"""Small clips the motion tests build themselves."""

from __future__ import annotations

import numpy as np
import pytest

from engine.motion import MotionClip


@pytest.fixture
def speech_clip() -> MotionClip:
    """2 s at 30 fps: a jaw ramp, a blink, a sine on mouthFunnel, head turn, eye gaze."""
    T = 60
    t = np.arange(T) / 30.0
    blink = np.clip(1.0 - np.abs(t - 1.0) / 0.1, 0.0, 1.0)
    channels = {
        "jaw_rx": 0.25 * t / t[-1],
        "eyeBlinkLeft": blink,
        "mouthFunnel": 0.5 + 0.4 * np.sin(2 * np.pi * t),
        "neck_ry": 0.1 * np.sin(np.pi * t),
        "eye_left_rx": np.full(T, 0.1),
        "eye_left_ry": np.full(T, -0.2),
    }
    return MotionClip(names=list(channels), values=np.stack(list(channels.values()), axis=1), fps=30.0,
                      start_frame=1, metadata={"driver": "test", "source_audio": "voice.wav"})
