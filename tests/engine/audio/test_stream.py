"""Streaming decode: chunks equal a one-shot decode, blocks stay bounded, progress, cancel, bad data."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile
import soxr

from engine.audio import load_audio, stream_audio
from engine.audio import stream as stream_module
from engine.audio.load import gather
from engine.errors import AudioError, Cancelled
from engine.progress import CancelToken, Reporter

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes and decodes the MP3")


def speechlike(rate, seconds, channels=2, seed=0):
    """A chirp plus noise [N, channels] (a different mix per channel), so resampling has work to do."""
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(seed)
    y = 0.4 * np.sin(2 * np.pi * (100 + 900 * t / seconds) * t)
    return np.stack([y * (1 - 0.2 * c) + 0.05 * rng.standard_normal(t.size) for c in range(channels)], axis=1)


def one_shot(path, rate=16000):
    """The reference: decode everything, mix, resample in one go."""
    data, native = soundfile.read(path, dtype="float32", always_2d=True)
    return soxr.resample(data.mean(axis=1), native, rate, quality="HQ")


@pytest.mark.parametrize("native, chunk", [(44100, 0.37), (48000, 1.0), (8000, 0.05), (16000, 0.5)])
def test_streaming_equals_one_shot_decode(tmp_path, native, chunk):
    path = tmp_path / "x.wav"
    soundfile.write(path, speechlike(native, 3.0), native, subtype="FLOAT")
    streamed = np.concatenate(list(stream_audio(path, chunk_seconds=chunk)))
    reference = one_shot(path)
    assert streamed.dtype == np.float32 and streamed.shape == reference.shape
    assert np.abs(streamed - reference).max() < 1e-4


def test_load_audio_equals_stream(tmp_path):
    path = tmp_path / "x.flac"
    soundfile.write(path, speechlike(44100, 2.0, channels=6), 44100, subtype="PCM_24")
    loaded = load_audio(path).samples
    assert np.abs(loaded - np.concatenate(list(stream_audio(path, chunk_seconds=0.25)))).max() < 1e-4
    assert np.abs(loaded - one_shot(path)).max() < 1e-4


def test_no_decoded_block_exceeds_the_chunk(tmp_path, monkeypatch):
    """20 s of 48 kHz stereo with 1 s chunks: every libsndfile read is at most 48,000 frames."""
    path = tmp_path / "long.wav"
    soundfile.write(path, speechlike(48000, 20.0), 48000, subtype="PCM_16")
    sizes, read = [], soundfile.SoundFile.read

    def counting_read(self, *args, **kwargs):
        data = read(self, *args, **kwargs)
        sizes.append(data.shape[0])
        return data

    monkeypatch.setattr(soundfile.SoundFile, "read", counting_read)
    chunks = list(stream_audio(path, chunk_seconds=1.0))
    assert max(sizes) <= 48000 and sum(sizes) == 20 * 48000 and len(sizes) >= 20
    assert max(c.size for c in chunks) <= 1.02 * 16000  # output chunks: about 1 s at 16 kHz each
    assert sum(c.size for c in chunks) == 20 * 16000


def test_progress_counts_native_frames(tmp_path):
    path = tmp_path / "x.wav"
    soundfile.write(path, speechlike(22050, 2.0), 22050)
    events = []
    load_audio(path, reporter=Reporter(events.append))
    assert {e.stage for e in events} == {"decoding audio"}
    assert events[0].done == 0 and events[-1].done == events[-1].total == 44100
    assert all(a.done <= b.done for a, b in zip(events, events[1:]))


def test_cancel_stops_loading(tmp_path):
    path = tmp_path / "x.wav"
    soundfile.write(path, speechlike(16000, 30.0), 16000)

    def cancelling_after_one_block():
        token = CancelToken()
        return Reporter(lambda event: token.cancel() if event.done > 0 else None, token)

    with pytest.raises(Cancelled):
        load_audio(path, reporter=cancelling_after_one_block())
    chunks = stream_audio(path, chunk_seconds=1.0, reporter=cancelling_after_one_block())
    assert next(chunks).size > 0
    with pytest.raises(Cancelled):
        next(chunks)


def test_bad_files_fail_before_streaming(tmp_path):
    with pytest.raises(AudioError, match="does not exist"):
        stream_audio(tmp_path / "missing.wav")  # at the call, not at the first chunk


def test_truncated_flac_detected_while_streaming(tmp_path):
    path = tmp_path / "x.flac"
    soundfile.write(path, speechlike(16000, 4.0), 16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(AudioError, match="corrupt or truncated"):
        list(stream_audio(path, chunk_seconds=0.5))


def test_truncated_wav_detected(tmp_path):
    good, cut = tmp_path / "good.wav", tmp_path / "cut.wav"
    soundfile.write(good, speechlike(16000, 2.0, channels=1), 16000, subtype="PCM_16")
    cut.write_bytes(good.read_bytes()[:30000])
    with pytest.raises(AudioError, match="is truncated: its header promises 32000 samples") as info:
        list(stream_audio(cut))
    assert "\n" not in str(info.value)


def test_nan_in_a_late_block_is_caught(tmp_path):
    path = tmp_path / "nan.wav"
    y = speechlike(16000, 3.0)
    y[40000, 1] = np.inf
    soundfile.write(path, y, 16000, subtype="FLOAT")
    chunks = stream_audio(path, chunk_seconds=1.0)
    assert next(chunks).size > 0  # the first second is fine
    with pytest.raises(AudioError, match="NaN or infinite"):
        list(chunks)


def lavfi_tone(path, seconds=3, rate=44100):
    """A 440 Hz stereo tone encoded by ffmpeg into whatever format `path`'s suffix names."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}:sample_rate={rate}", "-ac", "2", str(path)], check=True)
    return path


@needs_ffmpeg
@pytest.mark.parametrize("suffix", [".mp3", ".m4a"])
def test_compressed_formats_stream_through_ffmpeg(tmp_path, suffix):
    path = lavfi_tone(tmp_path / f"tone{suffix}")
    assert stream_module.probe_audio(path).decoder == "ffmpeg"
    small = np.concatenate(list(stream_audio(path, chunk_seconds=0.2)))
    whole = load_audio(path).samples
    assert small.shape == whole.shape and np.abs(small - whole).max() < 1e-4
    assert abs(whole.size / 16000 - 3.0) < 0.06
    spectrum = np.abs(np.fft.rfft(whole))
    assert abs(np.argmax(spectrum) * 16000 / whole.size - 440.0) < 2.0


@needs_ffmpeg
def test_audioread_serves_when_ffmpeg_is_not_on_the_path(tmp_path, monkeypatch):
    wav, m4a = tmp_path / "x.wav", tmp_path / "x.m4a"
    soundfile.write(wav, speechlike(22050, 1.0), 22050)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(wav), str(m4a)], check=True)
    by_ffmpeg = load_audio(m4a).samples
    monkeypatch.setattr(stream_module, "_has_ffmpeg", lambda: False)
    assert stream_module.probe_audio(m4a).decoder == "audioread"
    by_audioread = load_audio(m4a).samples
    assert abs(by_audioread.size - by_ffmpeg.size) < 0.05 * 16000
    n = min(by_audioread.size, by_ffmpeg.size)
    assert np.corrcoef(by_audioread[:n], by_ffmpeg[:n])[0, 1] > 0.99


@needs_ffmpeg
def test_garbage_with_an_m4a_name_is_not_audio(tmp_path):
    path = tmp_path / "song.m4a"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(AudioError, match="not a readable audio file|no samples"):
        load_audio(path)


def test_gather_grows_past_a_short_estimate():
    chunks = [np.full(n, i, np.float32) for i, n in enumerate([5, 7, 3])]
    for expected in (1, 15, 100):
        joined = gather(iter(chunks), expected)
        assert joined.tolist() == [0.0] * 5 + [1.0] * 7 + [2.0] * 3


@needs_ffmpeg
def test_vbr_mp3_without_a_xing_header_is_decoded_whole(tmp_path):
    """libsndfile guesses such a file's length from its first frames and stops early; ffmpeg does not."""
    path = tmp_path / "vbr.mp3"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "anoisesrc=d=4:a=0.2:r=44100",
                    "-c:a", "libmp3lame", "-q:a", "5", "-write_xing", "0", str(path)], check=True)
    assert abs(load_audio(path).duration - 4.0) < 0.1


@needs_ffmpeg
def test_mp3_falls_back_to_libsndfile_without_ffmpeg(tmp_path, monkeypatch):
    path = lavfi_tone(tmp_path / "tone.mp3", seconds=2)
    monkeypatch.setattr(stream_module, "_has_ffmpeg", lambda: False)
    info = stream_module.probe_audio(path)
    assert info.decoder == "sndfile" and not info.exact
    assert abs(load_audio(path).duration - 2.0) < 0.06
