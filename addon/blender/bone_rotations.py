"""A clip's joint rotations in Blender's terms: rotation matrices per joint, the rest frame of a bone
against FLAME's axes, and axis-angle as continuous Euler angles or quaternions."""

from __future__ import annotations

import numpy as np
from mathutils import Quaternion

from .action_compat import OWNER_TAG
from .axes import FLAME_TO_BLENDER
from ..engine_link import engine

JOINTS = engine.head.model.JOINT_NAMES
EULER_ORDERS = ('XYZ', 'XZY', 'YXZ', 'YZX', 'ZXY', 'ZYX')


def joint_rotations(clip) -> dict:
    """Rotation matrices [T, 3, 3] of every joint the clip drives, keyed by joint name."""
    lowered = {n.lower(): i for i, n in enumerate(clip.names)}
    out = {}
    for joint in JOINTS:
        cols = [lowered.get(f"{joint}_r{axis}") for axis in "xyz"]
        if all(c is None for c in cols):
            continue
        aa = np.stack([clip.values[:, c] if c is not None else np.zeros(clip.num_frames) for c in cols], axis=1)
        out[joint] = (aa, engine.head.lbs.batch_rodrigues(aa))
    return out

def bone_to_flame(armature, bone: str, flame_rig: bool = False) -> np.ndarray:
    """G [3, 3], the rotation from the bone's rest frame to FLAME's axes: a FLAME rotation R is R_bone = G^T R G.

    On our own head the bones' axes are FLAME's (G = I, wherever the rig is
    placed). A FLAME head (`flame_rig`: the FLAME add-on's) stands Z up and
    facing -Y in its armature's own space, however the rig is turned:
    G = C^T B, with B the bone's rest rotation in armature space and C
    FLAME_TO_BLENDER. Any other rig is taken to stand so in the world, as
    Blender characters do: G = C^T W B, W the armature object's world rotation.
    """
    if armature.get(OWNER_TAG + "_head"):
        return np.eye(3)
    rest = np.array(armature.data.bones[bone].matrix_local.to_quaternion().to_matrix())
    world = np.eye(3) if flame_rig else np.array(armature.matrix_world.to_quaternion().to_matrix())
    return FLAME_TO_BLENDER.T @ world @ rest

def euler_angles(axis_angle: np.ndarray, order: str) -> np.ndarray:
    """Axis-angle [T, 3] -> Blender Euler angles [T, 3] (x, y, z) in `order`, continuous over time."""
    out = np.empty((len(axis_angle), 3))
    previous = None
    for t, aa in enumerate(np.asarray(axis_angle, dtype=np.float64)):
        angle = float(np.linalg.norm(aa))
        quat = Quaternion(aa / angle if angle > 1e-12 else (1.0, 0.0, 0.0), angle)
        euler = quat.to_euler(order, previous) if previous is not None else quat.to_euler(order)
        out[t], previous = tuple(euler), euler
    return out

def quaternions(axis_angle: np.ndarray) -> np.ndarray:
    """Axis-angle [T, 3] -> unit quaternions [T, 4] (w, x, y, z), sign-continuous over time."""
    angle = np.linalg.norm(axis_angle, axis=1, keepdims=True)
    safe = np.where(angle > 1e-12, angle, 1.0)
    q = np.concatenate([np.cos(angle / 2), np.sin(angle / 2) * axis_angle / safe], axis=1)
    for t in range(1, len(q)):
        if np.dot(q[t], q[t - 1]) < 0:
            q[t] = -q[t]
    return q
