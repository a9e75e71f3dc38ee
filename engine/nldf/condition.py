"""What a look's network is conditioned on: the head's expression, jaw, eyes and neck, as one vector per frame.

Everything above the neck is rigid in the head's canonical frame (the rays
carry the head's pose, `engine.render.rays.head_transform`), so a frame's
light field depends only on what deforms the head there: the expression
coefficients, the jaw and both eyes, and the neck rotation (the bottom of the
neck is skinned partly to the global joint, so it swings inside the box when
the neck turns). The global rotation and the translation are not inputs.
"""

from __future__ import annotations

import numpy as np

from ..head.model import JOINT_NAMES, HeadModel
from ..motion.channels import pose_channel

CONDITION_JOINTS = ("jaw", "eye_left", "eye_right", "neck")
AXES = ("x", "y", "z")


def condition_names(head: HeadModel) -> tuple:
    """The condition channels [C] of `head`: its expression names, then jaw, eye and neck rotation axes."""
    poses = tuple(pose_channel(joint, axis) for joint in CONDITION_JOINTS for axis in AXES)
    return tuple(head.expression_names) + poses


def condition_vectors(params: dict, head: HeadModel) -> np.ndarray:
    """Condition vectors [T, C] float32 of head parameters {"expression": [T, E], "pose": [T, 5, 3]}.

    The layout follows `condition_names(head)`; a single frame ([E], [5, 3])
    gives [1, C].
    """
    expression = np.asarray(params["expression"], np.float32)
    pose = np.asarray(params["pose"], np.float32)
    if pose.ndim == 2:
        expression, pose = expression[None], pose[None]
    joints = [pose[:, JOINT_NAMES.index(joint)] for joint in CONDITION_JOINTS]
    return np.concatenate([expression] + joints, axis=1).astype(np.float32)
