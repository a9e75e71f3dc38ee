"""The sentence generator: seeded, well-formed, and covering every ARPAbet phone."""

from __future__ import annotations

import pytest

from engine.drivers.phonetic.phones import ARPABET
from engine.training.corpus.espeak import speak
from engine.training.corpus.espeak_phones import arpabet_for
from engine.evaluation.sentences import SentenceGenerator, number_words, plural


@pytest.mark.parametrize("n, words", [(0, "zero"), (7, "seven"), (19, "nineteen"), (40, "forty"),
                                      (73, "seventy-three"), (100, "one hundred"),
                                      (512, "five hundred and twelve"), (4012, "four thousand and twelve"),
                                      (21000, "twenty-one thousand"),
                                      (999999, "nine hundred and ninety-nine thousand nine hundred and ninety-nine")])
def test_number_words(n, words):
    assert number_words(n) == words


def test_plurals():
    assert [plural(n) for n in ("house", "church", "puzzle", "toy", "wolf", "bridge")] == \
        ["houses", "churches", "puzzles", "toys", "wolves", "bridges"]


def test_same_seed_same_sentences_other_seed_others():
    assert SentenceGenerator(3).sentences(20) == SentenceGenerator(3).sentences(20)
    assert SentenceGenerator(3).sentences(20) != SentenceGenerator(4).sentences(20)


def test_sentences_are_capitalised_punctuated_and_varied():
    sentences = SentenceGenerator(0).sentences(200)
    assert all(s[0].isupper() and s[-1] in ".?!" for s in sentences)
    assert not any(ch.isdigit() for s in sentences for ch in s)  # numbers are spelled out
    assert sum(s.endswith("?") for s in sentences) > 20           # questions
    assert sum(", and " in s for s in sentences) > 10              # lists
    assert len(set(sentences)) > 190
    lengths = [len(s.split()) for s in sentences]
    assert min(lengths) <= 2 and max(lengths) >= 15               # short and long


def test_every_arpabet_phone_is_spoken_in_200_sentences():
    text = " ".join(SentenceGenerator(1).sentences(200))
    spoken = {label for name, _ in speak(text, "en-us").events for label in arpabet_for(name)}
    assert set(ARPABET) - spoken == set()
