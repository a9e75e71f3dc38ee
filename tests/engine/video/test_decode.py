"""Decoding: probing, the constant time grid, rotation metadata, and one-sentence refusals of bad files."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ffmpeg
from engine.cli.main import main
from engine.video import decode
from engine.video.errors import VideoError


def test_probe_reads_size_rate_sound(known_video):
    info = decode.probe_video(known_video)
    assert (info.width, info.height, info.fps, info.rotation, info.has_audio) == (256, 256, 25, 0, True)
    assert info.frame_count() == 40


def test_frames_stream_one_at_a_time_on_the_time_grid(known_video):
    info = decode.probe_video(known_video)
    frames = decode.frames(info, start=0.4, end=1.2)
    first = next(frames)
    assert first.shape == (256, 256, 3) and first.dtype == np.uint8
    assert 1 + sum(1 for _ in frames) == 20            # 0.8 s at 25 fps


def test_rotation_metadata_gives_upright_frames(known_video, tmp_path):
    portrait = tmp_path / "portrait.mp4"
    ffmpeg("-i", known_video, "-vf", "pad=256:320:0:32", "-an", portrait)     # upright: 256 wide, 320 tall
    stored = tmp_path / "stored.mp4"
    ffmpeg("-i", portrait, "-vf", "transpose=2", stored)                       # stored turned a quarter
    phone = tmp_path / "phone.mp4"
    ffmpeg("-i", stored, "-c", "copy", "-metadata:s:v:0", "rotate=270", phone)
    info = decode.probe_video(phone)
    assert info.rotation in (90, 270) and (info.width, info.height) == (256, 320)
    upright = next(decode.frames(info)).astype(float)
    reference = next(decode.frames(decode.probe_video(portrait))).astype(float)
    assert np.mean(np.abs(upright - reference)) < 6.0


def test_variable_frame_rate_lands_on_a_constant_grid(known_video, tmp_path):
    vfr = tmp_path / "vfr.mkv"
    ffmpeg("-i", known_video, "-vf", "select='not(eq(mod(n\\,3)\\,2))'", "-vsync", "vfr", "-an", vfr)
    info = decode.probe_video(vfr)
    count = sum(1 for _ in decode.frames(info))
    assert abs(count - info.frame_count()) <= 1 and count >= 20


@pytest.mark.parametrize("kind, words", [("text", "not a readable video"), ("audio", "audio-only"),
                                         ("image", "still image"), ("truncated", "truncated"),
                                         ("empty", "empty"), ("missing", "does not exist")])
def test_bad_files_are_one_sentence(kind, words, known_video, tmp_path):
    path = _bad_file(kind, known_video, tmp_path)
    with pytest.raises(VideoError, match=words) as caught:
        decode.probe_video(path)
    assert "\n" not in str(caught.value)
    assert main(["track", str(path), "-o", str(tmp_path / "take.npz")]) == 2
    assert not (tmp_path / "take.npz").exists()


def _bad_file(kind: str, known_video, tmp_path):
    path = tmp_path / {"text": "notes.mp4", "audio": "voice.m4a", "image": "face.png", "truncated": "cut.mp4",
                       "empty": "empty.mp4", "missing": "missing.mp4"}[kind]
    if kind == "text":
        path.write_text("this is not a video\n" * 50)
    elif kind == "audio":
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=1", path)
    elif kind == "image":
        ffmpeg("-i", known_video, "-frames:v", "1", path)
    elif kind == "truncated":
        path.write_bytes(known_video.read_bytes()[:600])    # the header breaks off (the body: test_track)
    elif kind == "empty":
        path.write_bytes(b"")
    return path


def test_a_missing_or_unfit_tracker_python_is_one_sentence(known_video, tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setenv("TALKING_HEAD_TRACKER_PYTHON", str(tmp_path / "no-python"))
    assert main(["track", str(known_video), "-o", str(tmp_path / "take.npz")]) == 1
    assert "does not exist" in capsys.readouterr().err
    monkeypatch.setenv("TALKING_HEAD_TRACKER_PYTHON", sys.executable)      # this Python has no mediapipe
    from engine.video.landmarks import track_landmarks
    from engine.video.errors import TrackerMissingError

    if __import__("importlib").util.find_spec("mediapipe") is None:
        with pytest.raises(TrackerMissingError, match="MediaPipe Face Mesh could not start"):
            track_landmarks(decode.probe_video(known_video))
    assert not (tmp_path / "take.npz").exists()


def test_4k_60fps_streams_at_the_analysis_size(tmp_path):
    big = tmp_path / "uhd.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=3840x2160:r=60:d=0.2", "-c:v", "libx264", "-preset", "ultrafast", big)
    info = decode.probe_video(big)
    assert (info.width, info.height, info.fps) == (3840, 2160, 60)
    shapes = [f.shape for f in decode.frames(info)]
    assert len(shapes) == 12 and set(shapes) == {(540, 960, 3)}


@pytest.mark.parametrize("start, end, words", [(-1.0, None, "before the video begins"), (-1.0, 0.5, "before the video begins"),
                                               (0.5, 0.5, "is empty"), (99.0, None, "past its end")])
def test_a_bad_tracking_range_is_one_sentence(known_video, start, end, words):
    with pytest.raises(VideoError, match=words):
        decode.checked_range(decode.probe_video(known_video), start, end)


def test_a_good_tracking_range_ends_at_the_video(known_video):
    info = decode.probe_video(known_video)
    assert decode.checked_range(info, None, None) == (0.0, None)
    assert decode.checked_range(info, 0.2, info.duration + 5) == (0.2, None)
    assert decode.checked_range(info, 0.2, 0.6) == (0.2, 0.6)
