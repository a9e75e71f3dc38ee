"""A NeRF teacher's training set made by the mesh teacher: real motion, perturbed, seen from around the front.

Recipe of `make_teacher_set`:
1. animate the shipped voice (`engine/data/voices/sample_en.wav`) with a
   driver ("phonetic" or "energy") into a MotionClip of real speech motion;
2. draw frames from it and perturb them (`perturb`): a few expression
   coefficients nudged, the jaw opened or closed a little (sometimes wide),
   the gaze moved, all within the head's limits;
3. draw a camera per frame around the default framing (yaw within
   +-YAW_RANGE, pitch within +-PITCH_RANGE degrees);
4. render each frame with the mesh teacher in the chosen look.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ....head import load_head
from ....head.model import JOINT_NAMES, HeadModel
from ....progress import Reporter, silent
from ....render.camera import Camera, default_framing
from ..mesh import mesh_teacher

SAMPLE_VOICE = Path(__file__).resolve().parents[3] / "data" / "voices" / "sample_en.wav"
YAW_RANGE = 30.0          # degrees either side of the front
PITCH_RANGE = 15.0        # degrees above and below
EXPRESSION_NUDGES = 4     # expression coefficients nudged per frame
EXPRESSION_NUDGE = 0.25   # by up to this much (then clipped to [0, 1])
JAW_NUDGE = 0.06          # radians of jaw opening added or taken away
WIDE_JAW_FRACTION = 0.15  # frames whose jaw opening is drawn anywhere in its range
GAZE_FRACTION = 0.5       # of the eye joints' limits, the range of a random gaze


@dataclass
class TeacherSet:
    """Frames for a NeRF fit: frames [F, H, W, 4] float32 (straight alpha), params [F] dicts, cameras [F]."""

    frames: np.ndarray
    params: list
    cameras: list

    def __len__(self) -> int:
        return len(self.params)


def speech_motion(head: HeadModel, driver: str = "phonetic", audio=SAMPLE_VOICE, fps: float = 30.0) -> dict:
    """Per-frame head parameters of a voice animated by `driver`: {"expression": [T, E], "pose": [T, 5, 3], ...}."""
    from ....animate import animate

    return animate(audio, fps, driver=driver).head_params(head)


def perturb(head: HeadModel, frame: dict, rng: np.random.Generator) -> dict:
    """One frame's parameters (expression [E], pose [5, 3], translation [3]) with random nudges inside the limits."""
    expression = frame["expression"].astype(np.float32).copy()
    chosen = rng.choice(expression.shape[0], EXPRESSION_NUDGES, replace=False)
    expression[chosen] += rng.uniform(-EXPRESSION_NUDGE, EXPRESSION_NUDGE, EXPRESSION_NUDGES)
    pose = frame["pose"].astype(np.float32).copy()
    jaw = JOINT_NAMES.index("jaw")
    low, high = head.joint_limits.get("jaw", (np.full(3, -0.5), np.full(3, 0.5)))
    if rng.random() < WIDE_JAW_FRACTION:
        pose[jaw, 0] = rng.uniform(low[0], high[0])
    else:
        pose[jaw, 0] += rng.uniform(-JAW_NUDGE, JAW_NUDGE)
    pose[jaw] = np.clip(pose[jaw], low, high)
    for eye in ("eye_left", "eye_right"):
        if eye in head.joint_limits:
            low_e, high_e = head.joint_limits[eye]
            pose[JOINT_NAMES.index(eye), :2] = rng.uniform(GAZE_FRACTION * low_e[:2], GAZE_FRACTION * high_e[:2])
    return {"expression": np.clip(expression, 0.0, 1.0), "pose": pose,
            "translation": frame["translation"].astype(np.float32).copy()}


def random_camera(head: HeadModel, size: int, rng: np.random.Generator) -> Camera:
    """The default framing at `size` pixels, orbited by a random yaw and pitch within the ranges."""
    yaw, pitch = rng.uniform(-YAW_RANGE, YAW_RANGE), rng.uniform(-PITCH_RANGE, PITCH_RANGE)
    return default_framing(head.v_template, size, yaw=yaw, pitch=pitch)


def make_teacher_set(look: str = "toon", count: int = 100, size: int = 128, seed: int = 0,
                     head: Optional[HeadModel] = None, driver: str = "phonetic", motion: Optional[dict] = None,
                     reporter: Optional[Reporter] = None) -> TeacherSet:
    """`count` mesh-teacher frames of `look` at `size` x `size`: perturbed speech motion, random cameras.

    motion: per-frame parameters to draw from (as `speech_motion` gives;
    None animates the shipped voice with `driver`). The same seed gives the
    same set.
    """
    head, reporter = head or load_head(), reporter or silent()
    motion = speech_motion(head, driver) if motion is None else motion
    rng = np.random.default_rng(seed)
    render = mesh_teacher(look, head)
    frames, params, cameras = [], [], []
    reporter.stage(f"rendering {look} teacher frames", count)
    for k in range(count):
        t = int(rng.integers(motion["expression"].shape[0]))
        params.append(perturb(head, {key: value[t] for key, value in motion.items()}, rng))
        cameras.append(random_camera(head, size, rng))
        frames.append(render(params[-1], cameras[-1]))
        reporter.update(k + 1)
    return TeacherSet(np.stack(frames), params, cameras)
