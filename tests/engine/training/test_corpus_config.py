"""CorpusConfig rejects typos and bad values; speaking styles are drawn from a seeded spread."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.errors import InputError
from engine.style import NEUTRAL, RANGES
from engine.training.corpus.config import CorpusConfig, read_config, save_or_check_config
from engine.training.corpus.variation import sample_style, sample_voice


def test_round_trip_through_json():
    config = CorpusConfig.from_dict({"minutes": 1.5, "voices": ["en-us"], "augmentation": {"p_noise": 1.0}})
    again = CorpusConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


@pytest.mark.parametrize("values, message", [
    ({"minuts": 3}, "Unknown corpus setting 'minuts'"),
    ({"augmentation": {"p_nois": 0.5}}, "Unknown corpus augmentation setting 'p_nois'"),
    ({"synthesizer": "sam"}, "Unknown synthesizer"),
    ({"minutes": 0}, "positive"),
    ({"fps": float("nan")}, "positive"),
    ({"rate_range": [200, 100]}, "low <= high"),
    ({"augmentation": {"p_clip": 1.5}}, "between 0 and 1"),
    ({"voices": []}, "at least one voice"),
    ({"style_spread": -1}, "0 or more"),
])
def test_bad_settings_are_one_sentence_input_errors(values, message):
    with pytest.raises(InputError, match=message):
        CorpusConfig.from_dict(values)


def test_a_folder_keeps_its_config(tmp_path):
    save_or_check_config(CorpusConfig(minutes=1.0), tmp_path)
    save_or_check_config(CorpusConfig(minutes=1.0), tmp_path)  # the same: resume
    assert read_config(tmp_path) == CorpusConfig(minutes=1.0)
    with pytest.raises(InputError, match=r"other settings \(minutes, seed\)"):
        save_or_check_config(CorpusConfig(minutes=2.0, seed=4), tmp_path)


def test_styles_are_neutral_at_zero_spread_and_varied_within_ranges():
    assert sample_style(np.random.default_rng(0), 0.0) == NEUTRAL
    styles = [sample_style(np.random.default_rng(k)) for k in range(200)]
    values = np.array([[getattr(s, n) for n in RANGES] for s in styles])
    assert all(RANGES[n][0] <= v <= RANGES[n][1] for row in values for n, v in zip(RANGES, row))
    assert (values.std(axis=0) > 0.1).all()  # every parameter varies
    assert np.allclose(np.median(values, axis=0), [getattr(NEUTRAL, n) for n in RANGES], rtol=0.15, atol=0.1)
    assert sample_style(np.random.default_rng(5)) == sample_style(np.random.default_rng(5))


def test_voices_are_drawn_from_the_config():
    config = CorpusConfig(voices=("en-us", "en"), variants=("", "f2"), rate_range=(150, 160))
    voices = [sample_voice(np.random.default_rng(k), config) for k in range(40)]
    assert {v.voice for v in voices} == {"en-us", "en", "en-us+f2", "en+f2"}
    assert all(150 <= v.rate <= 160 for v in voices)
    festival = sample_voice(np.random.default_rng(0), CorpusConfig(synthesizer="festival"))
    assert festival.voice == "festival:kal_diphone" and 0.85 <= festival.stretch <= 1.2
