"""MP4 videos: raw RGB frames piped into ffmpeg (H.264, yuv420p), with optional AAC audio."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from ..errors import EngineError, InputError
from ..progress import Reporter

CRF = 18  # x264 quality: visually lossless for previews
EVEN_PAD = "pad=ceil(iw/2)*2:ceil(ih/2)*2"  # yuv420p needs even width and height


def find_ffmpeg() -> str:
    """The path of the ffmpeg executable; EngineError when it is not installed."""
    found = shutil.which("ffmpeg")
    if found is None:
        raise EngineError("Writing a video needs ffmpeg; install it (e.g. 'apt-get install ffmpeg') "
                          "and make sure it is on the PATH.")
    return found


def write_video(path, frames: Iterable[np.ndarray], fps: float, audio_path=None,
                total: int = 0, reporter: Optional[Reporter] = None, crf: int = CRF) -> Path:
    """Encode frames (each RGB uint8 [H, W, 3]) as an H.264 MP4 at `fps`.

    Odd sizes are padded to even. With `audio_path`, the sound is muxed as
    AAC and the video ends with the shorter of the two (`-shortest`).
    `total` (frames, if known) sizes the progress stage; the file appears
    only when encoding succeeded (cancelling leaves nothing behind).
    """
    path = Path(path)
    if audio_path is not None and not Path(audio_path).is_file():
        raise InputError(f"The audio file {audio_path} does not exist.")
    if fps <= 0:
        raise InputError(f"The frame rate must be positive, not {fps}.")
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise InputError("There are no frames to write to the video.")
    height, width = _checked_frame(first, None).shape[:2]
    partial = path.with_name(path.stem + ".partial" + path.suffix)
    command = _command(find_ffmpeg(), width, height, fps, audio_path, crf, partial)
    try:
        _encode(command, first, frames, total, reporter or Reporter())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _command(ffmpeg: str, width: int, height: int, fps: float, audio_path, crf: int, out: Path) -> list:
    rate = Fraction(fps).limit_denominator(1001)
    command = [ffmpeg, "-y", "-hide_banner", "-loglevel", "error",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-framerate", f"{rate.numerator}/{rate.denominator}", "-i", "-"]
    if audio_path is not None:
        command += ["-i", str(audio_path)]
    command += ["-vf", EVEN_PAD, "-c:v", "libx264", "-preset", "medium", "-crf", str(crf),
                "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    if audio_path is not None:
        command += ["-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "160k", "-shortest"]
    return command + ["-f", "mp4", str(out)]


def _encode(command: list, first: np.ndarray, rest, total: int, reporter: Reporter) -> None:
    """Run ffmpeg and feed it the frames; EngineError with ffmpeg's message when it fails."""
    reporter.stage("video", total)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        try:
            _feed(process, first, rest, reporter)
        except BaseException:
            process.kill()
            process.wait()
            raise
        code = process.wait()
        if code != 0:
            log.seek(0)
            lines = log.read().decode(errors="replace").strip().splitlines() or ["no message"]
            raise EngineError(f"ffmpeg could not write the video: {lines[-1]}")


def _feed(process: subprocess.Popen, first: np.ndarray, rest, reporter: Reporter) -> None:
    shape, done = first.shape, 0
    try:
        for frame in _chain(first, rest):
            process.stdin.write(_checked_frame(frame, shape).tobytes())
            done += 1
            reporter.update(done)
    except BrokenPipeError:
        pass  # ffmpeg stopped early; its exit code and message tell why
    finally:
        try:
            process.stdin.close()
        except BrokenPipeError:
            pass


def _chain(first, rest):
    yield first
    yield from rest


def _checked_frame(frame, shape) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise InputError(f"Video frames must be RGB uint8 [H, W, 3], not {frame.dtype} {frame.shape}.")
    if shape is not None and frame.shape != shape:
        raise InputError(f"All video frames must be {shape[1]}x{shape[0]}; one is {frame.shape[1]}x{frame.shape[0]}.")
    return np.ascontiguousarray(frame)
