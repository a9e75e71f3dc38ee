"""Linear blend skinning against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from engine.head import HeadModel
from engine.head import lbs

HALF_PI = np.pi / 2
RX90 = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float64)  # (x, y, z) -> (x, -z, y)
RY90 = np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]], dtype=np.float64)  # (x, y, z) -> (z, y, -x)
RZ90 = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float64)  # (x, y, z) -> (-y, x, z)


# ---- Rodrigues ---------------------------------------------------------------

@pytest.mark.parametrize("axis, expected", [(0, RX90), (1, RY90), (2, RZ90)])
def test_rodrigues_quarter_turns(axis, expected):
    vec = np.zeros((1, 3))
    vec[0, axis] = HALF_PI
    np.testing.assert_allclose(lbs.batch_rodrigues(vec)[0], expected, atol=1e-7)


def test_rodrigues_zero_is_identity():
    np.testing.assert_array_equal(lbs.batch_rodrigues(np.zeros((2, 3))), np.stack([np.eye(3)] * 2))


def test_rodrigues_half_turn_and_batch():
    vecs = np.array([[0, 0, np.pi], [-HALF_PI, 0, 0]])
    mats = lbs.batch_rodrigues(vecs)
    np.testing.assert_allclose(mats[0], np.diag([-1.0, -1.0, 1.0]), atol=1e-7)
    np.testing.assert_allclose(mats[1], RX90.T, atol=1e-7)


# ---- kinematic chain ------------------------------------------------------------

def _apply(T: np.ndarray, p) -> np.ndarray:
    return T[:3, :3] @ np.asarray(p, dtype=np.float64) + T[:3, 3]


def test_two_joint_chain_by_hand():
    joints = np.array([[[0.0, 0, 0], [1.0, 0, 0]]])
    rots = np.stack([RZ90, RZ90])[None]
    posed, T = lbs.batch_rigid_transform(rots, joints, np.array([-1, 0]))
    np.testing.assert_allclose(posed[0], [[0, 0, 0], [0, 1, 0]], atol=1e-12)
    # (2, 0, 0) bound to joint 1: Rz((2,0,0) - (1,0,0)) + (1,0,0) = (1,1,0); then Rz about the root: (-1,1,0).
    np.testing.assert_allclose(_apply(T[0, 1], [2, 0, 0]), [-1, 1, 0], atol=1e-12)
    # The same point bound to the root only turns once: (0, 2, 0).
    np.testing.assert_allclose(_apply(T[0, 0], [2, 0, 0]), [0, 2, 0], atol=1e-12)


def test_chain_with_an_offset_root():
    joints = np.array([[[1.0, 0, 0], [1.0, 1, 0]]])
    rots = np.stack([RZ90, np.eye(3)])[None]
    posed, T = lbs.batch_rigid_transform(rots, joints, np.array([-1, 0]))
    # Joint 1: Rz((1,1,0) - (1,0,0)) + (1,0,0) = (-1,0,0) + (1,0,0) = (0,0,0).
    np.testing.assert_allclose(posed[0, 1], [0, 0, 0], atol=1e-12)
    # (1, 2, 0) on joint 1: Rz((0, 2, 0)) + (1, 0, 0) = (-2, 0, 0) + (1, 0, 0).
    np.testing.assert_allclose(_apply(T[0, 1], [1, 2, 0]), [-1, 0, 0], atol=1e-12)


def test_pose_features_layout():
    rots = np.stack([RY90, RX90, RZ90])[None]  # the root's rotation is not a feature
    features = lbs.pose_features(rots)
    expected = [0, 0, 0, 0, -1, -1, 0, 1, -1,     # (Rx - I), row-major
                -1, -1, 0, 1, -1, 0, 0, 0, 0]     # (Rz - I), row-major
    np.testing.assert_array_equal(features, [expected])


# ---- skinning ---------------------------------------------------------------------

def _random_transforms(rng, J: int) -> np.ndarray:
    T = np.zeros((1, J, 4, 4))
    T[0, :, :3, :3] = lbs.batch_rodrigues(rng.normal(size=(J, 3)))
    T[0, :, :3, 3] = rng.normal(size=(J, 3))
    T[0, :, 3, 3] = 1
    return T


def test_skin_with_one_hot_weights_is_rigid_motion():
    rng = np.random.default_rng(0)
    verts, T = rng.normal(size=(1, 50, 3)), _random_transforms(rng, 3)
    owner = rng.integers(0, 3, 50)
    out = lbs.skin(verts, np.eye(3)[owner], T)
    for v in range(50):
        np.testing.assert_allclose(out[0, v], _apply(T[0, owner[v]], verts[0, v]), atol=1e-12)


def test_skin_blends_two_rigid_motions():
    rng = np.random.default_rng(1)
    verts, T = rng.normal(size=(1, 1, 3)), _random_transforms(rng, 2)
    out = lbs.skin(verts, np.array([[0.25, 0.75]]), T)
    expected = 0.25 * _apply(T[0, 0], verts[0, 0]) + 0.75 * _apply(T[0, 1], verts[0, 0])
    np.testing.assert_allclose(out[0, 0], expected, atol=1e-12)


def test_blend_shapes_and_joint_regression():
    dirs = np.zeros((2, 3, 2))
    dirs[0, 1, 0], dirs[1, 2, 1] = 1.0, 2.0
    np.testing.assert_array_equal(lbs.blend_shapes(np.array([[3.0, 0.5]]), dirs)[0], [[0, 3, 0], [0, 0, 1]])
    verts = np.array([[[0.0, 0, 0], [2.0, 4, 6]]])
    np.testing.assert_array_equal(lbs.vertices2joints(np.array([[0.5, 0.5]]), verts)[0], [[1, 2, 3]])


# ---- HeadModel.forward on a hand-made head ------------------------------------------

def tiny_head() -> HeadModel:
    """Six vertices: one at each joint (the regressor picks them) and a jaw vertex (index 5)."""
    v = np.array([[0, 0, 0], [0, 1, 0], [0, 1, 0.5], [0.3, 1.2, 0.4], [-0.3, 1.2, 0.4], [0, 1, 1]], float)
    shapedirs = np.zeros((6, 3, 1))
    shapedirs[:, 1, 0] = 0.1                    # shape 0 lifts every vertex by 0.1 in y
    exprdirs = np.zeros((6, 3, 2))
    exprdirs[5, 1, 0] = -0.1                    # expression 0 lowers the jaw vertex
    posedirs = np.zeros((6, 3, 36))
    posedirs[5, 1, 9 + 4] = 0.01                # jaw's (R - I)[1, 1] moves the jaw vertex in y
    return HeadModel(name="tiny", v_template=v, faces=np.array([[0, 1, 2], [2, 5, 1]]),
                     shapedirs=shapedirs, shape_names=["lift"], exprdirs=exprdirs,
                     expression_names=["jawDown", "other"], posedirs=posedirs,
                     j_regressor=np.eye(5, 6), weights=np.eye(5)[[0, 1, 2, 3, 4, 2]])


def test_forward_by_hand():
    pose = np.zeros((5, 3))
    pose[0] = [0, HALF_PI, 0]                   # global: Ry 90
    pose[2] = [HALF_PI, 0, 0]                   # jaw: Rx 90
    verts, joints = tiny_head().forward(expression=[[1.0, 0.0]], pose=pose[None], shape=[1.0],
                                        translation=[[1.0, 0, 0]])
    # Shaped: every vertex +0.1 y; the jaw vertex -0.1 y: (0, 1.0, 1). Joints: J0 (0, .1, 0), J2 (0, 1.1, .5).
    # Corrective: (Rx - I)[1, 1] = -1, so y -= 0.01: (0, 0.99, 1).
    # Jaw: Rx((0, -0.11, 0.5)) + J2 = (0, -0.5, -0.11) + (0, 1.1, 0.5) = (0, 0.6, 0.39).
    # Global: Ry((0, 0.5, 0.39)) + J0 = (0.39, 0.6, 0); translation: (1.39, 0.6, 0).
    np.testing.assert_allclose(verts[0, 5], [1.39, 0.6, 0], atol=1e-6)
    # Left eye vertex (identity locally): Ry((0.3, 1.2, 0.4)) + J0 + t = (1.4, 1.3, -0.3).
    np.testing.assert_allclose(verts[0, 3], [1.4, 1.3, -0.3], atol=1e-6)
    np.testing.assert_allclose(verts[0, 0], [1, 0.1, 0], atol=1e-6)
    # Jaw joint: Ry((0, 1.0, 0.5)) + J0 + t = (1.5, 1.1, 0).
    np.testing.assert_allclose(joints[0, 2], [1.5, 1.1, 0], atol=1e-6)
    assert verts.dtype == np.float32 and verts.shape == (1, 6, 3) and joints.shape == (1, 5, 3)


def test_rest_pose_is_the_template():
    head = tiny_head()
    verts, joints = head.forward()
    np.testing.assert_allclose(verts[0], head.v_template, atol=1e-7)
    np.testing.assert_allclose(joints[0], head.rest_joints(), atol=1e-7)


def test_batch_of_1000_equals_frame_by_frame():
    head, rng = tiny_head(), np.random.default_rng(7)
    expr, pose = rng.normal(size=(1000, 2)), rng.normal(scale=0.5, size=(1000, 5, 3))
    shape, trans = rng.normal(size=1), rng.normal(size=(1000, 3))
    verts, joints = head.forward(expression=expr, pose=pose, shape=shape, translation=trans)
    assert verts.shape == (1000, 6, 3)
    for t in range(1000):
        v, j = head.forward(expression=expr[t], pose=pose[t], shape=shape, translation=trans[t:t + 1])
        np.testing.assert_allclose(verts[t], v[0], atol=1e-6)
        np.testing.assert_allclose(joints[t], j[0], atol=1e-6)
