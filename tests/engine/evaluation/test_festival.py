"""Festival as the held-out synthesizer: its own segment timings, mapped to ARPAbet."""

from __future__ import annotations

import shutil

import pytest

from engine.errors import EngineError, InputError
from engine.drivers.phonetic.phones import PHONE_SET
from engine.evaluation.festival import (festival_label, festival_utterance, heldout_festival_clips,
                                             phones_from_segments, synthesize_festival)
from engine.evaluation.sentences import SentenceGenerator

pytestmark = pytest.mark.skipif(shutil.which("festival") is None, reason="festival is not installed")
TEXT = 'Measure the "beige" boy\'s usual thing; isn\'t it judged by the church?'


def test_segments_end_with_the_audio_and_increase():
    audio, segments = festival_utterance(TEXT)
    ends = [end for _, end in segments]
    assert ends == sorted(ends) and audio.rate == 16000
    assert abs(ends[-1] - audio.duration) < 0.05


def test_phones_are_arpabet_and_tile_the_audio():
    audio, phones = synthesize_festival(TEXT)
    assert {p.label for p in phones} <= set(PHONE_SET)
    assert phones[0].start == 0.0 and phones[-1].end == pytest.approx(audio.duration)
    assert all(a.end == b.start for a, b in zip(phones, phones[1:]))
    spoken = [p.label for p in phones if p.label != "SIL"]
    assert spoken[:4] == ["M", "EH", "ZH", "ER"] and "OY" in spoken and "CH" in spoken


def test_stretch_slows_and_pitch_keeps_duration():
    base, _ = synthesize_festival("Hello there.")
    slow, _ = synthesize_festival("Hello there.", stretch=1.5)
    high, _ = synthesize_festival("Hello there.", f0_mean=150.0)
    assert slow.duration > 1.3 * base.duration
    assert high.duration == pytest.approx(base.duration, abs=0.02)


def test_radio_names_map_to_arpabet():
    assert [festival_label(n) for n in ("pau", "ax", "axr", "dx", "el", "hh", "zh")] == \
        ["SIL", "AH", "ER", "D", "L", "HH", "ZH"]
    with pytest.raises(EngineError, match="no ARPAbet mapping"):
        festival_label("qq")
    phones = phones_from_segments([("pau", 0.2), ("hh", 0.3), ("ax", 0.4)], 0.5)
    assert [(p.label, p.start, p.end) for p in phones] == [("SIL", 0.0, 0.2), ("HH", 0.2, 0.3),
                                                           ("AH", 0.3, 0.4), ("SIL", 0.4, 0.5)]


def test_heldout_clips_are_seeded_and_apart_from_the_corpus_texts():
    clips = heldout_festival_clips(2, seed=0)
    assert [c[2] for c in clips] == [c[2] for c in heldout_festival_clips(2, seed=0)]
    corpus_text = " ".join(SentenceGenerator(0).sentences(10))
    for audio, phones, text in clips:
        assert text and text not in corpus_text and phones[-1].end == pytest.approx(audio.duration)


def test_bad_inputs_are_one_sentence_errors():
    with pytest.raises(InputError, match="empty"):
        synthesize_festival(" ")
    with pytest.raises(InputError, match="stretch"):
        synthesize_festival("Hi.", stretch=9.0)


def test_training_voices_are_other_speakers_with_the_same_phone_set():
    from engine.evaluation.festival import FESTIVAL_VOICES, HELDOUT_VOICE
    import numpy as np
    spoken = {}
    for voice in FESTIVAL_VOICES:
        audio, phones = synthesize_festival("Bob may fetch the thin cheese.", voice=voice)
        assert audio.source == f"festival:{voice}" and phones[-1].end == pytest.approx(audio.duration)
        spoken[voice] = [p.label for p in phones if p.label != "SIL"]
        assert spoken[voice][:3] == ["B", "AA", "B"] and "CH" in spoken[voice] and "TH" in spoken[voice]
    base, other = (synthesize_festival("Hello.", voice=v)[0].samples for v in (HELDOUT_VOICE, FESTIVAL_VOICES[2]))
    assert base.shape != other.shape or not np.allclose(base, other)   # a different speaker
    with pytest.raises(InputError, match="Unknown festival voice"):
        synthesize_festival("Hi.", voice="nobody")


def test_a_festival_corpus_can_draw_training_voices():
    from engine.training.corpus import CorpusConfig
    from engine.training.corpus.recipe import make_shard
    config = CorpusConfig(synthesizer="festival", festival_voices=("ked_diphone", "cmu_us_slt_arctic_hts"),
                          minutes=0.2, shard_seconds=12.0)
    voices = {clip.voice for clip in make_shard(config, 0, 12.0)}
    assert voices <= {"festival:ked_diphone", "festival:cmu_us_slt_arctic_hts"} and voices
    with pytest.raises(InputError, match="festival voices"):
        CorpusConfig(festival_voices=("kal_diphone", "nobody"))
