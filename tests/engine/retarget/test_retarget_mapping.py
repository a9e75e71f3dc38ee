"""Mappings: JSON round trips, the accepted spellings, validation errors in one sentence, the weighted sum."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.errors import InputError
from engine.retarget import Mapping, MappingError


def sample() -> Mapping:
    return Mapping(targets={"eyeBlinkLeft": [("EyeBlink_L", 1.0), ("Blink", 0.5)], "eyeBlinkRight": [("Blink", 0.5)],
                            "jawOpen": [("JawOpen", 1.25)]},
                   unmapped=["cheekPuff"], bones={"jaw": "Jaw_Bone", "neck": "neck_01"}, method="fit")


def test_json_round_trip_is_exact_and_readable():
    mapping = sample()
    text = mapping.to_json()
    assert Mapping.from_json(text) == mapping
    data = json.loads(text)
    assert data["format"] == "talking-head-mapping" and data["version"] == 1
    assert data["targets"]["eyeBlinkLeft"] == [["EyeBlink_L", 1.0], ["Blink", 0.5]]
    assert '"jawOpen": [["JawOpen", 1.25]]' in text.splitlines()[4]  # one channel per line


def test_empty_mapping_round_trips():
    assert Mapping.from_json(Mapping().to_json()) == Mapping()


def test_hand_written_shorthands():
    mapping = Mapping.from_json('{"targets": {"a": "KeyA", "b": {"KeyB": 0.5, "KeyC": 2}, "c": ["KeyD", ["KeyE", 1]]}}')
    assert mapping.targets == {"a": [("KeyA", 1.0)], "b": [("KeyB", 0.5), ("KeyC", 2.0)],
                               "c": [("KeyD", 1.0), ("KeyE", 1.0)]}
    assert mapping.method == "edited" and mapping.bones == {} and mapping.unmapped == []


def test_weights_matrix_and_apply():
    mapping = sample()
    targets, W = mapping.weights(["JAWOPEN", "eyeBlinkRight", "eyeBlinkLeft", "unused"])
    assert targets == ["EyeBlink_L", "Blink", "JawOpen"]
    np.testing.assert_array_equal(W, [[0, 0, 1.25], [0, 0.5, 0], [1, 0.5, 0], [0, 0, 0]])
    values = np.array([[0.2, 1.0, 0.0, 9.0], [0.4, 0.0, 1.0, 9.0]])
    targets, out = mapping.apply(["JAWOPEN", "eyeBlinkRight", "eyeBlinkLeft", "unused"], values)
    np.testing.assert_allclose(out, [[0.0, 0.5, 0.25], [1.0, 0.5, 0.5]])


def test_targets_of_absent_channels_are_not_driven():
    targets, W = sample().weights(["jawOpen"])
    assert targets == ["JawOpen"] and W.shape == (1, 1)


@pytest.mark.parametrize("make, words", [
    (lambda: Mapping(targets={"a": [("K", -0.5)]}), "weight -0.5"),
    (lambda: Mapping(targets={"a": [("K", float("nan"))]}), "finite"),
    (lambda: Mapping(targets={"a": [("K", "heavy")]}), "pairs"),
    (lambda: Mapping(targets={"a": [("K", 1.0, 2.0)]}), "pairs"),
    (lambda: Mapping(targets={"a": 3}), "pairs"),
    (lambda: Mapping(targets=["a"]), "must map"),
    (lambda: Mapping(bones={"head": "Head"}), "unknown joint 'head'"),
    (lambda: Mapping(bones={"jaw": ""}), "bone names"),
    (lambda: Mapping(unmapped="cheekPuff"), "unmapped"),
    (lambda: Mapping(method="guess"), "method"),
    (lambda: Mapping(signed="yes"), "'signed' must be true or false"),
    (lambda: Mapping.from_json("{not json"), "not valid JSON at line 1"),
    (lambda: Mapping.from_json("[1, 2]"), "JSON object"),
    (lambda: Mapping.from_json('{"format": "other"}'), "not a version-1"),
    (lambda: Mapping.from_json('{"targets": {}, "wieghts": {}}'), "unknown field 'wieghts'"),
])
def test_malformed_mappings_are_one_sentence_input_errors(make, words):
    with pytest.raises(MappingError) as info:
        make()
    assert isinstance(info.value, InputError)
    message = str(info.value)
    assert words in message and message.endswith(".") and message.count(". ") == 0


def test_validate_against_the_rig():
    mapping = sample()
    mapping.validate(target_names=["EyeBlink_L", "Blink", "JawOpen", "Extra"], bone_names=["Jaw_Bone", "neck_01"])
    with pytest.raises(MappingError, match="sends 'jawOpen' to 'JawOpen', which the target does not have"):
        mapping.validate(target_names=["EyeBlink_L", "Blink", "jawopen"])
    with pytest.raises(MappingError, match="puts the jaw joint on bone 'Jaw_Bone'"):
        mapping.validate(bone_names=["neck_01"])


def test_signed_mappings_allow_negative_weights_and_round_trip():
    mapping = Mapping(targets={"mouthSmileLeft": [("Exp1", -0.75), ("Exp3", 0.5)]}, method="fit", signed=True)
    text = mapping.to_json()
    assert json.loads(text)["signed"] is True and Mapping.from_json(text) == mapping
    assert "signed" not in sample().to_json()  # one-sided mappings read as before
    targets, out = mapping.apply(["mouthSmileLeft"], np.array([[2.0]]))
    assert targets == ["Exp1", "Exp3"] and np.allclose(out, [[-1.5, 1.0]])
    with pytest.raises(MappingError, match="weight -0.75 on 'Exp1'"):
        Mapping.from_json(text.replace('"signed": true', '"signed": false'))
