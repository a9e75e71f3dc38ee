"""Read a video with ffmpeg: probe it, then stream its frames one at a time.

Frames come out on a constant time grid at the video's own average rate (a
variable-frame-rate file is resampled to that grid by ffmpeg's `fps` filter,
frame k at exactly k / fps seconds after `start`), turned upright as the
rotation metadata of phone videos asks, and scaled down so that the long side
is at most `max_side` (landmarks are scaled back to the full-size pixels).
Only one frame is held at a time, so any length of video needs the same memory.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from .errors import VideoError

STILL_IMAGE_CODECS = {"png", "mjpeg", "jpegls", "bmp", "gif", "tiff", "webp", "ppm", "pgm", "pam"}
IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "gif", "webp_pipe", "tiff_pipe", "ppm_pipe"}
ANALYSIS_MAX_SIDE = 960   # frames are analysed at most this large (MediaPipe works on a 192² crop)
PROBE_TIMEOUT_S = 60
ONE_THREAD_PIXELS = 1920 * 1080   # up to this size one decoding thread: it is no slower beside MediaPipe, and cheaper


@dataclass(frozen=True)
class VideoInfo:
    """What ffprobe says about a video.

    width, height: the upright (rotation applied) size in pixels; fps: the
    average frame rate as an exact fraction; duration: seconds; rotation:
    degrees the player turns the stored picture; codec; has_audio.
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    duration: float
    rotation: int
    codec: str
    has_audio: bool
    variable_rate: bool

    @property
    def name(self) -> str:
        return self.path.name

    def frame_count(self, start: float = 0.0, end: Optional[float] = None) -> int:
        """Frames on the time grid between start and end (seconds; None: the end of the video)."""
        stop = self.duration if end is None else min(end, self.duration)
        return max(0, int(math.floor((stop - start) * self.fps + 1e-6)))

    def analysis_size(self, max_side: int = ANALYSIS_MAX_SIDE) -> tuple:
        """(width, height) of the frames `frames` yields: even, long side at most max_side."""
        scale = min(1.0, max_side / max(self.width, self.height))
        return 2 * max(1, round(self.width * scale / 2)), 2 * max(1, round(self.height * scale / 2))


def find_tool(name: str) -> str:
    """The path of ffmpeg or ffprobe; VideoError when missing."""
    found = shutil.which(name)
    if found is None:
        raise VideoError(f"Reading a video needs {name}; install ffmpeg (e.g. 'apt-get install ffmpeg').")
    return found


def probe_video(path) -> VideoInfo:
    """Check that `path` is a readable video with a picture track and read its size, rate and rotation."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"The video '{path}' does not exist.")
    if path.stat().st_size == 0:
        raise VideoError(f"The video '{path.name}' is empty (0 bytes).")
    streams, fmt = _ffprobe(path)
    video = [s for s in streams if s.get("codec_type") == "video"
             and not s.get("disposition", {}).get("attached_pic")]
    has_audio = any(s.get("codec_type") == "audio" for s in streams)
    if not video:
        what = "an audio-only file" if has_audio else "not a video"
        raise VideoError(f"'{path.name}' is {what}: it has no picture track; choose a video of a face.")
    stream = video[0]
    if _is_still(stream, fmt):
        raise VideoError(f"'{path.name}' is a still image, not a video; choose a video of a talking face.")
    return _info(path, stream, fmt, has_audio)


def _ffprobe(path: Path):
    command = [find_tool("ffprobe"), "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise VideoError(f"ffprobe could not read '{path.name}' within {PROBE_TIMEOUT_S} s.") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["unreadable"])[-1]
        kind = "truncated or damaged" if "moov atom not found" in reason or _looks_like_video(path) \
            else "not a readable video"
        raise VideoError(f"'{path.name}' is {kind} ({reason.split(': ')[-1]}).")
    data = json.loads(done.stdout or "{}")
    return data.get("streams", []), data.get("format", {})


def _looks_like_video(path: Path) -> bool:
    """Whether the file starts like an MP4/MOV, Matroska/WebM or AVI container."""
    with open(path, "rb") as f:
        head = f.read(12)
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3" or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")


def _is_still(stream: dict, fmt: dict) -> bool:
    frames = int(stream.get("nb_frames") or 0)
    return fmt.get("format_name") in IMAGE_FORMATS or (
        stream.get("codec_name") in STILL_IMAGE_CODECS and frames <= 1)


def _info(path: Path, stream: dict, fmt: dict, has_audio: bool) -> VideoInfo:
    rotation = _rotation(stream)
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width < 16 or height < 16:
        raise VideoError(f"'{path.name}' has a {width}x{height} picture, too small to find a face in.")
    if rotation % 180:
        width, height = height, width
    avg, nominal = _rate(stream.get("avg_frame_rate")), _rate(stream.get("r_frame_rate"))
    fps = avg or nominal
    if not fps or not 1 <= fps <= 240:
        raise VideoError(f"'{path.name}' has no usable frame rate ({stream.get('avg_frame_rate')}).")
    duration = float(stream.get("duration") or fmt.get("duration") or 0.0)
    if duration <= 0:
        raise VideoError(f"'{path.name}' has no length (no duration in its header); it may be truncated.")
    variable = bool(avg and nominal and abs(float(avg) - float(nominal)) > 0.01 * float(nominal))
    return VideoInfo(path, width, height, fps.limit_denominator(1001), duration, rotation,
                     str(stream.get("codec_name", "")), has_audio, variable)


def _rate(text) -> Optional[Fraction]:
    try:
        rate = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return rate if rate > 0 else None


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            return int(round(float(side["rotation"]))) % 360
    return int(round(float(stream.get("tags", {}).get("rotate", 0)))) % 360


def decode_command(info: VideoInfo, start: float = 0.0, end: Optional[float] = None,
                   max_side: int = ANALYSIS_MAX_SIDE) -> list:
    """The ffmpeg command that writes RGB24 frames of `info` on the constant time grid to stdout."""
    width, height = info.analysis_size(max_side)
    command = [find_tool("ffmpeg"), "-nostdin", "-v", "error"]
    if info.width * info.height <= ONE_THREAD_PIXELS:
        command += ["-threads", "1"]        # the same frames for less CPU (a 9 s 512² clip 0.26 -> 0.23 s)
    if start > 0:
        command += ["-ss", f"{start:.6f}"]
    command += ["-i", str(info.path)]
    if end is not None:
        command += ["-t", f"{max(0.0, end - start):.6f}"]
    filters = f"fps={info.fps.numerator}/{info.fps.denominator},scale={width}:{height}:flags=area"
    return command + ["-an", "-sn", "-vf", filters, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]


def frames(info: VideoInfo, start: float = 0.0, end: Optional[float] = None,
           max_side: int = ANALYSIS_MAX_SIDE) -> Iterator[np.ndarray]:
    """Yield upright RGB frames [H, W, 3] uint8 (the analysis size) from start to end seconds.

    Raises VideoError when ffmpeg fails before the first frame; a file that
    breaks off later just ends early (the caller compares with `frame_count`).
    """
    width, height = info.analysis_size(max_side)
    size = width * height * 3
    process = subprocess.Popen(decode_command(info, start, end, max_side), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, bufsize=size)
    count = 0
    try:
        while True:
            data = _read_exactly(process.stdout, size)
            if data is None:
                break
            count += 1
            yield np.frombuffer(data, np.uint8).reshape(height, width, 3)
    finally:
        _finish(process, count, info)


def _read_exactly(stream, size: int) -> Optional[bytes]:
    chunks, got = [], 0
    while got < size:
        chunk = stream.read(size - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _finish(process: subprocess.Popen, count: int, info: VideoInfo) -> None:
    if process.poll() is None:
        process.kill()
    _, err = process.communicate()
    if count == 0 and process.returncode not in (0, -9):
        reason = (err.decode(errors="replace").strip().splitlines() or ["no frames"])[-1]
        raise VideoError(f"ffmpeg could not decode '{info.name}' ({reason}).")


def checked_range(info: VideoInfo, start, end):
    """(start, end) of a tracking range in seconds, checked against the video (end None: to its end)."""
    start = float(start or 0.0)
    if start < 0:
        raise VideoError(f"--start {start:g} s is before the video begins; give 0 or later.")
    if end is not None and end <= start:
        raise VideoError(f"The range {start:g} s to {end:g} s is empty; give --end after --start.")
    if start >= info.duration:
        raise VideoError(f"'{info.name}' is {info.duration:.2f} s long; --start {start:g} s is past its end.")
    return start, (None if end is None or end >= info.duration else float(end))
