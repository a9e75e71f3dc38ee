"""Decode an audio file block by block into mono float32 chunks at the analysis rate.

WAV, FLAC and OGG are read by libsndfile, `chunk_seconds` of native audio at a
time; MP3 and other containers are piped through ffmpeg as float32 (where
ffmpeg is not installed: MP3 through libsndfile, the rest through audioread). Every block is checked for NaN/inf,
mixed to mono and fed to a streaming soxr resampler, so the chunks joined
equal resampling the whole file at once while the native-rate file is never
held in memory. Silence, clipping and DC offset are valid input.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from ..errors import AudioError
from ..progress import Reporter, silent

ANALYSIS_RATE = 16000
DEFAULT_CHUNK_SECONDS = 30.0
RESAMPLE_QUALITY = "HQ"
DECODE_STAGE = "decoding audio"
PROBE_TIMEOUT_S = 60.0
INT16_SCALE = 1.0 / 32768.0
UNKNOWN_WAV_SIZES = (0, 0xFFFFFFFF)  # what streaming writers leave in a RIFF size field
NOT_AUDIO_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive",
    b"GIF8": "a GIF image",
}
SNDFILE_HEADERS = (b"RIFF", b"RIFX", b"RF64", b"fLaC", b"OggS")  # WAV, FLAC, OGG: libsndfile's own
# libsndfile estimates an MP3's length (and stops there: a VBR file without a Xing header comes out
# short), so MP3 goes through ffmpeg where it is installed.
SNDFILE_GUESSES_LENGTH = ("MP3",)
COMPRESSED_SUBTYPES = ("MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III")  # e.g. MP3 data in a WAV (tag 0x55)
MIN_RATE, MAX_RATE = 4000, 768_000       # Hz: below 4 kHz no speech is left; above, no recorder goes
MAX_CHANNELS = 64
MAX_SECONDS = 6 * 3600.0                 # the longest recording a job takes
MAX_SAMPLE = 1000.0                      # 60 dB over full scale: float data beyond it is not audio


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds before decoding it.

    `frames` counts native-rate sample frames (an estimate, or 0 when unknown,
    unless `exact`); `decoder` is "sndfile", "ffmpeg" or "audioread".
    """

    path: Path
    rate: int
    channels: int
    frames: int
    decoder: str
    exact: bool = True

    @property
    def name(self) -> str:
        """The file's name, quoted, for error sentences."""
        return f"'{self.path.name}'"


def stream_audio(path, rate: int = ANALYSIS_RATE, chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
                 reporter: Optional[Reporter] = None) -> Iterator[np.ndarray]:
    """Mono float32 chunks [n] at `rate` Hz, decoded `chunk_seconds` of the file at a time.

    The file is checked now (AudioError for a missing, empty or non-audio file);
    corrupt, truncated or NaN/inf data raise AudioError while iterating, and a
    cancelled `reporter` raises Cancelled between chunks. Chunks joined equal
    resampling the whole file at once (soxr HQ).
    """
    return decode_chunks(probe_audio(path), rate, chunk_seconds, reporter)


def probe_audio(path) -> AudioInfo:
    """Check that `path` is a readable audio file and read its rate, channels and length.

    The loader's boundary: any failure is an AudioError naming the file
    (an unreadable place, a damaged header, a rate, channel count or length
    no recording has).
    """
    path = Path(path)
    try:
        return checked_info(_probe(path))
    except OSError as error:
        raise AudioError(f"The audio file '{path.name}' could not be read ({error.strerror or error}).") from error
    except (ValueError, KeyError, TypeError, IndexError, OverflowError, ZeroDivisionError, struct.error,
            subprocess.SubprocessError) as error:
        raise _unreadable(path, f"its header is damaged: {type(error).__name__}") from error


def _probe(path: Path) -> AudioInfo:
    check_file(path)
    import soundfile

    try:
        info = soundfile.info(str(path))
    except soundfile.LibsndfileError as error:
        if _has_sndfile_header(path):
            raise AudioError(f"'{path.name}' is a corrupt or truncated audio file ({error}).") from None
        return _probe_ffmpeg(path) if _has_ffmpeg() else _probe_audioread(path)
    compressed = info.format in SNDFILE_GUESSES_LENGTH or info.subtype in COMPRESSED_SUBTYPES
    if compressed and _has_ffmpeg():
        return _probe_ffmpeg(path)
    info = AudioInfo(path, int(info.samplerate), int(info.channels), int(info.frames), "sndfile", not compressed)
    if not compressed:
        _check_wav_length(info)
    return info


def checked_info(info: AudioInfo) -> AudioInfo:
    """`info` when its rate, channels and length are those of a recording; AudioError otherwise."""
    if not MIN_RATE <= info.rate <= MAX_RATE:
        raise AudioError(f"{info.name} says its sample rate is {info.rate} Hz; audio for speech is recorded at "
                         f"{MIN_RATE} to {MAX_RATE} Hz, so the file is damaged or mislabelled.")
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise AudioError(f"{info.name} says it has {info.channels} channels; it is damaged or not audio.")
    if info.frames > MAX_SECONDS * info.rate:
        raise AudioError(f"{info.name} is {info.frames / info.rate / 3600:.1f} hours long, longer than a job "
                         f"takes ({MAX_SECONDS / 3600:.0f} hours); split it.")
    return info


def decode_chunks(info: AudioInfo, rate: int = ANALYSIS_RATE, chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
                  reporter: Optional[Reporter] = None) -> Iterator[np.ndarray]:
    """Mono float32 chunks [n] at `rate` of the file `info` describes (see `stream_audio`)."""
    reporter = reporter or silent()
    block = max(1, int(round(chunk_seconds * info.rate)))
    resampler = MonoResampler(info.rate, rate)
    reporter.stage(DECODE_STAGE, info.frames)
    done = 0
    for native in DECODERS[info.decoder](info, block):
        chunk = finite_after_resampling(resampler.push(to_mono(native, info.name)), info.name)
        done += native.shape[0]
        if done > MAX_SECONDS * info.rate:
            raise AudioError(f"{info.name} runs past {MAX_SECONDS / 3600:.0f} hours, longer than a job takes; "
                             "split it.")
        reporter.update(done, f"{done / info.rate:.0f} s decoded")
        if chunk.size:
            yield chunk
    _check_length(info, done)
    tail = finite_after_resampling(resampler.flush(), info.name)
    if tail.size:
        yield tail


def to_mono(block: np.ndarray, subject: str) -> np.ndarray:
    """Samples [n] or [n, channels] -> mono float32 [n] (channel mean); AudioError on NaN/inf."""
    block = np.asarray(block, dtype=np.float32)
    if not np.all(np.isfinite(block)):
        raise AudioError(f"{subject} contains NaN or infinite samples; re-export it as PCM audio.")
    if block.size and np.abs(block).max() > MAX_SAMPLE:
        raise AudioError(f"{subject} holds sample values of {float(np.abs(block).max()):.3g}, far outside the "
                         "-1..1 of audio; re-export it as PCM audio.")
    return block.mean(axis=1, dtype=np.float32) if block.ndim == 2 else block


def finite_after_resampling(chunk: np.ndarray, subject: str) -> np.ndarray:
    """`chunk` [n] when every resampled sample is finite; AudioError otherwise."""
    if not np.all(np.isfinite(chunk)):
        raise AudioError(f"{subject} turns into NaN when resampled (its samples are far too large); "
                         "re-export it as PCM audio.")
    return chunk


class MonoResampler:
    """Streaming band-limited resampling (soxr HQ) of mono float32 blocks from `rate` to `target_rate`."""

    def __init__(self, rate: int, target_rate: int) -> None:
        self._stream = None
        if rate != target_rate:
            import soxr

            self._stream = soxr.ResampleStream(rate, target_rate, 1, dtype="float32", quality=RESAMPLE_QUALITY)

    def push(self, block: np.ndarray) -> np.ndarray:
        """The resampled output [m] that block [n] completes (m is about n * target / rate)."""
        if self._stream is None:
            return block
        return self._stream.resample_chunk(np.ascontiguousarray(block), last=False)

    def flush(self) -> np.ndarray:
        """The output [m] still held in the resampler's filter once the input has ended."""
        if self._stream is None:
            return np.zeros(0, np.float32)
        return self._stream.resample_chunk(np.zeros(0, np.float32), last=True)


def check_file(path: Path) -> None:
    """AudioError when `path` is missing, a folder, empty, or starts like a known non-audio file."""
    if not path.exists():
        raise AudioError(f"The audio file '{path}' does not exist.")
    if path.is_dir():
        raise AudioError(f"'{path}' is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioError(f"The audio file '{path.name}' is empty (0 bytes).")
    with open(path, "rb") as f:
        head = f.read(8)
    for signature, kind in NOT_AUDIO_SIGNATURES.items():
        if head.startswith(signature):
            raise AudioError(f"'{path.name}' is not audio: it is {kind}.")


def _check_length(info: AudioInfo, done: int) -> None:
    if done == 0:
        raise AudioError(f"{info.name} holds no samples (zero length).")
    if info.exact and done < info.frames:
        raise AudioError(f"{info.name} is truncated: it ends after {done} of {info.frames} samples.")


def _has_sndfile_header(path: Path) -> bool:
    """True when the file starts like a WAV, FLAC or OGG file (so ffmpeg would not do better)."""
    with open(path, "rb") as f:
        return f.read(4) in SNDFILE_HEADERS


def _check_wav_length(info: AudioInfo) -> None:
    """AudioError when a RIFF WAV's header promises more frames than its data holds
    (libsndfile quietly shortens such files to the data present)."""
    declared = _wav_declared_frames(info.path)
    if declared is not None and declared > info.frames:
        raise AudioError(f"{info.name} is truncated: its header promises {declared} samples but the "
                         f"file holds {info.frames}; re-export it.")


def _wav_declared_frames(path: Path) -> Optional[int]:
    """Frames the 'data' chunk of a little-endian RIFF WAV declares; None for other files or unknown sizes."""
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        block_align = 0
        while len(header := f.read(8)) == 8:
            kind, size = header[:4], struct.unpack("<I", header[4:])[0]
            if kind == b"data":
                return size // block_align if block_align and size not in UNKNOWN_WAV_SIZES else None
            body = f.read(min(size, 16)) if kind == b"fmt " else b""
            block_align = struct.unpack("<H", body[12:14])[0] if len(body) >= 14 else block_align
            f.seek(size + (size & 1) - len(body), 1)
    return None


def _sndfile_blocks(info: AudioInfo, block: int) -> Iterator[np.ndarray]:
    """Native blocks [<= block, channels] float32 read by libsndfile."""
    import soundfile

    try:
        with soundfile.SoundFile(str(info.path)) as f:
            while (data := f.read(block, dtype="float32", always_2d=True)).shape[0]:
                yield data
    except soundfile.LibsndfileError as error:
        raise AudioError(f"{info.name} is a corrupt or truncated audio file ({error}).") from None


def _has_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _unreadable(path: Path, why: str) -> AudioError:
    return AudioError(f"'{path.name}' is not a readable audio file ({why}); use WAV, FLAC, OGG or MP3.")


def _probe_ffmpeg(path: Path) -> AudioInfo:
    """Rate, channels and (estimated) length of the first audio stream, from ffprobe."""
    command = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-of", "json",
               "-show_entries", "stream=sample_rate,channels:format=duration", str(path)]
    probe = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    streams = json.loads(probe.stdout or "{}").get("streams") if probe.returncode == 0 else None
    if not streams:
        raise _unreadable(path, "ffmpeg finds no audio in it")
    rate, channels = int(streams[0].get("sample_rate") or 0), int(streams[0].get("channels") or 0)
    if rate <= 0 or channels <= 0:
        raise _unreadable(path, "ffmpeg finds no usable audio in it")
    try:
        duration = float(json.loads(probe.stdout)["format"]["duration"])
    except (KeyError, ValueError):
        duration = 0.0
    return AudioInfo(path, rate, channels, int(round(duration * rate)), "ffmpeg", exact=False)


def _ffmpeg_blocks(info: AudioInfo, block: int) -> Iterator[np.ndarray]:
    """Native blocks [<= block, channels] float32 piped from an ffmpeg process."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(info.path), "-map", "0:a:0",
               "-f", "f32le", "-ac", str(info.channels), "-ar", str(info.rate), "-"]
    frame_bytes = 4 * info.channels
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        while data := process.stdout.read(block * frame_bytes):
            usable = len(data) - len(data) % frame_bytes
            yield np.frombuffer(data[:usable], dtype="<f4").reshape(-1, info.channels)
        if process.wait() != 0:
            raise _unreadable(info.path, "ffmpeg could not decode it")
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.wait()


def _audioread_open(path: Path):
    """An open audioread file (a context manager), without audioread's warnings about the
    deprecated standard modules it imports."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioread

        return audioread.audio_open(str(path))


def _probe_audioread(path: Path) -> AudioInfo:
    """Rate, channels and estimated length from audioread (CoreAudio, GStreamer or MAD)."""
    try:
        with _audioread_open(path) as f:
            rate, channels, duration = int(f.samplerate), int(f.channels), float(f.duration or 0.0)
    except Exception:  # audioread raises many unrelated types; all mean "cannot decode"
        raise _unreadable(path, "no decoder for it; install ffmpeg") from None
    return AudioInfo(path, rate, channels, int(round(duration * rate)), "audioread", exact=False)


def _audioread_blocks(info: AudioInfo, block: int) -> Iterator[np.ndarray]:
    """Native blocks [<= block, channels] float32 from audioread's 16-bit buffers."""
    frame_bytes, pending = 2 * info.channels, bytearray()
    try:
        with _audioread_open(info.path) as f:
            for buffer in f:
                pending += buffer
                while len(pending) >= block * frame_bytes:
                    yield _int16_frames(pending[: block * frame_bytes], info.channels)
                    del pending[: block * frame_bytes]
    except Exception:  # as above: every audioread failure means the file cannot be decoded
        raise _unreadable(info.path, "decoding failed part-way") from None
    usable = len(pending) - len(pending) % frame_bytes
    if usable:
        yield _int16_frames(pending[:usable], info.channels)


def _int16_frames(data: bytes, channels: int) -> np.ndarray:
    """Little-endian 16-bit PCM bytes -> float32 [n, channels] in [-1, 1)."""
    return np.frombuffer(bytes(data), dtype="<i2").reshape(-1, channels).astype(np.float32) * INT16_SCALE


DECODERS = {"sndfile": _sndfile_blocks, "ffmpeg": _ffmpeg_blocks, "audioread": _audioread_blocks}
