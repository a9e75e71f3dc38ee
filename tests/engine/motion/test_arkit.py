"""ARKit CSV (Live Link Face layout): header, known values, timecode, reading back."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from engine.errors import MotionClipError
from engine.motion import CSV_HEADER, MotionClip
from engine.motion.arkit import ARKIT_BLENDSHAPES, arkit_values, channel_name, timecode

LIVE_LINK_FACE_HEADER = (
    "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,"
    "EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,EyeLookUpRight,"
    "EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,MouthFunnel,MouthPucker,"
    "MouthRight,MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,MouthFrownRight,MouthDimpleLeft,"
    "MouthDimpleRight,MouthStretchLeft,MouthStretchRight,MouthRollLower,MouthRollUpper,MouthShrugLower,"
    "MouthShrugUpper,MouthPressLeft,MouthPressRight,MouthLowerDownLeft,MouthLowerDownRight,MouthUpperUpLeft,"
    "MouthUpperUpRight,BrowDownLeft,BrowDownRight,BrowInnerUp,BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,"
    "CheekSquintLeft,CheekSquintRight,NoseSneerLeft,NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,"
    "LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll"
)


def read_rows(path) -> list[dict]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def one_frame(**channels) -> MotionClip:
    return MotionClip(names=list(channels), values=[list(channels.values())], fps=60.0)


def test_header_is_live_link_face_exactly(tmp_path, speech_clip):
    path = speech_clip.to_arkit_csv(tmp_path / "take.csv")
    assert path.read_text().splitlines()[0] == LIVE_LINK_FACE_HEADER
    assert ",".join(CSV_HEADER) == LIVE_LINK_FACE_HEADER and len(ARKIT_BLENDSHAPES) == 52
    rows = read_rows(path)
    assert len(rows) == speech_clip.num_frames and {r["BlendShapeCount"] for r in rows} == {"61"}


def test_hand_made_clip_gives_known_values(tmp_path):
    clip = MotionClip(names=["jaw_rx", "jaw_ry", "eyeBlinkLeft", "MOUTHFUNNEL", "eye_left_rx", "eye_right_ry"],
                      values=[[0.25, 0.1, 0.3, 0.7, 0.25, 0.1],
                              [0.75, -0.05, 1.4, -0.2, -0.5, -0.25]], fps=30.0)
    first, second = read_rows(clip.to_arkit_csv(tmp_path / "take.csv"))
    assert float(first["JawOpen"]) == 0.5                      # 0.25 rad / 0.5 rad
    assert float(first["JawLeft"]) == pytest.approx(0.5) and float(first["JawRight"]) == 0.0
    assert float(first["EyeBlinkLeft"]) == pytest.approx(0.3) and float(first["MouthFunnel"]) == pytest.approx(0.7)
    assert float(first["EyeLookDownLeft"]) == 0.5 and float(first["EyeLookUpLeft"]) == 0.0
    assert float(first["EyeLookInRight"]) == pytest.approx(0.2) and float(first["EyeLookOutRight"]) == 0.0
    assert float(first["LeftEyePitch"]) == pytest.approx(0.25) and float(first["RightEyeYaw"]) == pytest.approx(0.1)
    assert float(second["JawOpen"]) == 1.0 and float(second["EyeBlinkLeft"]) == 1.0   # clipped to [0, 1]
    assert float(second["MouthFunnel"]) == 0.0 and float(second["JawRight"]) == pytest.approx(0.25)
    assert float(second["EyeLookUpLeft"]) == 1.0 and float(second["EyeLookOutRight"]) == pytest.approx(0.5)
    assert float(first["BrowInnerUp"]) == 0.0 and float(first["HeadYaw"]) == 0.0


@pytest.mark.parametrize("channel, value, column, expected", [
    ("eye_left_ry", 0.25, "EyeLookOutLeft", 0.5),   # +ry turns towards the subject's left: outwards
    ("eye_left_ry", -0.25, "EyeLookInLeft", 0.5),
    ("eye_right_ry", 0.25, "EyeLookInRight", 0.5),
    ("eye_right_ry", -0.25, "EyeLookOutRight", 0.5),
    ("eye_right_rx", -0.25, "EyeLookUpRight", 0.5),
    ("jaw_ry", -0.2, "JawRight", 1.0),
])
def test_joint_signs(channel, value, column, expected):
    values = arkit_values(one_frame(**{channel: value}))
    assert values[0, ARKIT_BLENDSHAPES.index(column)] == pytest.approx(expected)


def test_head_rotation_combines_global_and_neck():
    values = arkit_values(one_frame(global_ry=0.1, neck_ry=0.2, neck_rx=0.0))
    yaw, pitch, roll = values[0, 52:55]
    assert yaw == pytest.approx(0.3) and pitch == pytest.approx(0.0) and roll == pytest.approx(0.0)
    assert arkit_values(one_frame(neck_rx=0.15))[0, 53] == pytest.approx(0.15)


def test_an_explicit_channel_is_written_as_it_is():
    values = arkit_values(one_frame(jawOpen=0.3, jaw_rx=0.1, eyeLookDownLeft=0.2115, eye_left_rx=0.2), jaw_open_max=0.5)
    assert values[0, ARKIT_BLENDSHAPES.index("JawOpen")] == pytest.approx(0.3)
    assert values[0, ARKIT_BLENDSHAPES.index("EyeLookDownLeft")] == pytest.approx(0.2115)
    assert values[0, ARKIT_BLENDSHAPES.index("EyeLookDownRight")] == 0.0


@pytest.mark.parametrize("count, rate, expected", [
    (0, 30, "00:00:00:00.000"), (29, 30, "00:00:00:29.000"), (30, 30, "00:00:01:00.000"),
    (60 * 60 * 24 + 59, 24, "01:00:02:11.000"), (59, 60, "00:00:00:59.000"),
])
def test_timecode(count, rate, expected):
    assert timecode(count, rate) == expected


def test_timecode_counts_from_start_frame_at_nominal_rate(tmp_path):
    clip = MotionClip(names=["jawOpen"], values=np.zeros((3, 1)), fps=29.97, start_frame=30)
    rows = read_rows(clip.to_arkit_csv(tmp_path / "take.csv"))
    assert [r["Timecode"] for r in rows] == ["00:00:00:29.000", "00:00:01:00.000", "00:00:01:01.000"]


@pytest.mark.parametrize("fps", [24.0, 29.97, 60.0])
def test_blendshapes_round_trip(tmp_path, fps):
    rng = np.random.default_rng(2)
    names = [channel_name(n) for n in ARKIT_BLENDSHAPES]
    clip = MotionClip(names=names, values=rng.random((50, 52)), fps=fps, start_frame=12)
    back = MotionClip.from_arkit_csv(clip.to_arkit_csv(tmp_path / "take.csv"), fps=fps)
    assert back.fps == clip.fps and back.start_frame == 12 and back.num_frames == 50
    np.testing.assert_array_equal(back.select(names).values, clip.values)   # float32-exact
    assert back.metadata["source"] == "arkit_csv"


def test_joints_round_trip(tmp_path, speech_clip):
    path = speech_clip.to_arkit_csv(tmp_path / "take.csv")
    back = MotionClip.from_arkit_csv(path, jaw_as_joint=True)
    assert back.fps == 30.0 and back.num_frames == speech_clip.num_frames      # 2 s: rate inferred
    for name in ("jaw_rx", "neck_ry", "eye_left_rx", "eye_left_ry", "eyeBlinkLeft", "mouthFunnel"):
        np.testing.assert_allclose(back.channel(name), speech_clip.channel(name), atol=1e-6)
    assert not back.has_channel("jawOpen")


def write_csv(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reader_fills_dropped_frames_and_reads_sub_frames(tmp_path):
    path = write_csv(tmp_path / "take.csv", [
        "Timecode,BlendShapeCount,JawOpen,EyeBlinkLeft",
        "00:00:00:10.000,2,0.0,1", "00:00:00:12.000,2,0.5,1", "00:00:00:13.500,2,1.0,1",
    ])
    clip = MotionClip.from_arkit_csv(path, fps=30)
    assert clip.start_frame == 11 and clip.num_frames == 5          # frame counts 10..14 (13.5 rounds up)
    np.testing.assert_allclose(clip.channel("jawOpen"), [0.0, 0.25, 0.5, 5 / 6, 1.0])
    assert clip.names == ["jawOpen", "eyeBlinkLeft"]


def test_reader_defaults_to_60_fps_for_short_takes(tmp_path):
    path = write_csv(tmp_path / "take.csv", ["Timecode,BlendShapeCount,JawOpen", "00:00:00:00.000,1,0.2"])
    assert MotionClip.from_arkit_csv(path).fps == 60.0


CSV_ERRORS = [
    (["Frame,JawOpen", "1,0.5"], "is not a Live Link Face CSV"),
    (["Timecode,BlendShapeCount,JawOpen"], "has no frames"),
    (["Timecode,BlendShapeCount,Foo", "00:00:00:00.000,1,0.5"], "has no ARKit blendshape columns"),
    (["Timecode,BlendShapeCount,JawOpen", "yesterday,1,0.5"], "Line 2 of 'bad.csv' has an invalid timecode"),
    (["Timecode,BlendShapeCount,JawOpen", "00:00:00:00.000,1,wide"], "'JawOpen' of 'bad.csv' holds a value"),
    (["Timecode,BlendShapeCount,JawOpen", "00:00:00:00.000,1"], "Line 2 of 'bad.csv' has 2 fields"),
    (["Timecode,BlendShapeCount,JawOpen", "00:00:00:05.000,1,0", "00:00:00:04.000,1,0"],
     "do not increase at line 3"),
    (["Timecode,BlendShapeCount,JawOpen", "00:00:00:00.000,1,nan"], "NaN in channel 'jawOpen'"),
]


@pytest.mark.parametrize("lines, sentence", CSV_ERRORS, ids=[s for _, s in CSV_ERRORS])
def test_bad_csv_files_say_what_is_wrong(tmp_path, lines, sentence):
    with pytest.raises(MotionClipError, match=sentence):
        MotionClip.from_arkit_csv(write_csv(tmp_path / "bad.csv", lines))


def test_bad_fps_for_csv(tmp_path):
    path = write_csv(tmp_path / "take.csv", ["Timecode,BlendShapeCount,JawOpen", "00:00:00:00.000,1,0.2"])
    with pytest.raises(MotionClipError, match="frame rate must be"):
        MotionClip.from_arkit_csv(path, fps=float("nan"))


def test_missing_csv(tmp_path):
    with pytest.raises(MotionClipError, match="does not exist"):
        MotionClip.from_arkit_csv(tmp_path / "nothing.csv")


LIVE_LINK_TAKE = Path(__file__).resolve().parents[4] / "shared" / "data" / "arkit" / "MySlate_3_Jason_Millers_iPhone.csv"


def drifting_take(path, rows=120):
    """A Live Link Face-like take: 60 fps rows whose sub-frame creeps up .867, .868, ... and rolls over
    (so one frame number is skipped), values with Live Link Face's ten decimals."""
    rng = np.random.default_rng(4)
    lines = ["Timecode,BlendShapeCount,EyeLookDownLeft,JawOpen,HeadYaw,HeadPitch,HeadRoll"]
    for k in range(rows):
        thousandths = (7 + k) * 1000 + 867 + (k * 6) // 10 * 2   # +1.2 thousandths a row
        ff, sub = divmod(thousandths, 1000)
        seconds, ff = divmod(ff, 60)
        values = ",".join(f"{v:.10f}" for v in [0.2114743441, *rng.random(1), *(0.1 * rng.random(3))])
        lines.append(f"00:32:{9 + seconds:02d}:{ff:02d}.{sub:03d},5,{values}")
    return write_csv(path, lines)


def round_trip_through_npz(tmp_path, source):
    clip = MotionClip.from_arkit_csv(source)
    clip.save(tmp_path / "take.npz")
    back = MotionClip.load(tmp_path / "take.npz").to_arkit_csv(tmp_path / "back.csv")
    return clip, read_rows(source), read_rows(back)


def assert_same_take(tmp_path, clip, before, after):
    assert [r["Timecode"] for r in after] == [r["Timecode"] for r in before]     # sub-frames and skips kept
    for column in ("EyeLookDownLeft", "JawOpen"):
        written = np.array([r[column] for r in after], dtype=np.float32)
        imported = np.array([r[column] for r in before], dtype=np.float32)
        assert np.array_equal(written, imported)                             # the float32 the user imported
    again = MotionClip.from_arkit_csv(tmp_path / "back.csv")
    assert np.array_equal(again.select(clip.names).values, clip.values) and again.start_frame == clip.start_frame


def test_a_drifting_live_link_take_round_trips(tmp_path):
    clip, before, after = round_trip_through_npz(tmp_path, drifting_take(tmp_path / "take.csv"))
    assert clip.num_frames == len(before) and before[0]["Timecode"] == "00:32:09:07.867"
    whole = [int(r["Timecode"][6:8]) * 60 + int(r["Timecode"][9:11]) for r in before]
    assert 2 in np.diff(whole)                                          # a frame number skipped
    assert after[0]["EyeLookDownLeft"] == "0.21147434"
    assert_same_take(tmp_path, clip, before, after)


@pytest.mark.skipif(not LIVE_LINK_TAKE.is_file(), reason=f"the real Live Link Face take {LIVE_LINK_TAKE} is absent")
def test_the_real_live_link_take_round_trips_through_clip_convert(tmp_path, capsys):
    from engine.cli.main import main

    assert main(["clip", "convert", str(LIVE_LINK_TAKE), str(tmp_path / "take.npz")]) == 0
    assert main(["clip", "convert", str(tmp_path / "take.npz"), str(tmp_path / "back.csv")]) == 0
    assert main(["clip", "info", str(LIVE_LINK_TAKE)]) == 0
    assert "328 frames at 60 fps" in capsys.readouterr().out
    before, after = read_rows(LIVE_LINK_TAKE), read_rows(tmp_path / "back.csv")
    assert after[0]["Timecode"] == "00:32:09:07.867" and round(float(after[0]["EyeLookDownLeft"]), 4) == 0.2115
    assert_same_take(tmp_path, MotionClip.load(tmp_path / "take.npz"), before, after)
    for column in ("HeadYaw", "LeftEyePitch", "RightEyeRoll"):
        np.testing.assert_allclose([float(r[column]) for r in after], [float(r[column]) for r in before], atol=2e-7)


def test_a_take_late_in_the_day_keeps_its_timecode(tmp_path):
    """Live Link Face timecodes are the time of day: 23:59:58 at 60 fps is frame 5,183,880."""
    path = write_csv(tmp_path / "late.csv", ["Timecode,BlendShapeCount,JawOpen"] +
                     [f"23:59:58:{k:02d}.000,1,0.5" for k in range(10)])
    clip = MotionClip.from_arkit_csv(path)
    assert clip.start_frame == 5_183_881 and clip.num_frames == 10
    assert read_rows(clip.to_arkit_csv(tmp_path / "back.csv"))[0]["Timecode"] == "23:59:58:00.000"
