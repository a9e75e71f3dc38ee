"""A picture of the teacher looks for people: every look at neutral and with the mouth open, front and 3/4."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...head import load_head
from ...head.model import JOINT_NAMES, HeadModel
from ...preview.png import write_png
from ...preview.sheet import contact_sheet
from ...render.camera import default_framing
from .mesh import LOOKS, render_teacher

OPEN_JAW = 0.3  # radians: a wide "ah"
VIEWS = (("front", 0.0, 0.0), ("3/4", 35.0, 8.0))


def sample_frames(head: HeadModel) -> dict:
    """Named frames of head parameters: neutral and mouth open."""
    open_pose = np.zeros((len(JOINT_NAMES), 3), np.float32)
    open_pose[JOINT_NAMES.index("jaw"), 0] = OPEN_JAW
    return {"neutral": {}, "mouth open": {"pose": open_pose}}


def looks_sheet(head: HeadModel | None = None, size: int = 256, looks=None) -> np.ndarray:
    """RGB uint8 sheet: one row per look, one column per (view, frame) pair, each cell labelled."""
    head = load_head() if head is None else head
    looks = sorted(LOOKS) if looks is None else list(looks)
    frames, labels = [], []
    for look in looks:
        for view, yaw, pitch in VIEWS:
            camera = default_framing(head.v_template, size, yaw=yaw, pitch=pitch)
            for name, params in sample_frames(head).items():
                frames.append(render_teacher(head, params, camera, look))
                labels.append(f"{look} {name} {view}")
    return contact_sheet(np.stack(frames), labels, columns=len(frames) // len(looks))


def save_looks_sheet(path, head: HeadModel | None = None, size: int = 256) -> Path:
    """Write `looks_sheet` as a PNG at `path`; returns the path."""
    return write_png(path, looks_sheet(head, size))
