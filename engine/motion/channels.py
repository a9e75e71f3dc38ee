"""Channel names shared by MotionClips, drivers, exporters and the add-on.

A MotionClip channel is either
- an expression component, named as the head names it (`mouthFunnel`,
  `eyeBlinkLeft`, ... on the built-in head; `exp000`.. on a FLAME head), or
- one axis of a joint's axis-angle rotation, `<joint>_r<axis>` with the joint
  in FLAME order (`global_rx`, `neck_ry`, `jaw_rx`, `eye_left_ry`, ...), or
- the head's translation, `global_tx`, `global_ty`, `global_tz` (metres).
"""

from __future__ import annotations

import numpy as np

from ..head.model import JOINT_NAMES, NUM_JOINTS

AXES = ("x", "y", "z")
POSE_CHANNELS = tuple(f"{joint}_r{axis}" for joint in JOINT_NAMES for axis in AXES)
TRANSLATION_CHANNELS = tuple(f"global_t{axis}" for axis in AXES)


def pose_channel(joint: str, axis: str) -> str:
    """The channel name of one axis of a joint's rotation, e.g. ('jaw', 'x') -> 'jaw_rx'."""
    if joint not in JOINT_NAMES or axis not in AXES:
        raise ValueError(f"unknown joint/axis {joint!r}/{axis!r}")
    return f"{joint}_r{axis}"


def is_pose_channel(name: str) -> bool:
    return name in POSE_CHANNELS or name in TRANSLATION_CHANNELS


def head_params(names, values: np.ndarray, expression_names) -> dict:
    """Split clip channels into the head's parameter arrays.

    names [C], values [T, C] -> {"expression": [T, E], "pose": [T, 5, 3],
    "translation": [T, 3]}. Channels the head does not have are ignored;
    parameters with no channel are zero. Expression names match case-insensitively.
    """
    values = np.asarray(values, dtype=np.float32)
    T = values.shape[0]
    column = {n.lower(): i for i, n in enumerate(names)}
    expression = np.zeros((T, len(expression_names)), np.float32)
    for e, name in enumerate(expression_names):
        if name.lower() in column:
            expression[:, e] = values[:, column[name.lower()]]
    pose = np.zeros((T, NUM_JOINTS * 3), np.float32)
    for k, name in enumerate(POSE_CHANNELS):
        if name in column:
            pose[:, k] = values[:, column[name]]
    translation = np.zeros((T, 3), np.float32)
    for k, name in enumerate(TRANSLATION_CHANNELS):
        if name in column:
            translation[:, k] = values[:, column[name]]
    return {"expression": expression, "pose": pose.reshape(T, NUM_JOINTS, 3), "translation": translation}


def known_channels(expression_names) -> tuple:
    """Every channel a head with these expression names can use: expressions, pose, translation."""
    return tuple(expression_names) + POSE_CHANNELS + TRANSLATION_CHANNELS
