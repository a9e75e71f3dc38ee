"""espeak-ng through ctypes: phone timings from the synthesizer's own events, mapped to ARPAbet."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.errors import EngineError, InputError
from engine.drivers.phonetic.phones import PHONE_SET, VOWELS
from engine.training.corpus.config import ESPEAK_VARIANTS, ESPEAK_VOICES
from engine.training.corpus.espeak import speak, synthesize_espeak
from engine.training.corpus.espeak_phones import ESPEAK_TO_ARPABET, arpabet_for, is_pause
from engine.evaluation.sentences import SentenceGenerator

PHONTAB = Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data/phontab")
ENGLISH_TABLES = ("en", "en-n", "en-rp", "en-sc", "en-us", "en-us-nyc", "en-wi", "en-wm")
CLI_VOICES = ("en-us", "en", "en-gb-scotland", "en-029")  # en-us-nyc's -x output glues some phonemes
TEXT = "Hello world, the quick brown fox jumps over the lazy dog. Measure the beige boy's usual thing!"


def cli_phonemes(text: str, voice: str) -> list[str]:
    """The phoneme mnemonics `espeak-ng -x -q` reports, stress marks and pauses removed."""
    out = subprocess.run(["espeak-ng", "-v", voice, "-x", "-q", "--sep=|", text],
                         capture_output=True, text=True, check=True).stdout
    tokens = [re.sub(r"^_[!:|]*", "", t.strip("',%=")) for word in out.split() for t in word.split("|")]
    return [t for t in tokens if t]


@pytest.mark.parametrize("voice", CLI_VOICES)
def test_events_are_the_phonemes_espeak_reports(voice):
    for text in SentenceGenerator(11).sentences(12) + [TEXT]:
        events = [name for name, _ in speak(text, voice).events if not is_pause(name)]
        assert events == cli_phonemes(text, voice)


def test_event_times_increase_and_end_with_the_audio():
    speech = speak(TEXT, "en-us")
    samples = [s for _, s in speech.events]
    assert samples == sorted(samples) and samples[0] >= 0
    assert abs(speech.samples.shape[0] - samples[-1]) / speech.rate < 0.05  # the final pause ends the audio


def test_phones_tile_the_audio():
    audio, phones = synthesize_espeak(TEXT, "en-us+f3", rate=200, pitch=70)
    assert audio.rate == 16000 and phones[0].start == 0.0 and phones[-1].end == audio.duration
    assert all(a.end == b.start and a.start < a.end for a, b in zip(phones, phones[1:]))
    assert {p.label for p in phones} <= set(PHONE_SET)
    assert [p.label for p in phones[:5]] == ["SIL", "HH", "AH", "L", "OW"]


def test_vowels_are_voiced_at_their_middle_and_stops_hold_their_closure():
    audio, phones = synthesize_espeak(" ".join(SentenceGenerator(3).sentences(20)), "en-us")
    x, rate = audio.samples, audio.rate

    def peak(t, width=0.005):
        return np.abs(x[int((t - width) * rate):int((t + width) * rate)]).max()

    vowels = [p for p in phones if p.label in VOWELS]
    assert np.mean([peak((p.start + p.end) / 2) > 0.01 for p in vowels]) > 0.98
    pairs = [(phones[k - 1], p) for k, p in enumerate(phones)
             if p.label in ("P", "T", "K") and phones[k - 1].label in VOWELS]  # voiceless: a silent closure
    quiet = np.abs(x) < 3e-3
    held = [longest_run(quiet[int(stop.start * rate):int(stop.end * rate)]) > 0.008 * rate for _, stop in pairs]
    vowel_ends_quiet = [quiet[int(vowel.end * rate) - int(0.005 * rate):int(vowel.end * rate)].all()
                        for vowel, _ in pairs]
    assert len(pairs) > 15 and np.mean(held) > 0.9 and np.mean(vowel_ends_quiet) < 0.05


def longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True in flags [N]."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if starts.size else 0


def test_rate_changes_duration():
    slow, _ = synthesize_espeak(TEXT, rate=120)
    fast, _ = synthesize_espeak(TEXT, rate=300)
    assert fast.duration < 0.6 * slow.duration


def test_every_english_voice_maps_completely():
    text = " ".join(SentenceGenerator(5).sentences(150))
    for voice in ESPEAK_VOICES:
        for name, _ in speak(text, voice).events:
            assert all(label in PHONE_SET for label in arpabet_for(name)), name


def english_table_phonemes() -> set[str]:
    """Mnemonics the English phoneme tables of the installed espeak-ng define (phontab format:
    table count, then per table a 4-byte header, a 32-byte name and 16-byte phoneme records)."""
    data, offset, found = PHONTAB.read_bytes(), 4, set()
    for _ in range(data[0]):
        count, offset = data[offset], offset + 4
        name, offset = data[offset:offset + 32].split(b"\0")[0].decode(), offset + 32
        for k in range(count):
            mnemonic, _, _, _, kind = struct.unpack_from("<IIHBB", data, offset + 16 * k)
            label = struct.pack("<I", mnemonic).split(b"\0")[0].decode("latin1")
            if name in ENGLISH_TABLES and kind not in (0, 1) and label:  # not pauses nor stress marks
                found.add(label)
        offset += 16 * count
    return found


@pytest.mark.skipif(not PHONTAB.exists(), reason="espeak-ng data not at the Debian path")
def test_every_phoneme_of_the_english_tables_is_mapped():
    defined = english_table_phonemes()
    assert len(defined) > 60 and defined - set(ESPEAK_TO_ARPABET) == set()


def test_every_configured_voice_and_variant_exists():
    for voice in ESPEAK_VOICES:
        assert speak("Hi.", voice).samples.size > 0
    for variant in ESPEAK_VARIANTS[1:]:
        assert speak("Hi.", f"en-us+{variant}").samples.size > 0


def test_bad_inputs_are_one_sentence_errors():
    with pytest.raises(InputError, match="no voice"):
        speak("Hello.", "xx-nonexistent")
    with pytest.raises(InputError, match="empty"):
        speak("  ")
    with pytest.raises(InputError, match="rate"):
        speak("Hello.", rate=20)
    with pytest.raises(EngineError, match="no ARPAbet mapping"):
        arpabet_for("Q!")
    assert arpabet_for("_:") == ("SIL",) and arpabet_for("A@") == ("AA", "R") and arpabet_for(";") == ()
