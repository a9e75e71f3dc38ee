"""Checkpoint files shared by ADF training and NLDF distillation."""

from __future__ import annotations

import shutil
from pathlib import Path


def keep_step_copy(checkpoint: Path, step: int) -> Path:
    """A copy of the checkpoint just written, kept beside it as checkpoint_<step>.pt (`keep_checkpoints`), so a
    run stopped early, or gone past its best held-out step, can export that step; written atomically."""
    kept = Path(checkpoint).with_name(f"checkpoint_{step}.pt")
    partial = kept.with_name(kept.name + ".partial")
    shutil.copyfile(checkpoint, partial)
    partial.replace(kept)
    return kept
