"""`landmarks()` and the built-in head's iBUG-68 embedding."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import HeadModelError
from engine.head.builtin import build_builtin_head
from engine.head.landmarks import landmarks
from engine.head.model import HeadModel, LandmarkEmbedding


@pytest.fixture(scope="module")
def head():
    return build_builtin_head()


@pytest.fixture(scope="module")
def rest(head):
    return landmarks(head, head.v_template[None])[0]


def _tiny_head(embedding):
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    return HeadModel(name="tiny", v_template=v, faces=np.array([[0, 1, 2], [0, 1, 3]]),
                     shapedirs=np.zeros((4, 3, 1)), shape_names=["s"], exprdirs=np.zeros((4, 3, 1)),
                     expression_names=["e"], posedirs=np.zeros((4, 3, 36)),
                     j_regressor=np.full((5, 4), 0.25), weights=np.tile([0, 1.0, 0, 0, 0], (4, 1)),
                     landmark_embedding=embedding)


def test_barycentric_points_on_a_tiny_head():
    emb = LandmarkEmbedding(np.array([0, 1]), np.array([[0.2, 0.3, 0.5], [0.0, 0.0, 1.0]]), np.array([30, 8]))
    head = _tiny_head(emb)
    verts = np.stack([head.v_template, 2.0 * head.v_template])
    points = landmarks(head, verts)
    assert points.shape == (2, 2, 3)
    np.testing.assert_allclose(points[0], [[0.3, 0.5, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(points[1], 2.0 * points[0])
    np.testing.assert_allclose(landmarks(head, head.v_template), points[0])


def test_a_head_without_embedding_is_refused():
    with pytest.raises(HeadModelError, match="no landmark embedding"):
        landmarks(_tiny_head(None), np.zeros((1, 4, 3)))


def test_wrong_vertex_count_is_refused(head):
    with pytest.raises(HeadModelError, match="expected"):
        landmarks(head, np.zeros((1, 10, 3)))


def test_builtin_embedding_is_ibug68(head, rest):
    emb = head.landmark_embedding
    np.testing.assert_array_equal(emb.ids, np.arange(68))
    np.testing.assert_allclose(emb.bary.sum(axis=1), 1.0)
    assert emb.bary.min() >= -1e-9
    assert rest.shape == (68, 3)


def test_sides_follow_the_ibug_convention(rest):
    """36 and 48 are the subject's right (-x); 45 and 54 the left (+x); the jaw runs right to left."""
    assert rest[36, 0] < rest[39, 0] < 0 < rest[42, 0] < rest[45, 0]
    assert rest[48, 0] < 0 < rest[54, 0]
    assert np.all(np.diff(rest[0:17, 0]) > 0)
    assert rest[17, 0] < rest[21, 0] < 0 < rest[22, 0] < rest[26, 0]


def test_points_are_where_a_face_has_them(head, rest):
    face = head.v_template[head.regions["face"]]
    assert abs(rest[30, 2] - face[:, 2].max()) < 0.003          # nose tip is the most forward point
    assert np.argmin(rest[:, 1]) == 8                             # chin is the lowest point
    assert rest[8, 1] < rest[57, 1] < rest[51, 1] < rest[33, 1] < rest[30, 1] < rest[27, 1]
    brows, eyes = rest[17:27, 1].mean(), rest[36:48, 1].mean()
    assert eyes < brows < eyes + 0.04
    np.testing.assert_allclose(rest[:, 0], -rest[_mirror_ids(), 0], atol=1e-6)


def _mirror_ids():
    """iBUG point -> its mirror image."""
    pairs = [(0, 16), (1, 15), (2, 14), (3, 13), (4, 12), (5, 11), (6, 10), (7, 9), (17, 26), (18, 25),
             (19, 24), (20, 23), (21, 22), (31, 35), (32, 34), (36, 45), (37, 44), (38, 43), (39, 42),
             (40, 47), (41, 46), (48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63),
             (65, 67)]
    ids = np.arange(68)
    for a, b in pairs:
        ids[a], ids[b] = b, a
    return ids
