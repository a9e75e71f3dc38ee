"""The built-in head: topology, rig, expression basis and symmetry, by known answers."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest
from scipy.spatial import cKDTree

from engine.head.builtin import build_builtin_head, mirror_vertices
from engine.head.builtin.expressions import EXPRESSION_NAMES
from engine.head.landmarks import landmarks
from engine.head.model import JOINT_NAMES

ARKIT = ("eyeBlinkLeft", "eyeBlinkRight", "jawForward", "mouthClose", "mouthFunnel", "mouthPucker",
         "mouthSmileLeft", "mouthSmileRight", "browInnerUp", "cheekPuff", "noseSneerLeft")
JAW, EYE_LEFT, EYE_RIGHT = 2, 3, 4


@pytest.fixture(scope="module")
def head():
    return build_builtin_head()


def _pose(head, jaw=0.0, eye_left=(0.0, 0.0, 0.0), **expressions):
    e = np.zeros(len(head.expression_names))
    for name, value in expressions.items():
        e[head.expression_index(name)] = value
    pose = np.zeros((5, 3))
    pose[JAW, 0] = jaw
    pose[EYE_LEFT] = eye_left
    verts, _ = head.forward(e, pose)
    return verts[0].astype(np.float64)


def _directed_edges(faces):
    return np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])


def test_sizes_names_and_build_time(head):
    start = time.perf_counter()
    build_builtin_head()
    assert time.perf_counter() - start < 1.0
    assert 3000 <= head.num_vertices <= 6000
    assert head.name == "builtin" and head.source == "built-in head v1"
    assert len(set(head.expression_names)) >= 30
    assert set(ARKIT) <= set(head.expression_names)
    assert list(head.expression_names) == list(EXPRESSION_NAMES)
    assert 8 <= len(head.shape_names) <= 12
    assert tuple(head.joint_names) == JOINT_NAMES


def test_realistic_size(head):
    v = head.v_template
    width = v[:, 0].max() - v[:, 0].min()
    skull = v[:, 1] > -0.1
    assert 0.13 < width < 0.18
    assert 0.2 < v[skull, 1].max() - head.v_template[:, 1][v[:, 2] > 0.06].min() < 0.26


def test_build_is_deterministic_and_copies(head):
    other = build_builtin_head()
    other.v_template[:] = 0.0
    again = build_builtin_head()
    np.testing.assert_array_equal(again.v_template, head.v_template)
    np.testing.assert_array_equal(again.exprdirs, head.exprdirs)


def test_mesh_is_consistently_oriented_with_three_boundary_loops(head):
    edges = _directed_edges(head.faces)
    counts = Counter(map(tuple, edges.tolist()))
    assert max(counts.values()) == 1  # every directed edge once: manifold, consistent winding
    boundary = [e for e in counts if (e[1], e[0]) not in counts]
    successor = dict(boundary)
    loops, seen = [], set()
    for start in successor:
        if start not in seen:
            length, v = 0, start
            while v not in seen:
                seen.add(v)
                v, length = successor[v], length + 1
            loops.append(length)
    assert len(loops) == 3  # the neck and the two eye openings; the mouth leads into the cavity
    assert len(np.unique(head.faces)) == head.num_vertices


def test_winding_points_outward(head):
    v, f = head.v_template, head.faces
    normals = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    centres = v[f].mean(axis=1)
    crown = centres[:, 1] > 0.1
    assert np.all(normals[crown, 1] > 0)
    for region in ("eyeball_left", "eyeball_right"):
        ball = np.all(np.isin(f, head.regions[region]), axis=1)
        centre = v[head.regions[region]].mean(axis=0)
        assert np.all(np.einsum("fc,fc->f", normals[ball], centres[ball] - centre) > 0)


def test_weights_are_normalised_and_eyeballs_rigid(head):
    w = head.weights
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-9)
    assert w.min() >= 0.0
    for region, joint in (("eyeball_left", EYE_LEFT), ("eyeball_right", EYE_RIGHT)):
        np.testing.assert_allclose(w[head.regions[region], joint], 1.0)
    np.testing.assert_allclose(head.j_regressor.sum(axis=1), 1.0)
    assert head.j_regressor.min() >= 0.0


def test_eye_joints_sit_at_the_eyeball_centres(head):
    joints = head.rest_joints()
    for region, joint in (("eyeball_left", EYE_LEFT), ("eyeball_right", EYE_RIGHT)):
        ball = head.v_template[head.regions[region]]
        radii = np.linalg.norm(ball - joints[joint], axis=1)
        # float32 storage (as FLAME): coordinates near 0.07 m resolve ~7.5e-9 m
        np.testing.assert_allclose(radii, radii.mean(), atol=1e-7)
    assert joints[EYE_LEFT, 0] > 0 > joints[EYE_RIGHT, 0]


def test_jaw_opens_the_mouth_and_leaves_the_upper_lip(head):
    rest, opened = _pose(head), _pose(head, jaw=0.3)
    lm0, lm1 = landmarks(head, rest[None])[0], landmarks(head, opened[None])[0]
    assert lm1[8, 1] < lm0[8, 1] - 0.015
    assert np.linalg.norm(lm1[62] - lm1[66]) > np.linalg.norm(lm0[62] - lm0[66]) + 0.015
    upper = head.regions["lips"][head.weights[head.regions["lips"], JAW] == 0]
    assert upper.size > 10
    np.testing.assert_allclose(opened[upper], rest[upper], atol=1e-6)


def test_mouth_slit_coincides_at_rest(head):
    lm = landmarks(head, head.v_template[None])[0]
    for upper, lower in ((61, 67), (62, 66), (63, 65)):
        np.testing.assert_allclose(lm[upper], lm[lower], atol=1e-9)
    v = head.v_template
    tree = cKDTree(v)
    pairs = tree.query_pairs(1e-9, output_type="ndarray")
    lips = set(head.regions["lips"].tolist())
    assert len(pairs) >= 10 and all(a in lips and b in lips for a, b in pairs)


def test_mouth_close_closes_an_opened_jaw(head):
    lm = landmarks(head, _pose(head, jaw=0.25, mouthClose=1.0)[None])[0]
    assert np.linalg.norm(lm[62] - lm[66]) < 0.003


def test_blink_left_closes_only_the_left_eye(head):
    rest = landmarks(head, _pose(head)[None])[0]
    blink = landmarks(head, _pose(head, eyeBlinkLeft=1.0)[None])[0]
    for upper, lower in ((43, 47), (44, 46)):
        assert np.linalg.norm(rest[upper] - rest[lower]) > 0.006
        assert np.linalg.norm(blink[upper] - blink[lower]) < 1e-6
    np.testing.assert_allclose(blink[36:42], rest[36:42], atol=1e-9)


def test_rotating_the_left_eye_moves_only_the_left_eyeball(head):
    rest, turned = _pose(head), _pose(head, eye_left=(0.0, 0.3, 0.0))
    moved = np.nonzero(np.linalg.norm(turned - rest, axis=1) > 1e-7)[0]
    np.testing.assert_array_equal(np.sort(moved), np.sort(head.regions["eyeball_left"]))


def test_template_is_mirror_symmetric(head):
    v = head.v_template
    mirrored = v * np.array([-1.0, 1.0, 1.0])
    distance, _ = cKDTree(v).query(mirrored)
    assert distance.max() < 1e-6
    m = mirror_vertices()
    np.testing.assert_array_equal(m[m], np.arange(v.shape[0]))
    np.testing.assert_allclose(v[m], mirrored, atol=1e-9)


def test_left_and_right_components_mirror_each_other(head):
    m = mirror_vertices()
    flip = np.array([-1.0, 1.0, 1.0])
    names = head.expression_names
    for name in names:
        if name.endswith("Left"):
            left = head.exprdirs[:, :, names.index(name)]
            right = head.exprdirs[:, :, names.index(name[:-4] + "Right")]
            np.testing.assert_allclose(right, left[m] * flip, atol=1e-9, err_msg=name)
            assert np.abs(left[head.v_template[:, 0] < -0.01]).max() < 1e-3 or name == "mouthLeft"


def test_every_component_is_visible_and_local(head):
    for i, name in enumerate(head.expression_names):
        size = np.linalg.norm(head.exprdirs[:, :, i], axis=1)
        assert 0.002 < size.max() < 0.03, name
        assert np.all(size[head.v_template[:, 2] < -0.05] < 1e-9), name
    for i, name in enumerate(head.shape_names):
        assert np.abs(head.shapedirs[:, :, i]).max() > 0.001, name


def test_jaw_corrective_slides_the_chin_forward(head):
    assert np.abs(head.posedirs[:, 2, 16]).max() > 0.005
    assert np.all(head.posedirs[:, 2, 16] >= 0)


def test_joint_limits_are_sensible(head):
    assert set(head.joint_limits) == set(JOINT_NAMES)
    low, high = head.joint_limits["jaw"]
    assert low[0] == 0.0 and 0.3 <= high[0] <= 0.6
    for name, (low, high) in head.joint_limits.items():
        assert np.all(np.asarray(low) <= 0) and np.all(np.asarray(high) >= 0), name


def test_colours_and_regions(head):
    c, r = head.vertex_colors, head.regions
    assert c.shape == (head.num_vertices, 3) and c.min() >= 0 and c.max() <= 1
    for name in ("lips", "mouth", "brows", "eyes", "eyeball_left", "eyeball_right", "cavity", "face"):
        assert r[name].size > 0, name
    assert np.all(c[r["cavity"], 0] > c[r["cavity"], 1])           # reddish
    assert c[r["lips"], 1].mean() < c[r["face"], 1].mean()         # redder than the skin
    assert c[r["eyeball_left"]].max() > 0.9 and c[r["eyeball_left"]].min() < 0.1
    assert set(r["lips"]) <= set(r["mouth"]) and set(r["cavity"]) <= set(r["mouth"])


def test_expressions_never_move_the_joints():
    """Blender bones sit at rest: the add-on equals the engine only if expressions leave the joints alone."""
    head = build_builtin_head()
    support = np.nonzero(np.abs(head.j_regressor).sum(axis=0) > 0)[0]
    assert np.abs(head.exprdirs[support]).max() == 0.0
    rest = head.rest_joints()
    for e in range(len(head.expression_names)):
        shaped = head.j_regressor @ (head.v_template + head.exprdirs[:, :, e])
        np.testing.assert_allclose(shaped, rest, atol=1e-9)
