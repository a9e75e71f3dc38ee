"""The shipped ADF model (engine/models/adf.onnx): it loads, it is the default driver, and it
animates short, silent, shipped and real speech sensibly; same audio in two styles keeps the lips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.drivers.adf.runtime import DEFAULT_MODEL, load_model
from engine.animate import animate, default_driver
from engine.audio import audio_from_array, features_of, load_audio
from engine.head import load_head
from engine.drivers.phonetic.metrics import mouth_opening
from engine.style import preset

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "engine" / "data" / "voices" / "sample_en.wav"
REAL_SPEECH = ROOT.parent / "shared" / "samples" / "test_sentence.wav"


@pytest.fixture(scope="module")
def head():
    return load_head()


def test_the_model_ships_with_its_sidecar_and_recipe_and_is_the_default():
    model = load_model()
    recipe = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())["training"]
    assert "python -m engine.training.adf train" in recipe["recipe"] and recipe["config"]["corpora"]
    assert model.batched and default_driver() == "adf"
    assert default_driver(None) == "adf" and default_driver("hello there") == "phonetic"


def test_silence_and_a_fifth_of_a_second(head):
    silent = animate(audio_from_array(np.zeros(32000), 16000), fps=25)
    assert silent.metadata["driver"] == "adf" and silent.num_frames == 50
    assert np.abs(mouth_opening(head, silent)).max() < 3.0
    short = animate(audio_from_array(0.1 * np.sin(np.arange(3200) / 5.0), 16000), fps=30)
    assert short.num_frames == 6 and np.all(np.isfinite(short.values))


def loudness(audio, clip):
    """The voice's level at each frame of `clip`, read the clip's mouth lead later (the mouth shapes a sound
    that much before it is heard)."""
    features = features_of(audio)
    ahead = clip.metadata.get("lead_ms", 0.0) / 1000.0
    return np.maximum(np.interp(clip.times() - clip.times()[0] + ahead, features.times, features.energy_db), -60.0)


@pytest.mark.parametrize("path", [SAMPLE, REAL_SPEECH], ids=["shipped voice", "real speech"])
def test_the_mouth_follows_speech(head, path):
    if not path.exists():
        pytest.skip("the shared real-speech samples are not here")
    audio = load_audio(path)
    clip = animate(audio, fps=30)
    opening = mouth_opening(head, clip)
    assert opening.max() > 8.0 and np.corrcoef(opening, loudness(audio, clip))[0, 1] > 0.4
    closed = opening < 1.5
    assert 0 < np.count_nonzero(closed[1:] & ~closed[:-1])   # the lips close and open again in speech


def test_two_styles_same_lips_different_performance(head):
    audio = load_audio(SAMPLE)
    serious, happy = (animate(audio, fps=30, style=preset(name), seed=3) for name in ("serious", "happy"))
    a, b = mouth_opening(head, serious), mouth_opening(head, happy)
    assert np.corrcoef(a, b)[0, 1] > 0.9
    smile = [float(np.mean(c.values[:, c.names.index("mouthSmileLeft")])) for c in (serious, happy)]
    assert smile[1] > smile[0] + 0.1
    sway = [float(np.std(c.values[:, c.names.index("neck_ry")])) for c in (serious, happy)]
    assert sway[1] > 1.5 * sway[0]
