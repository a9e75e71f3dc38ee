"""Phone recognition: silence, known sentences (espeak-ng and real speech), the aligner's
fallback, letter-to-sound, chunked decoding on worker processes, cancellation, the splitter."""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.audio.load import load_audio
from engine.errors import AudioError, Cancelled, InputError, ModelError
from engine.drivers.phonetic import recognize
from engine.drivers.phonetic.phones import BILABIALS, PHONE_SET, SILENCE, Phone
from engine.drivers.phonetic.recognize import (FALLBACK_MESSAGE, STAGE, chunk_count, frame_energy_db,
                                       recognize_phones, speech_spans, split_at_pauses)
from engine.drivers.phonetic.spelling import letter_to_sound, transcript_words
from engine.progress import CancelToken, Reporter

RATE = 16000
BILABIAL_SENTENCE = "my baby bought a pepper map"
REAL_SENTENCE = "severe myopia contributed to ron's inferiority complex"
REAL_SAMPLE = Path("/work/shared/samples/test_sentence.wav")
NEAR = 0.05  # seconds: how far from a word a recognised bilabial may start or end
CLOSURE_DIP_DB = {"P": 30.0, "B": 12.0}  # espeak: P closures are silent (-85 dB), B's voiced (-17 dB)
LONG_SENTENCES = ("the big brown bear moved in the bushes by the pond",
                  "please pass me the bread and butter before the meal",
                  "we will meet at the museum by the main bridge",
                  "every morning she walks her dog along the river bank")

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng makes the test speech")


def speak(folder: Path, text: str) -> np.ndarray:
    """espeak-ng (US voice) saying `text`: samples [N] at 16 kHz."""
    path = folder / f"{abs(hash(text))}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True, capture_output=True)
    return load_audio(path).samples


@pytest.fixture(scope="module")
def bilabial_speech(tmp_path_factory) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng makes the test speech")
    return speak(tmp_path_factory.mktemp("speech"), BILABIAL_SENTENCE)


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory) -> np.ndarray:
    """About 40 s: four espeak sentences with 0.6 s pauses, repeated."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng makes the test speech")
    folder, pause = tmp_path_factory.mktemp("long"), np.zeros(int(0.6 * RATE), np.float32)
    block = np.concatenate([part for text in LONG_SENTENCES for part in (speak(folder, text), pause)])
    return np.tile(block, int(np.ceil(40 * RATE / len(block))))[:40 * RATE]


def dictionary() -> dict[str, list[str]]:
    """The pronunciations of the model's CMU dictionary: {word: [phones, ...]}."""
    import pocketsphinx

    entries: dict[str, list[str]] = {}
    path = os.path.join(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict")
    with open(path) as f:
        for line in f:
            word, *phones = line.split()
            entries.setdefault(re.sub(r"\(\d+\)$", "", word), []).append(" ".join(phones))
    return entries


def word_spans(phones: list[Phone], text: str, extra: dict[str, str] = {}) -> list[tuple[str, float, float]]:
    """(pronunciation, start, end) of each word of `text` in aligned `phones`; fails unless the
    non-silent labels spell one dictionary pronunciation per word, in order."""
    speech = [p for p in phones if p.label != SILENCE]
    entries = dictionary()
    options = [[extra[w]] if w in extra else entries[w] for w in text.split()]
    pattern = " ".join("(" + "|".join(map(re.escape, prons)) + ")" for prons in options)
    labels = " ".join(p.label for p in speech)
    match = re.fullmatch(pattern, labels)
    assert match, f"{labels!r} is not a dictionary pronunciation of {text!r}"
    spans = []
    for k in range(1, len(options) + 1):
        first = labels[:match.start(k)].count(" ")
        last = first + match.group(k).count(" ")
        spans.append((match.group(k), speech[first].start, speech[last].end))
    return spans


def assert_covers(phones: list[Phone], duration: float) -> None:
    assert phones[0].start == 0.0 and abs(phones[-1].end - duration) < 1e-6
    assert all(a.end == b.start and a.start < a.end for a, b in zip(phones, phones[1:]))
    assert {p.label for p in phones} <= set(PHONE_SET)


def missed_bilabial_words(phones: list[Phone], spans) -> list[str]:
    """The words with a P/B/M in their pronunciation that no recognised P/B/M comes near."""
    found = [p for p in phones if p.label in BILABIALS]
    return [pron for pron, start, end in spans if set(pron.split()) & set(BILABIALS)
            and not any(p.start < end + NEAR and p.end > start - NEAR for p in found)]


# ----------------------------------------------------------------------------- small inputs

@pytest.mark.parametrize("rate", [16000, 22050])
def test_silence_is_one_silent_phone(rate):
    assert recognize_phones(np.zeros(rate, np.float32), rate) == [Phone(SILENCE, 0.0, 1.0)]
    assert recognize_phones(np.zeros(rate, np.float32), rate, transcript="hello") == [Phone(SILENCE, 0.0, 1.0)]


def test_fifty_milliseconds_work():
    t = np.arange(800) / RATE
    for samples in (0.5 * np.sin(2 * np.pi * 150 * t), np.random.default_rng(0).normal(0, 0.2, 800)):
        assert_covers(recognize_phones(samples.astype(np.float32), RATE), 0.05)


@pytest.mark.parametrize("samples", [np.zeros(0, np.float32), np.array([0.1, np.nan, 0.0], np.float32)])
def test_empty_or_nan_samples_raise_audio_error(samples):
    with pytest.raises(AudioError):
        recognize_phones(samples, RATE)


def test_zero_workers_is_an_input_error():
    with pytest.raises(InputError, match="workers"):
        recognize_phones(np.zeros(RATE, np.float32), RATE, workers=0)


def test_missing_model_says_to_reinstall(monkeypatch, tmp_path):
    import pocketsphinx

    monkeypatch.setattr(pocketsphinx, "get_model_path", lambda: str(tmp_path))
    samples = 0.3 * np.sin(np.arange(RATE) / RATE * 2 * np.pi * 200).astype(np.float32)
    with pytest.raises(ModelError, match=r"pocketsphinx==5\.1\.1"):
        recognize_phones(samples, RATE)


# ----------------------------------------------------------------------------- known sentences

@needs_espeak
def test_alignment_spells_the_dictionary_and_finds_every_bilabial(bilabial_speech):
    phones = recognize_phones(bilabial_speech, RATE, transcript="My baby bought a pepper-map!")
    assert_covers(phones, len(bilabial_speech) / RATE)
    spans = word_spans(phones, BILABIAL_SENTENCE)
    assert [p for p in phones if p.label in BILABIALS] and not missed_bilabial_words(phones, spans)
    energy, loud = frame_energy_db(bilabial_speech), np.percentile(frame_energy_db(bilabial_speech), 95)
    for stop in (p for p in phones if p.label in CLOSURE_DIP_DB):  # a stop's closure is quiet
        closure = energy[max(0, int((stop.start - NEAR) * 100)):int((stop.end + NEAR) * 100) + 1]
        assert closure.min() < loud - CLOSURE_DIP_DB[stop.label], stop


@needs_espeak
def test_all_phone_recognition_finds_a_bilabial_in_every_bilabial_word(bilabial_speech):
    spans = word_spans(recognize_phones(bilabial_speech, RATE, transcript=BILABIAL_SENTENCE), BILABIAL_SENTENCE)
    phones = recognize_phones(bilabial_speech, RATE)
    assert_covers(phones, len(bilabial_speech) / RATE)
    assert not missed_bilabial_words(phones, spans)


@pytest.mark.skipif(not REAL_SAMPLE.exists(), reason="the shared real-speech sample is not here")
def test_real_speech_aligns_and_all_phone_hears_myopia_and_complex():
    audio = load_audio(REAL_SAMPLE)
    spans = word_spans(recognize_phones(audio.samples, RATE, transcript=REAL_SENTENCE), REAL_SENTENCE)
    phones = recognize_phones(audio.samples, RATE)
    assert_covers(phones, audio.duration)
    missed = missed_bilabial_words(phones, spans)
    assert len(missed) <= 1 and "M AY OW P IY AH" not in missed and "K AA M P L EH K S" not in missed


@needs_espeak
@pytest.mark.parametrize("transcript", ["hello world", "the cat sat on the mat"])  # aligns badly / not at all
def test_wrong_transcript_falls_back_to_all_phone(bilabial_speech, transcript):
    events = []
    phones = recognize_phones(bilabial_speech, RATE, transcript=transcript, reporter=Reporter(events.append))
    assert phones == recognize_phones(bilabial_speech, RATE)
    assert any(e.stage == STAGE and e.message == FALLBACK_MESSAGE for e in events)


@needs_espeak
def test_unknown_word_is_aligned_by_letter_to_sound(tmp_path):
    assert recognize.new_decoder(all_phones=False).lookup_word("zorblat") is None
    samples = speak(tmp_path, "the zorblat is big")
    phones = recognize_phones(samples, RATE, transcript="the zorblat is big")
    spans = word_spans(phones, "the zorblat is big", extra={"zorblat": "Z AO R B L AE T"})
    assert spans[1][0] == "Z AO R B L AE T" and spans[1][1] < spans[2][1]


@pytest.mark.parametrize("word, phones", [("blorptastic", "B L AO R P T AE S T IH K"), ("cake", "K EY K"),
                                          ("knight", "N AY T"), ("city", "S IH T IY"), ("judge", "JH AH JH"),
                                          ("bubble", "B AH B L"), ("phone", "F OW N"), ("yes", "Y EH S")])
def test_letter_to_sound_known_answers(word, phones):
    assert letter_to_sound(word) == phones


def test_transcript_words_spell_numbers_and_drop_punctuation():
    assert transcript_words("It's 42 o'clock, café! (7)") == ["it's", "forty", "two", "o'clock", "cafe", "seven"]
    assert transcript_words("In 2024: 'quoted' 13") == ["in", "two", "zero", "two", "four", "quoted", "thirteen"]
    assert transcript_words("?! --") == []


# ----------------------------------------------------------------------------- long audio

@needs_espeak
def test_two_workers_agree_with_one_and_report_each_chunk(long_speech):
    events = []
    parallel = recognize_phones(long_speech, RATE, workers=2, reporter=Reporter(events.append))
    single = recognize_phones(long_speech, RATE, workers=1)
    for phones in (parallel, single):
        assert_covers(phones, 40.0)
    same = difflib.SequenceMatcher(None, [p.label for p in parallel], [p.label for p in single], autojunk=False)
    assert same.ratio() >= 0.9
    chunks = [e for e in events if e.stage == STAGE]
    assert chunks[0].total == chunk_count(40.0, 2) == 4 and chunks[-1].done == 4


@needs_espeak
def test_spawned_workers_decode_like_forked_ones(long_speech, monkeypatch):
    import multiprocessing

    speech = long_speech[:21 * RATE]  # two chunks, the fewest that use a pool
    forked = recognize_phones(speech, RATE, workers=2)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert recognize_phones(speech, RATE, workers=2) == forked


@needs_espeak
@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_stops_between_chunks(long_speech, workers):
    token = CancelToken()
    listener = lambda event: token.cancel() if event.done >= 1 else None  # noqa: E731
    with pytest.raises(Cancelled):
        recognize_phones(long_speech, RATE, workers=workers, reporter=Reporter(listener, token))


def test_set_cancel_token_stops_before_any_work():
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        recognize_phones(np.random.default_rng(1).normal(0, 0.1, RATE).astype(np.float32), RATE,
                         reporter=Reporter(cancel=token))


def test_chunk_count_is_a_multiple_of_the_workers():
    assert [chunk_count(d, w) for d, w in [(5, 2), (19, 4), (40, 1), (40, 2), (64, 2), (64, 1)]] == [1, 2, 4, 4, 8, 7]


def test_frame_energy_known_answers():
    t = np.arange(1600) / RATE
    assert np.allclose(frame_energy_db(np.sin(2 * np.pi * 500 * t)), 10 * np.log10(0.5), atol=0.01)
    assert np.allclose(frame_energy_db(np.zeros(1601)), -100.0) and frame_energy_db(np.zeros(1601)).shape == (11,)


def test_splits_land_in_pauses():
    energy = np.full(3000, -20.0)  # 30 s of 10 ms frames, loud but for four 0.3 s pauses
    pauses = [(665, 695), (1395, 1425), (1635, 1665), (2285, 2315)]
    for first, last in pauses:
        energy[first:last] = -90.0
    cuts = split_at_pauses(energy, 4)
    assert cuts[0] == 0 and cuts[-1] == 3000 and len(cuts) == 5
    assert [any(first <= c < last for first, last in pauses) for c in cuts[1:-1]] == [True, True, True]
    assert 1395 <= cuts[2] < 1425  # of two pauses in reach, the one nearer the even cut (1500)


def test_silent_chunks_are_not_decoded():
    rng = np.random.default_rng(2)
    samples = np.zeros(40 * RATE, np.float32)
    samples[:8 * RATE] = rng.normal(0, 0.1, 8 * RATE)
    spans = speech_spans(samples, 4)
    assert len(spans) == 1 and spans[0][0] == 0 and 8 * RATE <= spans[0][1] <= int(8.3 * RATE)
