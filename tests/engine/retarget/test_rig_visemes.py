"""A rig's Oculus visemes from the mouth channels: held visemes, halves and blends give known weights, and
real coarticulated speech closes on viseme_PP and opens on viseme_aa."""

from __future__ import annotations

import numpy as np
import pytest

from engine.drivers.phonetic.coarticulation import articulate
from engine.drivers.phonetic.phones import Phone
from engine.retarget import (VISEME_NAMES, Mapping, add_viseme_channels, is_viseme_channel, viseme_channels,
                             wants_visemes)
from engine.retarget.rig_visemes import JAW_OPEN, features, mouth_channels, viseme_poses

MOUTH_CHANNELS = mouth_channels()

OCULUS = ("viseme_sil", "viseme_PP", "viseme_FF", "viseme_TH", "viseme_DD", "viseme_kk", "viseme_CH", "viseme_SS",
          "viseme_nn", "viseme_RR", "viseme_aa", "viseme_E", "viseme_I", "viseme_O", "viseme_U")


def index(name: str) -> int:
    return VISEME_NAMES.index(name)


def test_the_oculus_set_in_its_order():
    assert VISEME_NAMES == OCULUS
    assert is_viseme_channel("VISEME_pp") and not is_viseme_channel("jawOpen")


def test_every_viseme_but_rest_stands_for_english_phones():
    from engine.drivers.phonetic.phones import ARPABET
    from engine.retarget.rig_visemes import VISEME_PHONES

    assert VISEME_PHONES["viseme_sil"] == ()
    assert all(phones and set(phones) <= set(ARPABET) for v, phones in VISEME_PHONES.items() if v != "viseme_sil")


def test_a_held_viseme_is_its_own_key_alone():
    poses = viseme_poses()
    _, weights = viseme_channels(MOUTH_CHANNELS, poses)
    np.testing.assert_allclose(weights, np.eye(len(OCULUS)), atol=1e-6)


def test_half_a_viseme_is_half_rest_and_blends_reproduce_the_mouth():
    poses = viseme_poses()
    _, weights = viseme_channels(MOUTH_CHANNELS, 0.5 * poses[index("viseme_aa")][None])
    assert weights[0, index("viseme_aa")] == pytest.approx(0.5, abs=1e-6)
    assert weights[0, index("viseme_sil")] == pytest.approx(0.5, abs=1e-6)
    mix = 0.3 * poses[index("viseme_PP")] + 0.7 * poses[index("viseme_O")]
    _, weights = viseme_channels(MOUTH_CHANNELS, mix[None])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(features(weights @ poses), features(mix[None]), atol=1e-6)  # the same mouth


def test_rest_is_silence_and_any_case_or_order_of_channels():
    poses = viseme_poses()
    names = list(reversed([n.upper() for n in MOUTH_CHANNELS])) + ["eyeBlinkLeft"]
    values = np.concatenate([np.stack([np.zeros(17), poses[index("viseme_U")]])[:, ::-1], np.ones((2, 1))], axis=1)
    _, weights = viseme_channels(names, values)
    assert weights[0, index("viseme_sil")] == pytest.approx(1.0)
    assert weights[1, index("viseme_U")] == pytest.approx(1.0, abs=1e-6)


def test_a_clip_without_a_mouth_rests():
    _, weights = viseme_channels(["eyeBlinkLeft"], np.ones((3, 1)))
    np.testing.assert_array_equal(weights[:, index("viseme_sil")], 1.0)
    names, values = add_viseme_channels([], np.zeros((4, 0)))
    assert names == list(OCULUS) and values.shape == (4, 15)


def test_a_jaw_alone_opens_on_aa():
    """A clip with only a jaw (an energy-like driver): viseme_aa takes the opening, rest the remainder."""
    jaw = np.linspace(0.0, 0.6, 13)
    _, weights = viseme_channels([JAW_OPEN], jaw[:, None])
    aa_jaw = viseme_poses()[index("viseme_aa"), 0]
    np.testing.assert_allclose(weights[:, index("viseme_aa")], np.minimum(jaw / aa_jaw, 1.0), atol=1e-6)
    np.testing.assert_allclose(weights[:, index("viseme_sil")], 1.0 - np.minimum(jaw / aa_jaw, 1.0), atol=1e-6)


def speech():
    """'M AA P AA F IY S UW' between silences (SIL 0.3 s, phones 0.12 s), coarticulated at 30 fps."""
    phones, t = [], 0.0
    for label in "SIL M AA P AA F IY S UW SIL".split():
        duration = 0.3 if label == "SIL" else 0.12
        phones.append(Phone(label, t, t + duration))
        t += duration
    times = np.arange(0.0, t, 1 / 30)
    mouth = articulate(phones, times)
    names = [JAW_OPEN] + [n for n in mouth if n != "jaw_rx"]
    values = np.stack([mouth["jaw_rx"] / 0.5] + [mouth[n] for n in names[1:]], axis=1)
    return phones, times, names, values


def test_speech_closes_on_pp_and_opens_on_aa():
    phones, times, names, values = speech()
    _, weights = viseme_channels(names, values)
    centre = {p.label + str(k): np.argmin(np.abs(times - 0.5 * (p.start + p.end))) for k, p in enumerate(phones)}
    for bilabial in ("M1", "P3"):
        assert np.argmax(weights[centre[bilabial]]) == index("viseme_PP")
        assert weights[centre[bilabial], index("viseme_PP")] > 0.5
    assert np.argmax(weights[centre["F5"]]) == index("viseme_FF")
    assert np.argmax(weights[centre["SIL0"] - 5]) == index("viseme_sil")
    aa = weights[:, index("viseme_aa")]
    assert aa[centre["AA2"]] > 0.5 and aa[centre["AA4"]] > 0.5
    assert np.corrcoef(aa, values[:, 0])[0, 1] > 0.7  # viseme_aa rises and falls with the jaw


def test_visemes_only_where_the_arkit_mouth_is_missing():
    assert wants_visemes(OCULUS + ("eyeBlinkLeft", "browInnerUp"))
    assert wants_visemes(("Viseme_PP", "viseme_aa"))
    assert not wants_visemes(OCULUS + ("jawOpen", "mouthClose"))  # a full RPM face: ARKit shapes win
    assert not wants_visemes(("JawOpen", "EyeBlink_L"))
    assert not wants_visemes(())


def test_vrchat_visemes_are_the_oculus_set_by_alias():
    from engine.retarget import map_by_name

    vrchat = ["vrc.v_sil", "vrc.v_pp", "vrc.v_ff", "vrc.v_th", "vrc.v_dd", "vrc.v_kk", "vrc.v_ch", "vrc.v_ss",
              "vrc.v_nn", "vrc.v_rr", "vrc.v_aa", "vrc.v_e", "vrc.v_ih", "vrc.v_oh", "vrc.v_ou"]
    assert wants_visemes(vrchat + ["Blink"]) and not wants_visemes(vrchat + ["jawOpen"])
    mapping = map_by_name(list(OCULUS) + ["eyeBlinkLeft"], vrchat)
    assert {c: t[0][0] for c, t in mapping.targets.items()} == dict(zip(OCULUS, vrchat))
    assert mapping.unmapped == ["eyeBlinkLeft"]


def test_viseme_channels_join_the_shape_channels():
    _, _, names, values = speech()
    joined, all_values = add_viseme_channels(names + ["viseme_PP"], np.concatenate([values, values[:, :1]], 1))
    assert joined == names + list(OCULUS)  # a stale viseme channel is replaced, not doubled
    np.testing.assert_allclose(all_values[:, :len(names)], values)
    np.testing.assert_allclose(all_values[:, len(names):].sum(axis=1), 1.0, atol=1e-9)


def test_a_mapping_restricted_to_another_mesh():
    mapping = Mapping(targets={"jawOpen": [("jawOpen", 1.0), ("JawOpen_extra", 0.5)], "eyeBlinkLeft": [("blink", 1.0)]},
                      unmapped=["cheekPuff"], bones={"jaw": "Jaw"}, method="name")
    teeth = mapping.restricted_to(["jawOpen", "mouthClose"])
    assert teeth.targets == {"jawOpen": [("jawOpen", 1.0)]}
    assert teeth.unmapped == ["cheekPuff", "eyeBlinkLeft"] and teeth.bones == {"jaw": "Jaw"} and teeth.method == "name"
