"""Linear blend skinning exactly as FLAME (and SMPL-X's `lbs.py`) define it, in numpy.

Shapes use B for the batch (frames), V vertices, J joints (5 for FLAME),
S shape/expression components, P = 9 * (J - 1) pose-corrective features.
All functions are pure and vectorised over the batch.
"""

from __future__ import annotations

import numpy as np


def blend_shapes(coeffs: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Displacements of a linear basis.

    coeffs [B, S], dirs [V, 3, S] -> [B, V, 3].
    """
    return np.einsum("bs,vcs->bvc", coeffs, dirs, optimize=True)


def vertices2joints(regressor: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Joint locations regressed from vertices.

    regressor [J, V], vertices [B, V, 3] -> [B, J, 3].
    """
    return np.einsum("jv,bvc->bjc", regressor, vertices, optimize=True)


def batch_rodrigues(rot_vecs: np.ndarray) -> np.ndarray:
    """Rotation matrices from axis-angle vectors (Rodrigues' formula).

    rot_vecs [N, 3] -> [N, 3, 3]. A zero vector gives the identity
    (as in SMPL-X, the axis of a near-zero vector is taken with a 1e-8 guard).
    """
    rot_vecs = np.asarray(rot_vecs, dtype=np.float64)
    angle = np.linalg.norm(rot_vecs + 1e-8, axis=1, keepdims=True)  # [N, 1]
    axis = rot_vecs / angle
    cos, sin = np.cos(angle)[:, :, None], np.sin(angle)[:, :, None]
    rx, ry, rz = axis[:, 0], axis[:, 1], axis[:, 2]
    zeros = np.zeros_like(rx)
    K = np.stack([zeros, -rz, ry, rz, zeros, -rx, -ry, rx, zeros], axis=1).reshape(-1, 3, 3)
    eye = np.eye(3)[None]
    return eye + sin * K + (1.0 - cos) * (K @ K)


def batch_rigid_transform(rot_mats: np.ndarray, joints: np.ndarray, parents: np.ndarray):
    """Pose a kinematic tree.

    rot_mats [B, J, 3, 3] (local rotations), joints [B, J, 3] (rest locations),
    parents [J] (parents[0] == -1).
    Returns posed joints [B, J, 3] and the relative transforms [B, J, 4, 4]
    that map a rest-pose vertex bound to joint j to its posed location.
    """
    B, J = joints.shape[:2]
    rel = joints.copy()
    rel[:, 1:] -= joints[:, parents[1:]]
    local = np.zeros((B, J, 4, 4))
    local[:, :, :3, :3] = rot_mats
    local[:, :, :3, 3] = rel
    local[:, :, 3, 3] = 1.0
    chain = [local[:, 0]]
    for j in range(1, J):
        chain.append(chain[parents[j]] @ local[:, j])
    world = np.stack(chain, axis=1)
    posed_joints = world[:, :, :3, 3].copy()
    rel_transforms = world.copy()
    rel_transforms[:, :, :3, 3] -= np.einsum("bjik,bjk->bji", world[:, :, :3, :3], joints)
    return posed_joints, rel_transforms


def pose_features(rot_mats: np.ndarray) -> np.ndarray:
    """FLAME's pose-corrective features: (R - I) of every non-root joint.

    rot_mats [B, J, 3, 3] -> [B, 9 * (J - 1)].
    """
    B = rot_mats.shape[0]
    return (rot_mats[:, 1:] - np.eye(3)).reshape(B, -1)


SKIN_CHUNK = 64  # frames blended at once: bounds the [chunk, V, 12] transform buffer


def skin(vertices: np.ndarray, weights: np.ndarray, transforms: np.ndarray) -> np.ndarray:
    """Blend per-joint rigid transforms over vertices (FLAME's T = W A, then T v).

    vertices [B, V, 3], weights [V, J], transforms [B, J, 4, 4] -> [B, V, 3].
    Works in chunks of SKIN_CHUNK frames, so memory stays O(B * V) instead of
    the O(B * V * 16) of materialising every vertex's matrix for all frames.
    """
    B, J = transforms.shape[:2]
    dtype = vertices.dtype
    rows = transforms[:, :, :3, :].reshape(B, J, 12).astype(dtype)
    w = weights.astype(dtype)
    out = np.empty(vertices.shape, dtype=dtype)
    for start in range(0, B, SKIN_CHUNK):
        stop = min(B, start + SKIN_CHUNK)
        blended = np.matmul(w[None], rows[start:stop])  # [b, V, 12]: each vertex's 3x4 matrix
        v = vertices[start:stop]
        for i in range(3):
            m = blended[..., 4 * i:4 * i + 4]
            out[start:stop, :, i] = (m[..., 0] * v[..., 0] + m[..., 1] * v[..., 1]
                                     + m[..., 2] * v[..., 2] + m[..., 3])
    return out


def lbs(coeffs, pose, v_template, dirs, posedirs, regressor, parents, weights):
    """FLAME's forward pass: coefficients and joint rotations to posed vertices.

    coeffs [B, S] (shape and expression together), pose [B, J * 3] axis-angle,
    v_template [V, 3], dirs [V, 3, S], posedirs [V, 3, P], regressor [J, V],
    parents [J], weights [V, J].
    Returns vertices [B, V, 3] and posed joints [B, J, 3].
    """
    B, J = pose.shape[0], parents.shape[0]
    # 1. Add shape and expression displacements to the template.
    dtype = v_template.dtype
    v_shaped = v_template[None] + blend_shapes(np.asarray(coeffs, dtype), dirs)
    # 2. Regress the rest-pose joints from the shaped mesh.
    joints = vertices2joints(regressor, v_shaped)
    # 3. Rotation matrices of every joint.
    rot_mats = batch_rodrigues(pose.reshape(-1, 3)).reshape(B, J, 3, 3)
    # 4. Pose correctives from (R - I) of the non-root joints.
    features = pose_features(rot_mats).astype(dtype)
    v_posed = v_shaped + np.einsum("bp,vcp->bvc", features, posedirs, optimize=True)
    # 5. Pose the kinematic tree and skin.
    posed_joints, transforms = batch_rigid_transform(rot_mats, joints, parents)
    return skin(v_posed, weights, transforms), posed_joints
