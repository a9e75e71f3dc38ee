"""Draw a fit over its video: the fitted head's contours (green) and MediaPipe's points (red dots).

`overlay_frames` yields the annotated frames; `write_overlay` encodes them with
the video's own sound so a person can judge the fit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from ..progress import Reporter, silent
from . import decode, topology

FIT_COLOUR = (40, 230, 90)
TARGET_COLOUR = (235, 40, 40)
BRIDGED_COLOUR = (250, 200, 30)


def draw_dots(image: np.ndarray, points: np.ndarray, colour, radius: int = 1) -> None:
    """Paint square dots of side 2 * radius + 1 at points [N, 2] (x, y pixels) into image [H, W, 3]."""
    h, w = image.shape[:2]
    xy = np.round(points[np.all(np.isfinite(points), axis=1)]).astype(int)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            x, y = xy[:, 0] + dx, xy[:, 1] + dy
            keep = (x >= 0) & (x < w) & (y >= 0) & (y < h)
            image[y[keep], x[keep]] = colour


def draw_polyline(image: np.ndarray, points: np.ndarray, colour, thickness: int = 1) -> None:
    """Paint straight segments through points [N, 2] into image [H, W, 3]."""
    for a, b in zip(points[:-1], points[1:]):
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            continue
        n = int(max(abs(b - a).max(), 1)) + 1
        line = a + (b - a) * np.linspace(0.0, 1.0, n)[:, None]
        draw_dots(image, line, colour, thickness // 2)


def annotate(image: np.ndarray, fitted: np.ndarray, target: np.ndarray, indices: np.ndarray, scale: float,
             bridged: bool = False) -> np.ndarray:
    """A copy of image [H, W, 3] with the fitted contours and the target points drawn.

    fitted, target [K, 2] pixels of the full-size video (MediaPipe numbers
    `indices` [K]); scale converts them to this image's pixels.
    """
    out = image.copy()
    where = {int(i): k for k, i in enumerate(indices)}
    radius = max(1, round(image.shape[1] / 400))
    if not bridged:
        draw_dots(out, target * scale, TARGET_COLOUR, radius)
    colour = BRIDGED_COLOUR if bridged else FIT_COLOUR
    for contour in topology.CONTOURS:
        ks = [where[i] for i in contour if i in where]
        draw_polyline(out, fitted[ks] * scale, colour, 2 * radius)
    return out


def overlay_frames(info: decode.VideoInfo, fit, start: float = 0.0, end: Optional[float] = None,
                   reporter: Optional[Reporter] = None) -> Iterator[np.ndarray]:
    """Yield the video's frames [H, W, 3] uint8 with the fit drawn over them."""
    reporter = reporter or silent()
    reporter.stage("drawing the overlay", len(fit.params))
    width, _ = info.analysis_size()
    scale = width / info.width
    for t, image in enumerate(decode.frames(info, start, end)):
        if t >= len(fit.params):
            break
        yield annotate(image, fit.fitted_uv[t], fit.target_uv[t], fit.problem.indices, scale, bool(fit.bridged[t]))
        reporter.update(t + 1)


def write_overlay(path, info: decode.VideoInfo, fit, start: float = 0.0, end: Optional[float] = None,
                  reporter: Optional[Reporter] = None) -> Path:
    """Encode the overlay as an MP4 at the video's rate, with its sound (trimmed to start..end)."""
    import tempfile

    from ..preview.video import write_video

    with tempfile.TemporaryDirectory() as tmp:
        sound = _sound(info, start, end, Path(tmp) / "sound.wav") if info.has_audio else None
        return write_video(path, overlay_frames(info, fit, start, end, reporter), float(info.fps), sound,
                           total=len(fit.params), reporter=reporter)


def _sound(info: decode.VideoInfo, start: float, end: Optional[float], out: Path) -> Optional[Path]:
    import subprocess

    command = [decode.find_tool("ffmpeg"), "-nostdin", "-v", "error", "-y"]
    command += (["-ss", f"{start:.6f}"] if start > 0 else []) + ["-i", str(info.path)]
    command += (["-t", f"{end - start:.6f}"] if end is not None else []) + ["-vn", "-ac", "2", str(out)]
    done = subprocess.run(command, capture_output=True)
    return out if done.returncode == 0 and out.is_file() else None
