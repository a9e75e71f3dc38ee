"""MotionClip: validation sentences, channel access, head parameters."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import InputError, MotionClipError
from engine.head.model import NUM_JOINTS
from engine.motion import MotionClip
from engine.motion.channels import POSE_CHANNELS, TRANSLATION_CHANNELS, known_channels


def make(names=("a", "b"), values=None, fps=30.0, **kwargs) -> MotionClip:
    values = np.zeros((4, len(names)), np.float32) if values is None else values
    return MotionClip(names=list(names), values=values, fps=fps, **kwargs)


def with_value(row, column, value):
    values = np.zeros((4, 2), np.float32)
    values[row, column] = value
    return values


INVALID = [
    (dict(values=with_value(2, 1, np.nan)), "NaN in channel 'b' at frame 3 (row 2)"),
    (dict(values=with_value(0, 0, np.inf), start_frame=10), "infinite value in channel 'a' at frame 10"),
    (dict(values=np.array([[1e39, 0.0]] * 4)), "infinite value in channel 'a'"),
    (dict(values=np.zeros(4)), "must be a 2-D [frames, channels] array"),
    (dict(values=np.zeros((4, 2, 1))), "must be a 2-D [frames, channels] array"),
    (dict(values=np.zeros((4, 3))), "has 3 value columns but 2 channel names"),
    (dict(values=[["x", "y"]]), "values must be a numeric"),
    (dict(names=("a", "A")), "duplicate channel names 'a' and 'A'"),
    (dict(names=("a", " ")), "empty channel name in column 1"),
    (dict(names=(), values=np.zeros((4, 0))), "has no channels"),
    (dict(names=("a", 3)), "names must all be strings"),
    (dict(values=np.zeros((0, 2))), "has no frames"),
    (dict(fps=0.0), "frame rate must be a number from 0.1 to 1000 frames per second, not 0.0"),
    (dict(fps=-24.0), "frame rate must be a number from 0.1 to 1000"),
    (dict(fps=float("nan")), "frame rate must be a number from 0.1 to 1000"),
    (dict(fps=float("inf")), "frame rate must be a number from 0.1 to 1000"),
    (dict(fps="30"), "frame rate must be a number from 0.1 to 1000"),
    (dict(fps=5e-324), "frame rate must be a number from 0.1 to 1000"),
    (dict(fps=1.7e308), "frame rate must be a number from 0.1 to 1000"),
    (dict(start_frame=1.5), "start frame must be a whole number"),
    (dict(start_frame=10**30), "start frame 1e+30 is outside the frames a clip may start at"),
    (dict(values=with_value(1, 0, 1e30)), "the value 1e+30 in channel 'a' (row 1), far outside"),
    (dict(metadata={"when": object()}), "metadata is not plain JSON"),
    (dict(metadata={"deep": __import__("functools").reduce(lambda a, _: [a], range(40), 0)}),
     "metadata is not plain JSON (values nested more than 32 deep)"),
    (dict(metadata=[1]), "metadata must be a dict"),
]


@pytest.mark.parametrize("kwargs, sentence", INVALID, ids=[s for _, s in INVALID])
def test_invalid_clips_say_what_is_wrong(kwargs, sentence):
    with pytest.raises(MotionClipError) as caught:
        make(**kwargs)
    message = str(caught.value)
    assert sentence in message
    assert message.endswith(".") and "\n" not in message
    assert isinstance(caught.value, InputError)


def test_validate_rechecks_a_mutated_clip():
    clip = make()
    clip.values[1, 0] = np.nan
    with pytest.raises(MotionClipError, match="NaN in channel 'a' at frame 2"):
        clip.validate()


def test_validate_lists_unknown_channels():
    clip = make(names=("jaw_rx", "mouthFunnel", "wiggle", "Wobble"))
    clip.select(["jaw_rx", "mouthFunnel"]).validate(known_channels=["JAW_RX", "mouthfunnel"])
    with pytest.raises(MotionClipError, match="channels the target does not know: 'wiggle', 'Wobble'."):
        clip.validate(known_channels=["JAW_RX", "mouthfunnel"])


def test_basic_properties_and_times():
    clip = make(values=np.arange(8, dtype=np.float32).reshape(4, 2), fps=24000 / 1001, start_frame=5)
    assert clip.num_frames == 4 and clip.end_frame == 8
    assert clip.duration == 4 * 1001 / 24000
    np.testing.assert_array_equal(clip.times(), np.arange(4) * 1001 / 24000)
    assert clip.values.dtype == np.float32 and isinstance(clip.fps, float)


def test_channel_lookup_is_case_insensitive_and_errors_clearly():
    clip = make(names=("eyeBlinkLeft", "jaw_rx"), values=np.arange(8.0).reshape(4, 2))
    np.testing.assert_array_equal(clip.channel("EYEBLINKLEFT"), [0, 2, 4, 6])
    with pytest.raises(MotionClipError, match="no channel named 'mouthFunnel'; it has 'eyeBlinkLeft', 'jaw_rx'."):
        clip.channel("mouthFunnel")


def test_select_with_and_without_channels():
    clip = make(names=("a", "b", "c"), values=np.arange(12.0).reshape(4, 3))
    picked = clip.select(["C", "a"])
    assert picked.names == ["c", "a"]
    np.testing.assert_array_equal(picked.values, clip.values[:, [2, 0]])
    grown = clip.with_channels({"B": np.ones(4), "d": np.full(4, 7.0)})
    assert grown.names == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(grown.channel("b"), np.ones(4))
    np.testing.assert_array_equal(grown.channel("d"), np.full(4, 7.0))
    assert clip.channel("b")[0] == 1.0  # the original is untouched
    assert clip.without_channels(["b"]).names == ["a", "c"]
    with pytest.raises(MotionClipError, match=r"shape \(3,\); expected \(4,\)"):
        clip.with_channels({"e": np.zeros(3)})


def test_copy_is_deep_and_equal():
    clip = make(metadata={"style": {"name": "happy"}})
    twin = clip.copy()
    assert twin == clip and twin is not clip
    twin.values[0, 0] = 1.0
    twin.metadata["style"]["name"] = "sad"
    assert clip.values[0, 0] == 0.0 and clip.metadata["style"]["name"] == "happy"


class _Head:
    expression_names = ["mouthFunnel", "eyeBlinkLeft", "browInnerUp"]


def test_head_params_split_channels():
    names = ["MOUTHFUNNEL", "jaw_rx", "neck_ry", "global_tz", "unknown"]
    values = np.tile(np.array([0.5, 0.25, -0.1, 0.02, 9.0], np.float32), (3, 1))
    params = MotionClip(names=names, values=values, fps=25.0).head_params(_Head())
    assert params["expression"].shape == (3, 3) and params["pose"].shape == (3, NUM_JOINTS, 3)
    np.testing.assert_allclose(params["expression"][0], [0.5, 0.0, 0.0])
    assert params["pose"][0, 2, 0] == pytest.approx(0.25) and params["pose"][0, 1, 1] == pytest.approx(-0.1)
    np.testing.assert_allclose(params["translation"][0], [0.0, 0.0, 0.02])
    assert len(POSE_CHANNELS) == 15 and len(TRANSLATION_CHANNELS) == 3


def test_known_channels_of_a_head():
    clip = MotionClip(names=["mouthFunnel", "jaw_rx", "global_tx", "smirk"], values=np.zeros((2, 4)), fps=30.0)
    with pytest.raises(MotionClipError, match="does not know: 'smirk'."):
        clip.validate(known_channels=known_channels(_Head.expression_names))
    clip.without_channels(["smirk"]).validate(known_channels=known_channels(_Head.expression_names))


def test_fps_is_stored_as_the_exact_rate():
    assert make(fps=29.97).fps == 30000 / 1001
    assert make(fps=24).fps == 24.0 and make(fps=0.5).fps == 0.5 and make(fps=33.3333).fps == 33.3333
    assert make(metadata=None).metadata == {}
