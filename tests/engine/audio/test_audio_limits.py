"""Audio files no recording is: rates, lengths and sample values are checked before they cost memory;
MP3 data inside a WAV is decoded, not called truncated."""

from __future__ import annotations

import shutil
import struct
import subprocess

import numpy as np
import pytest
import soundfile

from engine.audio import load_audio
from engine.audio import stream as audio_stream
from engine.errors import AudioError


def wav_header(rate: int, frames: int, tag: int = 1, bits: int = 16) -> bytes:
    """A RIFF WAV header (mono) for `frames` samples at `rate` Hz."""
    align = bits // 8
    data = frames * align
    fmt = struct.pack("<HHIIHH", tag, 1, rate, rate * align, align, bits)
    return b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<I", 16) + fmt + \
        b"data" + struct.pack("<I", data)


@pytest.mark.parametrize("rate", [1, 100, 3999])
def test_a_rate_below_speech_is_refused_before_resampling(tmp_path, rate):
    path = tmp_path / "slow.wav"
    path.write_bytes(wav_header(rate, 1000) + bytes(2000))
    with pytest.raises(AudioError, match=f"sample rate is {rate} Hz"):
        load_audio(path)


def test_float_samples_far_outside_audio_are_refused(tmp_path):
    path = tmp_path / "loud.wav"
    soundfile.write(path, np.full(4410, 3e38, np.float32), 44100, subtype="FLOAT")
    with pytest.raises(AudioError, match="far outside the -1..1 of audio"):
        load_audio(path)


def test_hot_but_real_float_audio_still_loads(tmp_path):
    path = tmp_path / "hot.wav"
    soundfile.write(path, 4.0 * np.sin(np.linspace(0, 600, 16000)).astype(np.float32), 16000, subtype="FLOAT")
    assert abs(np.abs(load_audio(path).samples).max() - 4.0) < 0.1


def test_a_header_that_promises_days_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(audio_stream, "MAX_SECONDS", 0.5)
    path = tmp_path / "long.wav"
    soundfile.write(path, np.zeros(16000, np.float32), 16000)
    with pytest.raises(AudioError, match="longer than a job takes"):
        load_audio(path)


@pytest.fixture
def mp3_in_wav(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("making MP3 data needs ffmpeg")
    tone = tmp_path / "tone.wav"
    soundfile.write(tone, 0.5 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000), 16000)
    path = tmp_path / "mp3.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tone), "-c:a", "libmp3lame", "-b:a", "64k", str(path)],
                   check=True)
    assert struct.unpack("<H", path.read_bytes()[20:22])[0] == 0x55   # format tag: MPEG layer III
    return path


@pytest.mark.parametrize("with_ffmpeg", [True, False])
def test_mp3_data_in_a_wav_is_decoded_not_called_truncated(mp3_in_wav, monkeypatch, with_ffmpeg):
    if not with_ffmpeg:
        monkeypatch.setattr(audio_stream, "_has_ffmpeg", lambda: False)
    audio = load_audio(mp3_in_wav)
    assert 0.95 < audio.duration < 1.2
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert abs(np.argmax(spectrum) * 16000 / audio.samples.size - 220) < 3


def test_an_unreadable_file_is_a_sentence(tmp_path, monkeypatch):
    path = tmp_path / "voice.wav"
    soundfile.write(path, np.zeros(1600, np.float32), 16000)

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(audio_stream, "check_file", denied)
    with pytest.raises(AudioError, match="could not be read \\(Permission denied\\)"):
        load_audio(path)
