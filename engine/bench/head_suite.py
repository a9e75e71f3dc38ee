"""The head model's speed: batched FLAME skinning of the built-in head beside a per-frame loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .measure import best_time
from .report import Row


def skinning(quick: bool, out: Path) -> list:
    """Batched FLAME skinning of the built-in head vs a per-frame loop over the same frames."""
    from ..head import load_head

    head = load_head()
    T = 200 if quick else 1000
    rng = np.random.default_rng(0)
    expression = rng.uniform(0, 1, (T, len(head.expression_names))).astype(np.float32)
    pose = rng.normal(0, 0.1, (T, 5, 3)).astype(np.float32)
    batched = best_time(lambda: head.forward(expression, pose))
    loop_frames = max(20, T // 10)
    looped = best_time(lambda: [head.forward(expression[t], pose[t]) for t in range(loop_frames)], 1)
    looped *= T / loop_frames
    return [Row("Head model", f"skin {T} frames of the built-in head ({head.num_vertices} vertices)",
                batched, "s", "per-frame loop", looped, looped / batched,
                target="1,000 frames well under 1 s", note="numpy LBS, FLAME definition")]
