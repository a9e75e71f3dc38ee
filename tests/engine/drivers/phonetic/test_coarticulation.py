"""Coarticulation on the built-in head: known answers measured on the posed mesh."""

from __future__ import annotations

import numpy as np
import pytest

from engine.head import load_head
from engine.motion import MotionClip
from engine.drivers.phonetic.coarticulation import articulate, constraint_weight, segments
from engine.drivers.phonetic.metrics import closure_score, mouth_opening
from engine.drivers.phonetic.phones import ARPABET, BILABIALS, Phone
from engine.drivers.phonetic.visemes import LIP_GAP_MM, MOUTH_CHANNELS, PHONE_VISEMES, lip_gap_mm
from engine.style import SpeakingStyle


@pytest.fixture(scope="module")
def head():
    return load_head()


def spoken(labels, durations=None, start=0.3):
    """Phones for `labels` (space-separated), 120 ms vowels / 70 ms consonants, after a pause."""
    phones, t = [Phone("SIL", 0.0, start)], start
    for k, label in enumerate(labels.split()):
        d = durations[k] if durations else (0.12 if label in ("AA", "AE", "AH", "AO", "EH", "IY", "IH", "UW", "OW",
                                                               "AY", "EY", "ER", "UH", "AW", "OY") else 0.07)
        phones.append(Phone(label, t, t + d))
        t += d
    phones.append(Phone("SIL", t, t + 0.3))
    return phones


def clip_of(channels, fps):
    names = sorted(channels)
    return MotionClip(names, np.stack([channels[n] for n in names], 1), fps)


def random_speech(rng, n=60):
    labels = [ARPABET[i] for i in rng.integers(0, len(ARPABET), n)]
    labels = [BILABIALS[k % 3] if k % 5 == 2 else label for k, label in enumerate(labels)]
    durations = rng.uniform(0.04, 0.2, n)
    return spoken(" ".join(labels), list(durations))


def test_lip_gap_model_matches_the_head(head):
    names = head.expression_names
    def gap(channel, amount):
        expression = np.zeros(len(names), np.float32)
        pose = np.zeros((5, 3), np.float32)
        pose[2, 0] = 0.1  # slightly open jaw, where the model is used
        if channel == "jaw_rx":
            pose[2, 0] += amount
        else:
            expression[names.index(channel)] = amount
        clip = clip_of({n: np.array([expression[k]]) for k, n in enumerate(names)} |
                       {"jaw_rx": np.array([pose[2, 0]])}, 30)
        return mouth_opening(head, clip)[0]
    for channel, slope in LIP_GAP_MM.items():
        measured = (gap(channel, 0.05) - gap(channel, 0.0)) / 0.05
        assert measured == pytest.approx(slope, rel=0.25, abs=1.0), channel


def test_every_phone_has_a_viseme_and_diphthongs_have_two():
    assert set(PHONE_VISEMES) >= set(ARPABET)
    names, starts, ends = segments([Phone("AY", 0.0, 0.2), Phone("T", 0.2, 0.3)])
    assert names == ["open", "close_front", "alveolar"]
    np.testing.assert_allclose(starts, [0.0, 0.1, 0.2])
    np.testing.assert_allclose(ends, [0.1, 0.2, 0.3])


@pytest.mark.parametrize("fps", [23.976, 25.0, 30.0, 60.0])
def test_lips_close_on_every_bilabial_at_any_frame_rate(head, fps):
    phones = random_speech(np.random.default_rng(int(fps)))
    times = np.arange(int(phones[-1].end * fps)) / fps
    opening = mouth_opening(head, clip_of(articulate(phones, times), fps))
    score = closure_score(opening, fps, phones)
    assert score.bilabials > 3 and score.recall == 1.0


def test_vowels_open_and_silence_rests(head):
    phones = spoken("HH AA")
    fps = 60.0
    times = np.arange(int(phones[-1].end * fps) + 30) / fps
    opening = mouth_opening(head, clip_of(articulate(phones, times), fps))
    aa = phones[2]
    assert opening[int((aa.start + aa.end) / 2 * fps)] > 8.0
    assert abs(opening[0]) < 0.5 and abs(opening[-1]) < 0.5


def test_labiodentals_bring_the_lower_lip_to_the_teeth(head):
    phones = spoken("AA F AA V AA")
    fps = 100.0
    times = np.arange(int(phones[-1].end * fps)) / fps
    values = articulate(phones, times)
    opening = mouth_opening(head, clip_of(values, fps))
    for p in phones:
        if p.label in ("F", "V"):
            k = int(round((p.start + p.end) / 2 * fps))
            assert values["mouthRollLower"][k] >= 0.5
            assert 0.5 < opening[k] < 5.0


def test_lip_rounding_is_anticipated_across_consonants():
    fps = 100.0
    rounded, spread = spoken("IY S T UW"), spoken("IY S T IY")
    times = np.arange(int(rounded[-1].end * fps)) / fps
    s = rounded[2]
    k = int(round((s.start + s.end) / 2 * fps))
    assert articulate(rounded, times)["mouthPucker"][k] > articulate(spread, times)["mouthPucker"][k] + 0.1


def test_silence_and_no_phones_give_a_resting_mouth():
    times = np.arange(30) / 30.0
    for phones in ([], [Phone("SIL", 0.0, 1.0)]):
        values = articulate(phones, times)
        assert set(values) == set(MOUTH_CHANNELS)
        assert all(np.abs(v).max() < 1e-6 for v in values.values())


def test_articulation_scales_the_mouth_and_zero_keeps_it_still():
    phones = spoken("M AA P IY B AA")
    times = np.arange(90) / 60.0
    full = articulate(phones, times)
    half = articulate(phones, times, SpeakingStyle(articulation=0.5))
    still = articulate(phones, times, SpeakingStyle(articulation=0.0))
    assert half["jaw_rx"].max() == pytest.approx(0.5 * full["jaw_rx"].max(), rel=1e-5)
    assert all(np.abs(v).max() == 0.0 for v in still.values())


def test_smoothness_blends_neighbours_more():
    phones = spoken("AA T AA T AA T AA")
    times = np.arange(120) / 100.0
    sharp = articulate(phones, times, SpeakingStyle(smoothness=0.5))["jaw_rx"]
    smooth = articulate(phones, times, SpeakingStyle(smoothness=2.5))["jaw_rx"]
    inside = slice(35, 110)
    assert np.ptp(smooth[inside]) < 0.6 * np.ptp(sharp[inside])


def test_curves_are_the_same_at_any_frame_rate():
    phones = random_speech(np.random.default_rng(3), n=20)
    t30 = np.arange(60) / 30.0
    t60 = np.arange(120) / 60.0
    a, b = articulate(phones, t30), articulate(phones, t60)
    for name in ("jaw_rx", "mouthPucker", "mouthStretchLeft"):
        np.testing.assert_allclose(a[name], b[name][::2], atol=1e-6)


def test_constraint_weight_known_answers():
    times = np.arange(10) / 10.0
    w = constraint_weight([Phone("M", 0.41, 0.44)], times, ramp=0.1)  # no frame inside: widened
    np.testing.assert_allclose(w, [0, 0, 0, 0.25, 1.0, 0.75, 0, 0, 0, 0], atol=1e-9)
    assert constraint_weight([], times, 0.1).sum() == 0.0


def test_values_stay_in_range_and_linear_gap_is_never_open_on_bilabials():
    phones = random_speech(np.random.default_rng(11), n=200)
    fps = 30.0
    times = np.arange(int(phones[-1].end * fps)) / fps
    values = articulate(phones, times, SpeakingStyle(articulation=2.0, smoothness=3.0))
    for name, v in values.items():
        assert v.dtype == np.float32 and np.all(np.isfinite(v)) and v.min() >= 0.0
        if name != "jaw_rx":
            assert v.max() <= 1.0
    gap = lip_gap_mm(values)
    for p in phones:
        if p.label in BILABIALS:
            k = int(np.argmin(np.abs(times - (p.start + p.end) / 2)))
            assert gap[k] <= 1.0


def test_a_short_pause_between_words_does_not_close_the_mouth(head):
    fps = 100.0
    joined = spoken("AA SIL AA", durations=[0.15, 0.08, 0.15])
    times = np.arange(int(joined[-1].end * fps)) / fps
    opening = mouth_opening(head, clip_of(articulate(joined, times), fps))
    pause = joined[2]
    assert opening[int(round((pause.start + pause.end) / 2 * fps))] > 5.0
    long_pause = spoken("AA SIL AA", durations=[0.15, 0.5, 0.15])
    times = np.arange(int(long_pause[-1].end * fps)) / fps
    opening = mouth_opening(head, clip_of(articulate(long_pause, times), fps))
    pause = long_pause[2]
    assert opening[int(round((pause.start + pause.end) / 2 * fps))] < 3.0
