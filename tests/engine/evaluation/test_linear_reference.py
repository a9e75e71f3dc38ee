"""The linear reference of eval-lipsync (a ridge map of the audio to the tracked mouth): it finds a mouth the
audio explains, not one it does not; its features are aligned with the video frames; the CLI refuses
what it cannot use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.audio.load import Audio
from engine.evaluation.linear_reference import (CONTEXT_S, CONTEXT_STEP_S, ReferenceClip, audio_context,
                                                linear_reference, ridge_map, speaker_scores)

ROOT = Path(__file__).resolve().parents[3]


def _clips(explained: bool, speakers: int = 8, frames: int = 150, features: int = 12) -> list:
    rng = np.random.default_rng(1)
    weights = rng.normal(size=features)
    clips = []
    for k in range(speakers):
        x = rng.normal(size=(frames, features))
        y = x @ weights + 0.3 * rng.normal(size=frames) if explained else rng.normal(size=frames)
        clips.append(ReferenceClip(f"c{k}.mp4", f"s{k}", k < 3, x, 5.0 + y, np.ones(frames, bool)))
    return clips


def test_a_mouth_the_audio_explains_is_found_and_one_it_does_not_is_not():
    found = linear_reference(_clips(True), ridge=1.0)
    assert found["training_rows"]["r_best"] > 0.95 and found["leave_one_speaker_out"]["r_best"] > 0.95
    assert found["training_rows"]["speakers"] == 5 and found["leave_one_speaker_out"]["speakers"] == 7
    assert set(found["learning_curve"]) == {"5", "7"}
    noise = linear_reference(_clips(False), ridge=1.0)
    assert noise["training_rows"]["r_best"] < 0.4 and noise["leave_one_speaker_out"]["r_lag0"] < 0.3


def test_bad_frames_are_not_learnt_from():
    clips = _clips(True)
    for clip in clips[3:]:
        clip.opening[::2] = 1e6   # wild values on frames marked bad
        clip.good[::2] = False
    scores = speaker_scores(ridge_map(clips[3:], 1.0), clips[:3])
    assert min(b for b, _ in scores.values()) > 0.9


def test_the_features_of_a_video_frame_are_the_audio_around_it():
    rate, fps = 16000, 25.0
    samples = np.zeros(2 * rate, np.float32)
    samples[rate:rate + 400] = np.sin(np.arange(400) * 0.3)   # a click at 1.0 s: video frame 25
    features = audio_context(Audio(samples, rate), fps, 50)
    offsets = 2 * round(CONTEXT_S / 0.01) // round(CONTEXT_STEP_S / 0.01) + 1
    level = features.reshape(50, offsets, -1)[:, :, -1]       # the level band of each context frame
    centre = offsets // 2
    assert features.shape[0] == 50 and np.argmax(level[:, centre]) == 25
    assert np.argmax(level[25]) == centre


def test_the_cli_needs_a_folder_of_videos(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engine", "eval-lipsync", "--linear-reference", "--out",
                           str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode != 0 and "--linear-reference needs --videos" in done.stderr
    with pytest.raises(ValueError, match="held-out clips"):
        linear_reference([c for c in _clips(True) if c.held_out])
