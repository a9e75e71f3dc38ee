"""Matte the person in every frame of a video, cropped to a square: MediaPipe Selfie Segmentation in a child.

    crop = square_crop(points, info.width, info.height)        # a square around the head's pixels
    rgba = matte_frames(info, crop, 128)                       # [F, 128, 128, 4] uint8, alpha = the person

ffmpeg decodes the frames on the video's constant time grid (as the tracker
does: frame k at k / fps seconds after `start`), crops the square and scales
it to size x size; the child (`matte_worker.py`, run by the tracker's Python)
adds the person's mask as alpha. The mask is the whole person (hair, neck,
torso); what of it belongs to the head is for the caller to decide.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..progress import Reporter, silent
from . import decode
from .errors import TrackerMissingError, VideoError
from ..early_tracker import quiet_env
from .landmarks import tracker_python

WORKER = Path(__file__).with_name("matte_worker.py")


@dataclass(frozen=True)
class Crop:
    """A square of the full-size, upright frame: left x0, top y0 and side, in whole pixels."""

    x0: int
    y0: int
    side: int

    def to_dict(self) -> dict:
        return {"x0": self.x0, "y0": self.y0, "side": self.side}


def square_crop(points: np.ndarray, width: int, height: int, margin: float = 1.1) -> Crop:
    """The smallest square holding points [N, 2] (full-size pixels, u right, v down) grown by `margin`,
    moved (and if need be shrunk) to lie inside the width x height frame."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    points = points[np.all(np.isfinite(points), axis=1)]
    if points.size == 0:
        raise VideoError("There is no head to crop the video to (no finite points).")
    low, high = points.min(0), points.max(0)
    side = int(min(np.ceil(margin * float(np.max(high - low))), width, height))
    side = max(side, 2)
    centre = 0.5 * (low + high)
    x0 = int(np.clip(round(centre[0] - side / 2), 0, width - side))
    y0 = int(np.clip(round(centre[1] - side / 2), 0, height - side))
    return Crop(x0, y0, side)


def matte_command(info: decode.VideoInfo, crop: Crop, size: int, start: float = 0.0,
                  end: Optional[float] = None) -> list:
    """The ffmpeg command writing RGB24 frames of the crop, scaled to size x size, on the time grid."""
    command = decode.decode_command(info, start, end)
    filters = (f"fps={info.fps.numerator}/{info.fps.denominator},crop={crop.side}:{crop.side}:{crop.x0}:{crop.y0},"
               f"scale={size}:{size}:flags=area")
    command[command.index("-vf") + 1] = filters
    return command


def matte_frames(info: decode.VideoInfo, crop: Crop, size: int, start: float = 0.0, end: Optional[float] = None,
                 reporter: Optional[Reporter] = None) -> np.ndarray:
    """RGBA [F, size, size, 4] uint8 of every frame from start to end seconds: the crop's colour, and
    alpha = MediaPipe's person mask. VideoError when no frame comes, TrackerMissingError without MediaPipe."""
    reporter = reporter or silent()
    expected = info.frame_count(start, end)
    reporter.stage("matting the head", expected)
    job = {"command": matte_command(info, crop, size, start, end), "width": size, "height": size}
    record = size * size * 4
    frames = []
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([tracker_python(), str(WORKER), json.dumps(job)], stdout=subprocess.PIPE,
                                   stderr=log, env=quiet_env())
        try:
            while True:
                data = decode._read_exactly(process.stdout, record)
                if data is None:
                    break
                frames.append(np.frombuffer(data, np.uint8).reshape(size, size, 4))
                reporter.update(min(len(frames), expected))
        finally:
            if process.poll() is None and not frames:
                process.kill()
            process.wait()
        log.seek(0)
        _check_worker(process.returncode, log.read().decode(errors="replace"), info, frames)
    return np.stack(frames)


def _check_worker(code: int, err: str, info: decode.VideoInfo, frames: list) -> None:
    lines = [line for line in err.splitlines() if line.startswith(("error: ", "decoder: "))]
    if code == 3:
        raise TrackerMissingError(lines[-1][len("error: "):] if lines else "MediaPipe could not start.")
    if code not in (0, -9) or not frames:
        last = lines[-1] if lines else (err.strip().splitlines() or ["no frames"])[-1]
        raise VideoError(f"Matting the head in '{info.name}' failed ({last[:200]}).")
