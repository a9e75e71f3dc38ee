"""Audio decoding: every format and rate to mono float32; every bad file to its one sentence."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile

from engine.audio import ANALYSIS_RATE, audio_from_array, load_audio
from engine.errors import AudioError


def tone(rate=16000, seconds=0.5, freq=220.0, channels=1):
    t = np.arange(int(rate * seconds)) / rate
    y = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_wav_bit_depths(tmp_path, subtype):
    path = tmp_path / f"{subtype}.wav"
    soundfile.write(path, tone(), 16000, subtype=subtype)
    audio = load_audio(path)
    assert audio.samples.dtype == np.float32 and audio.rate == ANALYSIS_RATE
    assert abs(audio.duration - 0.5) < 1e-3
    assert 0.45 < np.abs(audio.samples).max() < 0.55


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000, 96000, 192000])
def test_any_rate_becomes_the_analysis_rate(tmp_path, rate):
    path = tmp_path / "x.wav"
    soundfile.write(path, tone(rate), rate)
    audio = load_audio(path)
    assert audio.rate == ANALYSIS_RATE and abs(audio.samples.shape[0] - 8000) <= 2
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert abs(np.argmax(spectrum) * ANALYSIS_RATE / audio.samples.shape[0] - 220.0) < 3.0


def test_channels_mix_to_mono(tmp_path):
    path = tmp_path / "six.wav"
    soundfile.write(path, tone(channels=6), 16000)
    assert load_audio(path).samples.ndim == 1


@pytest.mark.parametrize("fmt", ["flac", "ogg"])
def test_flac_and_ogg(tmp_path, fmt):
    path = tmp_path / f"x.{fmt}"
    soundfile.write(path, tone(), 16000, format=fmt.upper())
    assert abs(load_audio(path).duration - 0.5) < 0.01


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the MP3")
def test_mp3(tmp_path):
    wav, mp3 = tmp_path / "x.wav", tmp_path / "x.mp3"
    soundfile.write(wav, tone(seconds=1.0), 16000)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(wav), str(mp3)], check=True)
    assert abs(load_audio(mp3).duration - 1.0) < 0.1


def test_silence_clipping_and_dc_are_valid(tmp_path):
    for name, y in {"silence": np.zeros(8000), "clipped": np.clip(4 * tone(), -1, 1),
                    "dc": tone() * 0.1 + 0.6}.items():
        path = tmp_path / f"{name}.wav"
        soundfile.write(path, y, 16000)
        assert load_audio(path).samples.shape[0] == 8000


def _bad_files(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    png = tmp_path / "picture.wav"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio at all, just words\n" * 20)
    good = tmp_path / "good.wav"
    soundfile.write(good, tone(), 16000, subtype="PCM_16")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:30])
    nan = tmp_path / "nan.wav"
    y = tone()
    y[100] = np.nan
    soundfile.write(nan, y, 16000, subtype="FLOAT")
    no_frames = tmp_path / "no_frames.wav"
    soundfile.write(no_frames, np.zeros(0), 16000)
    return {
        "missing": (tmp_path / "missing.wav", "does not exist"),
        "folder": (tmp_path, "is a folder"),
        "empty": (empty, "is empty"),
        "png": (png, "is not audio: it is a PNG image"),
        "text": (text, "is not a readable audio file"),
        "truncated": (truncated, "corrupt or truncated"),
        "nan": (nan, "NaN or infinite"),
        "no frames": (no_frames, "zero length"),
    }


@pytest.mark.parametrize("case", ["missing", "folder", "empty", "png", "text", "truncated", "nan", "no frames"])
def test_bad_files_get_one_sentence(tmp_path, case):
    path, sentence = _bad_files(tmp_path)[case]
    with pytest.raises(AudioError, match=sentence) as info:
        load_audio(path)
    assert "\n" not in str(info.value)


def test_truncated_data_chunk(tmp_path):
    good = tmp_path / "good.wav"
    soundfile.write(good, tone(seconds=1.0), 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[: 44 + 8000])  # header says 1 s, data holds 0.25 s
    with pytest.raises(AudioError, match="is truncated: its header promises 16000 samples but the file holds 4000"):
        load_audio(cut)  # libsndfile alone would quietly return the 0.25 s


def test_shorter_than_one_frame(tmp_path):
    path = tmp_path / "blip.wav"
    soundfile.write(path, tone(seconds=0.01), 16000)
    with pytest.raises(AudioError, match="shorter than one frame"):
        load_audio(path, min_duration=1 / 30)


def test_audio_from_array_checks_values():
    with pytest.raises(AudioError, match="no samples"):
        audio_from_array(np.zeros(0), 16000)
    with pytest.raises(AudioError, match="NaN"):
        audio_from_array(np.array([0.0, np.inf]), 16000)
    assert audio_from_array(tone(rate=8000, channels=2), 8000).samples.shape == (8000,)


@pytest.mark.parametrize("rate", [8000, 44100, 96000, 192000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_rates_and_channel_counts(tmp_path, rate, channels):
    path = tmp_path / "x.wav"
    soundfile.write(path, tone(rate, seconds=0.25, channels=channels), rate, subtype="PCM_16")
    audio = load_audio(path)
    assert audio.samples.ndim == 1 and audio.samples.dtype == np.float32 and audio.rate == ANALYSIS_RATE
    assert abs(audio.samples.shape[0] - 4000) <= 1
    assert abs(np.abs(audio.samples[400:-400]).max() - 0.5) < 0.01  # identical channels mix to the same tone


@pytest.mark.parametrize("fmt, subtype", [("FLAC", "PCM_S8"), ("FLAC", "PCM_16"), ("FLAC", "PCM_24"),
                                          ("OGG", "VORBIS"), ("WAV", "PCM_U8"), ("WAV", "DOUBLE")])
def test_formats_at_44k_stereo(tmp_path, fmt, subtype):
    path = tmp_path / f"x.{fmt.lower()}"
    soundfile.write(path, tone(44100, channels=2), 44100, format=fmt, subtype=subtype)
    audio = load_audio(path)
    assert abs(audio.duration - 0.5) < 0.01
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert abs(np.argmax(spectrum) * ANALYSIS_RATE / audio.samples.shape[0] - 220.0) < 3.0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the MP3")
def test_mp3_44k_stereo_from_lavfi(tmp_path):
    mp3 = tmp_path / "tone.mp3"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=2:sample_rate=44100",
                    "-ac", "2", str(mp3)], check=True)
    audio = load_audio(mp3)
    assert abs(audio.duration - 2.0) < 0.06
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert abs(np.argmax(spectrum) * ANALYSIS_RATE / audio.samples.shape[0] - 300.0) < 2.0


def test_silence_clipping_and_dc_keep_their_values(tmp_path):
    cases = {"silence": (np.zeros(8000), 0.0, 0.0), "clipped": (np.clip(4 * tone(), -1, 1), 0.0, 1.0),
             "dc": (tone() * 0.1 + 0.6, 0.6, 0.65)}
    for name, (y, mean, peak) in cases.items():
        path = tmp_path / f"{name}.wav"
        soundfile.write(path, y, 16000, subtype="FLOAT")
        samples = load_audio(path).samples
        assert abs(samples.mean() - mean) < 0.01 and abs(np.abs(samples).max() - peak) < 0.01


def test_infinite_sample_is_rejected(tmp_path):
    path = tmp_path / "inf.wav"
    y = tone(channels=2)
    y[4000, 0] = -np.inf
    soundfile.write(path, y, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN or infinite samples"):
        load_audio(path)


def test_clip_long_enough_passes_the_frame_check(tmp_path):
    path = tmp_path / "short.wav"
    soundfile.write(path, tone(seconds=0.05), 16000)
    assert load_audio(path, min_duration=1 / 30).samples.shape[0] == 800
