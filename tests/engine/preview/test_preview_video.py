"""MP4 writing through ffmpeg: streams, sizes and clean failure."""

import json
import shutil
import subprocess
import wave

import numpy as np
import pytest

from engine.errors import Cancelled, InputError
from engine.preview.video import write_video
from engine.progress import CancelToken, Reporter

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffmpeg and ffprobe")


def _sine_wav(path, seconds=0.5, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def _frames(n, h=64, w=64):
    for i in range(n):
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:, : (i + 1) * w // n] = (200, 80, 40)
        yield frame


def _streams(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["streams"]


def test_video_with_audio_has_both_streams(tmp_path):
    events = []
    path = write_video(tmp_path / "clip.mp4", _frames(10), fps=20, audio_path=_sine_wav(tmp_path / "a.wav"),
                       total=10, reporter=Reporter(events.append))
    streams = {s["codec_type"]: s for s in _streams(path)}
    assert streams["video"]["codec_name"] == "h264" and streams["video"]["pix_fmt"] == "yuv420p"
    assert (streams["video"]["width"], streams["video"]["height"]) == (64, 64)
    assert streams["audio"]["codec_name"] == "aac"
    assert events[-1].done == 10 and events[-1].fraction == 1.0
    assert not list(tmp_path.glob("*.partial.*"))


def test_odd_sized_frames_are_padded_to_even(tmp_path):
    path = write_video(tmp_path / "odd.mp4", _frames(3, 33, 47), fps=24)
    (video,) = _streams(path)
    assert (video["width"], video["height"]) == (48, 34)


def test_cancelling_leaves_no_file(tmp_path):
    token = CancelToken()

    def cancel_after_three(event):
        if event.done >= 3:
            token.cancel()

    with pytest.raises(Cancelled):
        write_video(tmp_path / "c.mp4", _frames(10), fps=10, reporter=Reporter(cancel_after_three, token))
    assert list(tmp_path.iterdir()) == []


def test_bad_frames_are_refused(tmp_path):
    with pytest.raises(InputError):
        write_video(tmp_path / "e.mp4", [], fps=10)
    with pytest.raises(InputError):
        write_video(tmp_path / "f.mp4", [np.zeros((8, 8, 3), np.float32)], fps=10)
    with pytest.raises(InputError):
        write_video(tmp_path / "g.mp4", _frames(2), fps=10, audio_path=tmp_path / "missing.wav")
    assert list(tmp_path.iterdir()) == []
