"""PNG frame sequences written while the next frames render: folder/frame_NNNN.png, numbered from a start frame.

Encoding a frame (the sub filter, run-length deflate at level 1: `write_png(fast=True)`)
and writing it happen in a small thread pool; zlib and onnxruntime both release
the GIL, so the network renders frame t + 1 while frame t is compressed. At most
`PENDING` frames wait, so memory stays bounded on long clips; frames come back
in order, and the first error of a writer reaches the caller.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .png import write_png

WRITERS = 2   # threads encoding and writing PNGs beside the renderer
PENDING = 4   # frames handed to the writers and not yet written, at most


def frame_path(folder, frame: int) -> Path:
    """folder/frame_NNNN.png of scene frame `frame` (four digits or more)."""
    return Path(folder) / f"frame_{int(frame):04d}.png"


def write_frames(frames: Iterable[np.ndarray], folder, start_frame: int,
                 workers: int = WRITERS) -> Iterator[tuple[Path, np.ndarray]]:
    """Write each uint8 frame [H, W, C] of `frames` to folder/frame_NNNN.png (numbered from `start_frame`);
    yield (path, frame) in order once that file is complete. `workers` 0 writes on the caller's thread."""
    if workers < 1:
        for t, image in enumerate(frames):
            yield write_png(frame_path(folder, start_frame + t), image, fast=True), image
        return
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="png-writer") as pool:
        try:
            for t, image in enumerate(frames):
                pending.append((pool.submit(write_png, frame_path(folder, start_frame + t), image, fast=True), image))
                if len(pending) >= PENDING:
                    done, image = pending.popleft()
                    yield done.result(), image
            while pending:
                done, image = pending.popleft()
                yield done.result(), image
        finally:
            for done, _ in pending:  # an error or an early stop: writes not yet started are dropped
                done.cancel()


def over_white(rgba: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA uint8 [H, W, 4] over white -> RGB uint8 [H, W, 3], rounded as
    `to_uint8(composite_over(rgba / 255))` is, in integer arithmetic (a video frame)."""
    colour, alpha = rgba[..., :3].astype(np.uint32), rgba[..., 3:].astype(np.uint32)
    return ((colour * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
