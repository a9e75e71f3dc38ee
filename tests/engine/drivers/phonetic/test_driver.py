"""The phonetic driver end to end: audio -> MotionClip whose mouth follows the speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.animate import animate
from engine.audio import audio_from_array, features_of, load_audio
from engine.cli.main import main
from engine.head import load_head
from engine.motion import MotionClip
from engine.drivers.phonetic.metrics import mouth_opening

ROOT = Path(__file__).resolve().parents[4]
SAMPLE = ROOT / "engine" / "data" / "voices" / "sample_en.wav"
REAL_SPEECH = ROOT.parent / "shared" / "samples" / "test_sentence.wav"
TRANSCRIPT = "severe myopia contributed to ron's inferiority complex"
RATE = 16000


@pytest.fixture(scope="module")
def head():
    return load_head()


def loudness_at(audio, times):
    features = features_of(audio)
    return np.interp(times, features.times, features.energy_db)


def test_mouth_follows_the_shipped_voice(head):
    audio = load_audio(SAMPLE)
    clip = animate(audio, fps=30, driver="phonetic")
    opening = mouth_opening(head, clip)
    assert clip.metadata["driver"] == "phonetic" and opening.max() > 10.0
    loud = loudness_at(audio, clip.times() - clip.times()[0])
    assert np.corrcoef(opening, np.maximum(loud, -60.0))[0, 1] > 0.3


def test_silence_gives_a_closed_relaxed_mouth(head):
    clip = animate(audio_from_array(np.zeros(2 * RATE), RATE), fps=25, driver="phonetic")
    assert clip.num_frames == 50
    assert np.abs(mouth_opening(head, clip)).max() < 0.5


@pytest.mark.parametrize("damage", ["clipped", "dc_offset"])
def test_clipping_and_dc_offset_are_valid_input(head, damage):
    audio = load_audio(SAMPLE)
    samples = np.clip(audio.samples * 8.0, -1, 1) if damage == "clipped" else audio.samples + 0.3
    clip = animate(audio_from_array(samples, audio.rate), fps=30, driver="phonetic")
    assert np.all(np.isfinite(clip.values)) and mouth_opening(head, clip).max() > 8.0


@pytest.mark.skipif(not REAL_SPEECH.exists(), reason="the shared real-speech samples are not here")
def test_real_speech_on_the_command_line_with_and_without_transcript(tmp_path, capsys, head):
    recognised, aligned = tmp_path / "clip.npz", tmp_path / "aligned.npz"
    assert main(["animate", str(REAL_SPEECH), "--driver", "phonetic", "-o", str(recognised), "--fps", "24"]) == 0
    assert main(["animate", str(REAL_SPEECH), "-o", str(aligned), "--fps", "24", "--transcript", TRANSCRIPT]) == 0
    for path in (recognised, aligned):
        clip = MotionClip.load(path)
        assert clip.fps == 24 and clip.num_frames == int(np.ceil(clip.metadata["duration_s"] * 24 - 1e-9))
        opening = mouth_opening(head, clip)
        loud = loudness_at(load_audio(REAL_SPEECH), clip.times() - clip.times()[0])
        assert np.corrcoef(opening, np.maximum(loud, -60.0))[0, 1] > 0.3
    closed = mouth_opening(head, MotionClip.load(aligned)) < 1.5
    speaking = np.flatnonzero(loudness_at(load_audio(REAL_SPEECH), np.arange(closed.size) / 24.0) > -35.0)
    inside = closed[speaking[0]:speaking[-1] + 1]
    # "myopia", "contributed", "complex": the lips close inside the speech at least three times
    assert np.flatnonzero(np.diff(inside.astype(int)) == 1).size >= 3
    assert MotionClip.load(aligned).metadata["transcript"] == TRANSCRIPT
