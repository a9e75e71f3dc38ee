"""The README's picture of real clips tracked: one frame of each, the fitted head's contours (green)
over MediaPipe's points (red), cropped to the face, with the clip's median landmark error.

    python -m engine.bench.video_picture docs/video_tracking_real.png

Each clip shows the frame where the fitted mouth is widest open (the hardest part to keep).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from .video_suite import VIDEOS

CLIPS = ("eamm_video_surprised.mp4", "liveportrait_d11.mp4", "lrs3_QoT0S2vu9m4_00002.mp4",
         "mead_W036_level_3_happy_007.mp4", "pcavs_Input_00002.mp4", "real3dportrait_May_5s.mp4",
         "retalking_1.mp4", "wav2lipgfpgan_kim_7s_raw.mp4")
CELL = 240          # pixels of each picture's side
MARGIN = 1.45       # the crop's side over the face's size


def clip_cell(path: Path, size: int = CELL):
    """(cell [size, size, 3] uint8, label) of one tracked clip."""
    from ..video import decode, track_video
    from ..video.overlay import annotate
    from ..video.track import lip_gaps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        take = track_video(path)
    fit = take.fit
    gap, _ = lip_gaps(fit)
    t = int(np.nanargmax(np.where(fit.bridged, -np.inf, gap)))
    frame = next(f for k, f in enumerate(decode.frames(take.info)) if k == t)
    scale = frame.shape[1] / take.info.width                     # analysis pixels per full-size pixel
    target = fit.target_uv[t][fit.problem.indices < 468] * scale
    lo, hi = target.min(axis=0), target.max(axis=0)
    side = MARGIN * float(max(hi - lo))
    x0, y0 = (lo + hi) / 2 - side / 2
    crop = _resized(frame, x0, y0, side, size)
    zoom = size / side
    offset = np.array([x0, y0])
    cell = annotate(crop, fit.fitted_uv[t] * scale - offset, fit.target_uv[t] * scale - offset,
                    fit.problem.indices, zoom)
    error = float(np.nanmedian(fit.error))
    return cell, f"{path.stem[:24]} {100 * error:.1f}%"


def _resized(image: np.ndarray, x0: float, y0: float, side: float, size: int) -> np.ndarray:
    """The square [x0, x0 + side) x [y0, y0 + side) of image [H, W, 3] (edges repeated) as [size, size, 3],
    bilinear."""
    h, w = image.shape[:2]
    centres = (np.arange(size) + 0.5) * side / size - 0.5
    xs, ys = np.clip(x0 + centres, 0, w - 1), np.clip(y0 + centres, 0, h - 1)
    xa, ya = np.floor(xs).astype(int), np.floor(ys).astype(int)
    xb, yb = np.minimum(xa + 1, w - 1), np.minimum(ya + 1, h - 1)
    fx, fy = (xs - xa)[None, :, None], (ys - ya)[:, None, None]
    img = image.astype(np.float32)
    top = img[ya][:, xa] * (1 - fx) + img[ya][:, xb] * fx
    bottom = img[yb][:, xa] * (1 - fx) + img[yb][:, xb] * fx
    return np.clip(top * (1 - fy) + bottom * fy + 0.5, 0, 255).astype(np.uint8)


def make_picture(out: Path, clips=CLIPS) -> Path:
    """Track `clips` of ../shared/data/videos and write their cells as one sheet (4 columns) to `out`."""
    from ..preview.png import write_png
    from ..preview.sheet import contact_sheet

    cells = [clip_cell(VIDEOS / name) for name in clips]
    sheet = contact_sheet(np.stack([c for c, _ in cells]), [label for _, label in cells], columns=4)
    return write_png(out, sheet)


if __name__ == "__main__":
    print(make_picture(Path(sys.argv[1] if len(sys.argv) > 1 else "out/video_tracking_real.png")))
