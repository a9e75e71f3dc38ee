"""FLAME's forward pass restricted to a few hundred surface points, for fitting landmarks fast.

A `PointRig` holds, for K points given as barycentric coordinates on a head's
triangles, the interpolated template, shape, expression and pose-corrective
bases and skinning weights, plus the joint regressor applied to the bases.
`posed` is exactly `head.forward` followed by barycentric interpolation, for a
batch of parameter sets at once (the fit's numeric Jacobian is one call).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..head import lbs
from ..head.model import HeadModel


@dataclass
class PointRig:
    """FLAME arrays of K surface points.

    rest [K, 3], shape_dirs [K, 3, S], expression_dirs [K, 3, E],
    pose_dirs [K, 3, 36], weights [K, 5]; joints0 [5, 3] rest joints,
    joint_shape [5, 3, S] and joint_expression [5, 3, E] their linear change.
    """

    rest: np.ndarray
    shape_dirs: np.ndarray
    expression_dirs: np.ndarray
    pose_dirs: np.ndarray
    weights: np.ndarray
    joints0: np.ndarray
    joint_shape: np.ndarray
    joint_expression: np.ndarray
    parents: np.ndarray

    @property
    def num_points(self) -> int:
        return self.rest.shape[0]


def point_rig(head: HeadModel, faces: np.ndarray, bary: np.ndarray) -> PointRig:
    """The rig of points on triangles faces [K] with barycentrics bary [K, 3] of `head`."""
    corners = head.faces[np.asarray(faces, np.int64)]          # [K, 3]
    w = np.asarray(bary, np.float64)[:, :, None]

    def at_points(a):                                           # [V, ...] -> [K, ...]
        a = np.asarray(a, np.float64)
        return np.einsum("kc,kc...->k...", w[:, :, 0], a[corners])

    reg = head.j_regressor.astype(np.float64)
    return PointRig(at_points(head.v_template), at_points(head.shapedirs), at_points(head.exprdirs),
                    at_points(head.posedirs), at_points(head.weights), reg @ head.v_template,
                    np.einsum("jv,vcs->jcs", reg, head.shapedirs), np.einsum("jv,vcs->jcs", reg, head.exprdirs),
                    np.asarray(head.parents))


def posed(rig: PointRig, shape: np.ndarray, expression: np.ndarray, pose: np.ndarray, translation: np.ndarray):
    """Posed points for B parameter sets.

    shape [S], expression [B, E] (or [1, E]: the same for every pose), pose [B, 5, 3]
    axis-angle, translation [B, 3] (or [1, 3]).
    Returns points [B, K, 3] and each point's blended linear transform [B, K, 3, 3]
    (what the expression displacements go through: d point = M d rest).
    """
    B, K = pose.shape[0], rig.num_points
    rest = rig.rest + rig.shape_dirs @ shape                                   # [K, 3]
    offsets = expression @ rig.expression_dirs.reshape(K * 3, -1).T            # [B or 1, K * 3]
    joints = (rig.joints0 + rig.joint_shape @ shape)[None] + (
        expression @ rig.joint_expression.reshape(-1, expression.shape[1]).T).reshape(-1, *rig.joints0.shape)
    rot = lbs.batch_rodrigues(pose.reshape(-1, 3)).reshape(B, -1, 3, 3)
    offsets = offsets + lbs.pose_features(rot) @ rig.pose_dirs.reshape(K * 3, -1).T
    v = rest[None] + offsets.reshape(B, K, 3)
    _, transforms = lbs.batch_rigid_transform(rot, np.broadcast_to(joints, (B,) + joints.shape[1:]), rig.parents)
    J = transforms.shape[1]
    blended = (rig.weights @ transforms[:, :, :3, :].reshape(B, J, 12)).reshape(B, K, 3, 4)
    points = blended[..., 3] + translation[:, None, :]
    for c in range(3):                        # M v per point, as three products (a batched matmul of 3 x 3s is slow)
        points += blended[..., c] * v[..., c, None]
    return points, blended[..., :3]
