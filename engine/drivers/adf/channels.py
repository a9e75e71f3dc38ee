"""What the ADF network predicts, and the style code it is conditioned on (runtime side: no torch).

The network predicts the audio-driven channels: the mouth (jaw and lip shapes),
the brows, the smile bias and the head's pitch (accent nods). Blinks, gaze and
slow head sway have no audio cause a network could learn (in the corpus they
are seeded random processes), so the runtime adds them procedurally, from the
same prosody module the phonetic driver uses, at the style's rates.

A style code is the SpeakingStyle parameters mapped to [-1, 1] (STYLE_NAMES
order): clips of one style land on one point by construction, and presets
are just codes.
"""

from __future__ import annotations

import numpy as np

from ..phonetic.visemes import MOUTH_CHANNELS
from ...style import RANGES, SpeakingStyle

EXPRESSIVE_CHANNELS = ("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
                       "mouthFrownLeft", "mouthFrownRight", "mouthSmileLeft", "mouthSmileRight")
LIP_OUTPUTS = tuple(c for c in MOUTH_CHANNELS if c not in EXPRESSIVE_CHANNELS)
POSE_OUTPUTS = tuple(sorted(set(EXPRESSIVE_CHANNELS) - set(LIP_OUTPUTS))) + ("neck_rx",)
OUTPUT_CHANNELS = LIP_OUTPUTS + POSE_OUTPUTS
STYLE_NAMES = tuple(RANGES)
STYLE_INPUTS = OUTPUT_CHANNELS + ("eyeBlinkLeft", "neck_ry", "neck_rz")  # what the style encoder reads
MODEL_RATE = 50.0          # the network's output frames per second (features at 100 Hz, stride 2)
HEAD_ANGLES = ("neck_rx", "neck_ry", "neck_rz")


def head_about_mean(frames: np.ndarray) -> np.ndarray:
    """Reference frames [R, len(STYLE_INPUTS)] with the head's angles taken about their mean (a copy):
    where a tracked head points (often 10-25 degrees off the camera) is not its speaking style, how it
    moves is. Encoders whose sidecar says "head_about_mean" read their reference this way."""
    out = np.array(frames, np.float32, copy=True)
    index = [STYLE_INPUTS.index(n) for n in HEAD_ANGLES]
    if out.shape[0]:
        out[:, index] -= out[:, index].mean(axis=0)
    return out


def style_code(style: SpeakingStyle) -> np.ndarray:
    """[S] float32 in [-1, 1]: each parameter's position in its range."""
    values = style.to_dict()
    return np.array([2.0 * (values[n] - RANGES[n][0]) / (RANGES[n][1] - RANGES[n][0]) - 1.0
                     for n in STYLE_NAMES], np.float32)


def style_from_code(code: np.ndarray) -> SpeakingStyle:
    """The inverse of `style_code` (values clipped into range)."""
    code = np.clip(np.asarray(code, np.float64), -1.0, 1.0)
    return SpeakingStyle(**{n: float(RANGES[n][0] + (c + 1.0) / 2.0 * (RANGES[n][1] - RANGES[n][0]))
                            for n, c in zip(STYLE_NAMES, code)})
