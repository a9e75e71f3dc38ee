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

from ..head.model import HeadModel

_EYE = np.eye(3)


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

    shape [S], expression [G, E] and translation [G, 3] for G groups of B / G consecutive poses
    (G = B: one each; G = 1: the same for every pose; the fit's numeric Jacobian nudges a frame's
    rotations with its expression fixed, so its blend is made once a frame), pose [B, 5, 3] axis-angle.
    Returns points [B, K, 3] and each point's blended linear transform [B, K, 3, 3]
    (what the expression displacements go through: d point = M d rest).
    """
    B, K, G = pose.shape[0], rig.num_points, expression.shape[0]
    rows = _rows(rig)
    rest = rig.rest.reshape(-1) + rows["shape"] @ shape                        # [K * 3]
    joints = (rig.joints0.reshape(-1) + rows["joint_shape"] @ shape) + expression @ rows["joint_expression"]
    rot = rodrigues(pose.reshape(-1, 3)).reshape(B, -1, 3, 3)
    corrective = (rot[:, 1:] - _EYE).reshape(B, -1) @ rows["pose"]               # [B, K * 3]
    v = ((rest + expression @ rows["expression"])[:, None] + corrective.reshape(G, B // G, -1)).reshape(B, K, 3)
    joints = joints.reshape((G, 1) + rig.joints0.shape)
    joints = joints.reshape((B,) + rig.joints0.shape) if G == B else np.repeat(joints, B // G, axis=1).reshape(
        (B,) + rig.joints0.shape)
    transforms = _rigid(rot, joints, rig.parents)                                # [B, J, 12]
    # the blended transforms as planes [B, 3, 4, K] (one product of all B's 12 entries with the skinning
    # weights, and whole-plane arithmetic below), handed back as [B, K, ...] views
    planes = (np.swapaxes(transforms, 1, 2).reshape(B * 12, -1) @ rows["weights"]).reshape(B, 3, 4, K)
    along = np.swapaxes(v, 1, 2)                                                 # [B, 3, K]
    points = (planes[:, :, 3].reshape(G, B // G, 3, K) + translation[:, None, :, None]).reshape(B, 3, K)
    for c in range(3):                        # M v per point, as three products (a batched matmul of 3 x 3s is slow)
        points += planes[:, :, c] * along[:, None, c]
    return np.swapaxes(points, 1, 2), np.moveaxis(planes[:, :, :3], 3, 1)


def _rows(rig: PointRig) -> dict:
    """The rig's bases as contiguous [coefficients, K * 3] rows (and joints' [S or E, J * 3]), made once per rig."""
    cache = rig.__dict__.get("_rows")
    if cache is None or cache["of"] is not rig.shape_dirs:
        K, J = rig.num_points, rig.joints0.shape[0]
        cache = {"of": rig.shape_dirs, "shape": np.ascontiguousarray(rig.shape_dirs.reshape(K * 3, -1)),
                 "joint_shape": np.ascontiguousarray(rig.joint_shape.reshape(J * 3, -1)),
                 "expression": np.ascontiguousarray(rig.expression_dirs.reshape(K * 3, -1).T),
                 "joint_expression": np.ascontiguousarray(rig.joint_expression.reshape(J * 3, -1).T),
                 "pose": np.ascontiguousarray(rig.pose_dirs.reshape(K * 3, -1).T),
                 "weights": np.ascontiguousarray(rig.weights.T)}
        rig.__dict__["_rows"] = cache
    return cache


def rodrigues(vectors: np.ndarray) -> np.ndarray:
    """Rotation matrices [N, 3, 3] of axis-angle vectors [N, 3]; `lbs.batch_rodrigues`' formula and guard,
    written out per element (a few hundred numbers: numpy's call overhead is the cost)."""
    angle = np.sqrt(np.sum((vectors + 1e-8) ** 2, axis=1))
    a = vectors / angle[:, None]
    sin, cos1 = np.sin(angle), 1.0 - np.cos(angle)
    x, y, z = a[:, 0], a[:, 1], a[:, 2]
    out = np.empty((len(vectors), 3, 3))
    out[:, 0, 0], out[:, 1, 1], out[:, 2, 2] = (1.0 - cos1 * (y * y + z * z), 1.0 - cos1 * (x * x + z * z),
                                                1.0 - cos1 * (x * x + y * y))
    out[:, 0, 1], out[:, 1, 0] = cos1 * x * y - sin * z, cos1 * x * y + sin * z
    out[:, 0, 2], out[:, 2, 0] = cos1 * x * z + sin * y, cos1 * x * z - sin * y
    out[:, 1, 2], out[:, 2, 1] = cos1 * y * z - sin * x, cos1 * y * z + sin * x
    return out


def _rigid(rot: np.ndarray, joints: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """`lbs.batch_rigid_transform`'s relative transforms as their top 3 x 4 rows, flattened [B, J, 12]:
    rot [B, J, 3, 3] local rotations, joints [B, J, 3] rest joints."""
    B, J = joints.shape[:2]
    world_r, world_t = [rot[:, 0]], [joints[:, 0]]
    for j in range(1, J):
        up = parents[j]
        world_r.append(world_r[up] @ rot[:, j])
        world_t.append(world_t[up] + np.einsum("bik,bk->bi", world_r[up], joints[:, j] - joints[:, up]))
    out = np.empty((B, J, 3, 4))
    out[..., :3] = np.stack(world_r, axis=1)
    out[..., 3] = np.stack(world_t, axis=1) - np.einsum("bjik,bjk->bji", out[..., :3], joints)
    return out.reshape(B, J, 12)
