"""Plots of a clip's channels over time (matplotlib, imported only when asked for)."""

from __future__ import annotations

import numpy as np

from ..errors import EngineError, InputError

MAX_CHANNELS = 8


def channel_plot(names, values, fps: float, channels=None, title: str = "",
                 size=(960, 540)) -> np.ndarray:
    """Plot channels of a clip against time: RGB uint8 image [size[1], size[0], 3].

    names [C] channel names, values [T, C], fps the frame rate. `channels`
    picks the channels to draw by name; None draws the MAX_CHANNELS that move
    the most (largest standard deviation).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(names) or values.shape[0] == 0 or fps <= 0:
        raise InputError(f"A channel plot needs values [T, {len(names)}] and a positive frame rate.")
    picked = main_channels(names, values) if channels is None else _indices(names, channels)
    Figure, FigureCanvasAgg = _matplotlib()
    dpi = 100
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    time = np.arange(values.shape[0]) / fps
    for c in picked:
        ax.plot(time, values[:, c], label=names[c], linewidth=1.4)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("value")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if picked:
        ax.legend(loc="upper right", fontsize=8, ncol=2)
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def main_channels(names, values: np.ndarray, limit: int = MAX_CHANNELS) -> list:
    """Indices of the channels that move the most (non-constant, largest std first)."""
    std = values.std(axis=0)
    order = [int(i) for i in np.argsort(-std, kind="stable") if std[i] > 0]
    return order[:limit]


def _indices(names, channels) -> list:
    lowered = [n.lower() for n in names]
    missing = [c for c in channels if c.lower() not in lowered]
    if missing:
        raise InputError(f"The clip has no channel named '{missing[0]}'.")
    return [lowered.index(c.lower()) for c in channels]


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise EngineError("Channel plots need matplotlib; install it with 'pip install matplotlib'.") from None
    return Figure, FigureCanvasAgg


def clip_plot(clip, channels=None, title: str = "", size=(960, 540)) -> np.ndarray:
    """`channel_plot` of a MotionClip's channels: RGB uint8 [size[1], size[0], 3]."""
    return channel_plot(clip.names, clip.values, clip.fps, channels, title, size)
