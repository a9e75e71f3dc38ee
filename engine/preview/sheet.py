"""Contact sheets: a grid of rendered frames with labels over a light background."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from .font import GLYPH_H, draw_text

SHEET_BACKGROUND = (0.94, 0.94, 0.93)
LABEL_COLOR = (40, 40, 40)
PADDING = 8  # pixels between and around the cells


def contact_sheet(frames, labels=None, columns: int = 0, background=SHEET_BACKGROUND,
                  padding: int = PADDING) -> np.ndarray:
    """Lay frames out in a grid: frames [N, H, W, 4] (or [N, H, W, 3]) -> RGB uint8 [SH, SW, 3].

    Frames are floats in [0, 1] or uint8; RGBA frames are composited over
    `background`. `labels` (N strings) are written under each frame;
    `columns` 0 picks a near-square grid. The sheet is
    rows * (H + label height) + (rows + 1) * padding high and
    columns * W + (columns + 1) * padding wide.
    """
    rgb = _as_rgb8(frames, background)
    N, H, W, _ = rgb.shape
    if labels is not None and len(labels) != N:
        raise InputError(f"A contact sheet of {N} frames needs {N} labels, not {len(labels)}.")
    columns = columns or math.ceil(math.sqrt(N))
    rows = math.ceil(N / columns)
    scale = label_scale(W)
    label_h = (GLYPH_H * scale + padding) if labels is not None else 0
    sheet = np.empty((rows * (H + label_h) + (rows + 1) * padding,
                      columns * W + (columns + 1) * padding, 3), dtype=np.uint8)
    sheet[:] = np.rint(np.asarray(background) * 255).astype(np.uint8)
    for i in range(N):
        y, x = cell_origin(i, columns, H + label_h, W, padding)
        sheet[y:y + H, x:x + W] = rgb[i]
        if labels is not None:
            draw_text(sheet, _fit(str(labels[i]), W, scale), x, y + H + padding // 2, LABEL_COLOR, scale)
    return sheet


def cell_origin(index: int, columns: int, cell_h: int, cell_w: int, padding: int = PADDING):
    """Top-left (row, column) pixel of cell `index` in a sheet."""
    r, c = divmod(index, columns)
    return padding + r * (cell_h + padding), padding + c * (cell_w + padding)


def label_scale(frame_width: int) -> int:
    """How much to enlarge the 5x7 font for frames of this width."""
    return max(1, frame_width // 160)


def _fit(text: str, width: int, scale: int) -> str:
    return text[:max(1, width // (6 * scale))]


def _as_rgb8(frames, background) -> np.ndarray:
    """Frames [N, H, W, 3 or 4] (float in [0, 1] or uint8) -> RGB uint8 [N, H, W, 3]."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] not in (3, 4) or frames.shape[0] == 0:
        raise InputError(f"Frames must be [N, H, W, 3 or 4] with N > 0, not {frames.shape}.")
    f = frames.astype(np.float32) / 255.0 if frames.dtype == np.uint8 else frames.astype(np.float32)
    if f.shape[-1] == 4:
        alpha = f[..., 3:]
        f = f[..., :3] * alpha + np.asarray(background, dtype=np.float32) * (1.0 - alpha)
    return np.clip(np.rint(f * 255.0), 0, 255).astype(np.uint8)
