"""Retargeting by name: every spelling of a channel finds it; aliases cover rigs with other vocabularies."""

from __future__ import annotations

import pytest

from engine.retarget import ALIASES, map_by_name, name_key

BUILTIN_CHANNELS = ["eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft", "mouthSmileRight", "mouthLeft",
                    "browInnerUp", "browOuterUpLeft", "browDownRight", "mouthPucker", "mouthFunnel",
                    "cheekSquintLeft", "jawOpen", "jawLeft", "eyeLookUpLeft", "eyeLookOutLeft",
                    "eyeLookInRight", "mouthClose", "mouthStretchLeft", "mouthStretchRight", "mouthRollUpper"]


@pytest.mark.parametrize("spelling", [
    "eyeBlinkLeft", "EyeBlinkLeft", "eyeBlink_L", "eye_blink_left", "EyeBlink_Left", "eyeBlinkL",
    "EYE_BLINK_LEFT", "eyeBlink.L", "eyeBlink_l", "L_eyeBlink", "Left_EyeBlink", "blendShape1.eyeBlinkLeft",
    "Face:eyeBlinkLeft", "A14_Eye_Blink_Left", "eye-blink-left", " eyeBlinkLeft ",
])
def test_spellings_of_one_name(spelling):
    assert name_key(spelling) == name_key("eyeBlinkLeft") == "eyeblinkleft"


@pytest.mark.parametrize("a, b", [
    ("eyeBlinkLeft", "eyeBlinkRight"), ("mouthLeft", "mouthRight"), ("mouthSmileLeft", "mouthSmile"),
    ("eyeBlinkLeft", "eyeBlinkLeft.001"), ("browInnerUp", "browOuterUpLeft"),
])
def test_different_names_stay_different(a, b):
    assert name_key(a) != name_key(b)


@pytest.mark.parametrize("target, expected", [
    # ARKit: Apple's raw values, Live Link Face, snake case, Blender's side suffix.
    ("EyeBlink_L", [("eyeBlinkLeft", 1.0)]),
    ("eyeBlink_R", [("eyeBlinkRight", 1.0)]),
    ("MouthSmileLeft", [("mouthSmileLeft", 1.0)]),
    ("mouth_smile.R", [("mouthSmileRight", 1.0)]),
    ("JawOpen", [("jawOpen", 1.0)]),
    ("Mouth_L", [("mouthLeft", 1.0)]),
    # Reallusion: CC3's ARKit set by name, CC4's own names by alias.
    ("A01_Brow_Inner_Up", [("browInnerUp", 1.0)]),
    ("Brow_Raise_Inner_L", [("browInnerUp", 1.0)]),
    ("Brow_Raise_Outer_L", [("browOuterUpLeft", 1.0)]),
    ("Brow_Drop_R", [("browDownRight", 1.0)]),
    ("Cheek_Raise_L", [("cheekSquintLeft", 1.0)]),
    ("Mouth_Pucker_Up_R", [("mouthPucker", 1.0)]),
    ("Mouth_Funnel_Down_L", [("mouthFunnel", 1.0)]),
    ("Eye_L_Look_Up", [("eyeLookUpLeft", 1.0)]),
    ("Eye_L_Look_L", [("eyeLookOutLeft", 1.0)]),
    ("Jaw_L", [("jawLeft", 1.0)]),
    # VRM presets and VRoid mesh keys: two-sided targets take half of each side.
    ("Blink", [("eyeBlinkLeft", 0.5), ("eyeBlinkRight", 0.5)]),
    ("blinkLeft", [("eyeBlinkLeft", 1.0)]),
    ("Blink_R", [("eyeBlinkRight", 1.0)]),
    ("Fcl_EYE_Close_L", [("eyeBlinkLeft", 1.0)]),
    ("Fcl_MTH_A", [("jawOpen", 1.0)]),
    ("aa", [("jawOpen", 1.0)]),
    ("LookLeft", [("eyeLookOutLeft", 0.5), ("eyeLookInRight", 0.5)]),
    # Faceware-style controls.
    ("eyes_blink_l", [("eyeBlinkLeft", 1.0)]),
    ("mouth_corner_wide_r", [("mouthStretchRight", 1.0)]),
    ("mouth_lips_close", [("mouthClose", 1.0)]),
])
def test_target_is_driven_by(target, expected):
    mapping = map_by_name(BUILTIN_CHANNELS, [target])
    driven = sorted((c, w) for c, pairs in mapping.targets.items() for t, w in pairs if t == target)
    assert driven == sorted(expected)


def test_unknown_targets_and_unmapped_channels():
    mapping = map_by_name(["eyeBlinkLeft", "cheekPuff", "jaw_rx"], ["EyeBlink_L", "Hair_Wind", "Basis2"])
    assert mapping.targets == {"eyeBlinkLeft": [("EyeBlink_L", 1.0)]}
    assert mapping.unmapped == ["cheekPuff", "jaw_rx"]
    assert mapping.method == "name"


def test_exact_name_wins_over_alias_and_every_spelling_is_keyed():
    mapping = map_by_name(["eyeBlinkLeft", "eyeBlinkRight"], ["Blink", "EyeBlink_L", "eyeBlinkLeft"])
    assert mapping.targets["eyeBlinkLeft"] == [("Blink", 0.5), ("EyeBlink_L", 1.0), ("eyeBlinkLeft", 1.0)]
    assert mapping.targets["eyeBlinkRight"] == [("Blink", 0.5)]


def test_alias_channels_the_clip_lacks_are_skipped():
    mapping = map_by_name(["eyeBlinkLeft"], ["Blink"])
    assert mapping.targets == {"eyeBlinkLeft": [("Blink", 0.5)]}


def test_custom_aliases_replace_or_extend_the_table():
    only = map_by_name(["mouthClose"], ["LipsTogether", "Blink"], aliases={"lips together": "mouthClose"})
    assert only.targets == {"mouthClose": [("LipsTogether", 1.0)]}
    extended = map_by_name(["eyeBlinkLeft", "mouthClose"], ["LipsTogether", "Blink"],
                           aliases={**ALIASES, "LipsTogether": [("mouthClose", 0.8)]})
    assert extended.targets == {"eyeBlinkLeft": [("Blink", 0.5)], "mouthClose": [("LipsTogether", 0.8)]}


def test_alias_table_names_only_channels_we_make():
    from engine.head import load_head
    from engine.retarget import JOINT_SHAPE_SOURCES, VISEME_NAMES

    ours = {name_key(n) for n in list(load_head().expression_names) + list(JOINT_SHAPE_SOURCES) + list(VISEME_NAMES)}
    for alias, terms in ALIASES.items():
        for channel, weight in terms:
            assert name_key(channel) in ours, (alias, channel)
            assert 0 < weight <= 1
