"""Retargeting by fit: known combinations of the built-in head's expressions are recovered exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.head import load_head
from engine.head.landmarks import landmarks
from engine.retarget import (MappingError, fit_mapping, head_landmark_deltas, head_landmarks, landmark_deltas,
                             landmark_directions, landmark_vertices, nearest_vertices, similarity_transform)


@pytest.fixture(scope="module")
def head():
    return load_head()


@pytest.fixture(scope="module")
def deltas(head):
    names, D, ids = head_landmark_deltas(head)
    return names, D


# Known answer: the rig's keys, each a scaled expression or a part of one, in the rig's own frame.
SCALES = {"eyeBlinkLeft": 0.5, "mouthSmileLeft": 2.0, "mouthSmileRight": 1.5, "jawOpen": 0.8, "browInnerUp": 3.0,
          "mouthClose": 1.0}
SPLIT = "mouthFunnel"  # made of two keys: its landmarks 48..59 (outer lip) and the others
RIG_ROTATION = Rotation.from_euler("xyz", [90, 10, -20], degrees=True).as_matrix()
RIG_SCALE, RIG_SHIFT = 100.0, np.array([1.0, 2.0, 3.0])  # centimetres, somewhere else


def rig(head, deltas):
    """(key names [K], key landmark deltas [K, 68, 3], neutral landmarks [68, 3]) in the rig's frame."""
    names, D = deltas
    keys, key_names = [], []
    for name, scale in SCALES.items():
        keys.append(scale * D[names.index(name)])
        key_names.append(f"Key{len(keys)}")
    outer = np.zeros((68, 1))
    outer[48:60] = 1.0
    keys += [outer * D[names.index(SPLIT)], (1 - outer) * D[names.index(SPLIT)]]
    key_names += ["FunnelOuter", "FunnelInner"]
    keys.append(np.zeros((68, 3)))  # a key that moves no landmark (a hair key, say)
    key_names.append("Hair")
    rest = landmarks(head, head.v_template).astype(np.float64)
    to_rig = RIG_SCALE * RIG_ROTATION
    return key_names, np.stack(keys) @ to_rig.T, rest @ to_rig.T + RIG_SHIFT


def test_exact_recovery_in_another_frame(head, deltas):
    key_names, keys, rest = rig(head, deltas)
    mapping = fit_mapping(head, keys, key_names, target_landmarks=rest)
    for k, (name, scale) in enumerate(SCALES.items()):
        (target, weight), = mapping.targets[name]
        assert target == key_names[k]
        assert weight == pytest.approx(1.0 / scale, rel=1e-5)
    split = dict(mapping.targets[SPLIT])
    assert split == pytest.approx({"FunnelOuter": 1.0, "FunnelInner": 1.0}, rel=1e-5)
    assert "Hair" not in mapping.target_names()
    assert "eyeBlinkRight" in mapping.unmapped and "cheekSquintLeft" in mapping.unmapped
    assert set(mapping.targets) | set(mapping.unmapped) == set(deltas[0])
    assert mapping.method == "fit"


def test_deltas_already_in_the_heads_frame(head, deltas):
    names, D = deltas
    mapping = fit_mapping(head, 2.0 * D[[names.index("mouthSmileLeft")]], ["Smile"])
    assert mapping.targets == {"mouthSmileLeft": [("Smile", pytest.approx(0.5, rel=1e-5))]}


def test_noise_degrades_gracefully(head, deltas):
    key_names, keys, rest = rig(head, deltas)
    rng = np.random.default_rng(7)
    size = np.abs(keys).max()
    errors = []
    for level in (1e-4, 1e-3):
        noisy = keys + rng.normal(0.0, level * size, keys.shape)
        mapping = fit_mapping(head, noisy, key_names, target_landmarks=rest + rng.normal(0.0, level * size, rest.shape))
        for k, (name, scale) in enumerate(SCALES.items()):
            weights = dict(mapping.targets.get(name, []))
            errors.append(abs(weights.get(key_names[k], 0.0) * scale - 1.0))
            assert all(w >= 0 for w in weights.values())
    small, large = errors[:len(SCALES)], errors[len(SCALES):]
    assert max(small) < 0.02
    assert max(large) < 0.2 and np.mean(large) > np.mean(small)
    clean = fit_mapping(head, keys, key_names, target_landmarks=rest)
    drowned = fit_mapping(head, keys + rng.normal(0.0, 0.03 * size, keys.shape), key_names, target_landmarks=rest)
    assert len(drowned.targets) < len(clean.targets)  # small expressions drop out rather than map to noise
    assert all(w >= 0 for pairs in drowned.targets.values() for _, w in pairs)


def test_a_poor_fit_stays_unmapped(head, deltas):
    names, D = deltas
    mapping = fit_mapping(head, D[[names.index("mouthSmileLeft")]], ["Smile"], max_residual=0.35)
    assert mapping.targets == {"mouthSmileLeft": [("Smile", pytest.approx(1.0, rel=1e-5))]}
    assert "mouthSmileRight" in mapping.unmapped and "mouthFrownLeft" in mapping.unmapped


def test_fifty_one_landmarks(head, deltas):
    names, D = deltas
    mapping = fit_mapping(head, D[[names.index("browInnerUp")], 17:], ["Brows"])
    assert mapping.targets["browInnerUp"] == [("Brows", pytest.approx(1.0, rel=1e-5))]


def test_landmark_deltas_of_a_mesh():
    rng = np.random.default_rng(1)
    neutral = rng.normal(size=(200, 3))
    shapes = neutral + rng.normal(size=(3, 200, 3))
    index = rng.choice(200, 68, replace=False)
    rest, deltas = landmark_deltas(neutral, shapes, index)
    np.testing.assert_array_equal(rest, neutral[index])
    np.testing.assert_allclose(deltas, shapes[:, index] - neutral[index])
    with pytest.raises(MappingError, match="names vertex 200, but the mesh has 200 vertices"):
        landmark_deltas(neutral, shapes, np.append(index[:-1], 200))
    with pytest.raises(MappingError, match="at least 10 whole vertex indices"):
        landmark_deltas(neutral, shapes, [1.5] * 68)


def test_nearest_vertices_find_the_landmarks_of_an_overlaid_head(head):
    verts = head.v_template.astype(np.float64)
    lmk = landmarks(head, head.v_template)
    index = nearest_vertices(lmk, verts)
    assert np.linalg.norm(verts[index] - lmk, axis=1).max() < 0.01


def test_landmark_vertices_tell_a_closed_mouths_lips_apart():
    vertices = [[0, 0, 0], [0, 0, 0], [0, 1, 0], [0, -1, 0], [5, 5, 5]]  # 0: upper lip, 1: lower lip, same place
    edges = [[0, 2], [1, 3]]
    index = landmark_vertices([[0, 0, 0], [0, 0, 0], [5, 5, 4.9]], [[0, 1, 0], [0, -1, 0], [1, 0, 0]], vertices, edges)
    assert list(index) == [0, 1, 4]


def test_landmarks_found_on_a_mesh_fit_its_jaw(head, deltas):
    names, D = deltas
    edges = np.concatenate([head.faces[:, [0, 1]], head.faces[:, [1, 2]], head.faces[:, [2, 0]]])
    index = landmark_vertices(head_landmarks(head), landmark_directions(head), head.v_template, edges)
    opened, _ = head.forward(pose=np.array([[0, 0, 0], [0, 0, 0], [0.5, 0, 0], [0, 0, 0], [0, 0, 0]], np.float32))
    rest, key = landmark_deltas(head.v_template, opened, index)
    mapping = fit_mapping(head, key, ["MouthOpen"], target_landmarks=rest)
    assert dict(mapping.targets["jawOpen"])["MouthOpen"] == pytest.approx(1.0, rel=0.05)


def test_similarity_transform_is_exact():
    rng = np.random.default_rng(3)
    src = rng.normal(size=(30, 3))
    rotation = Rotation.from_rotvec([0.3, -1.2, 2.0]).as_matrix()
    scale, R, t = similarity_transform(src, 2.5 * src @ rotation.T + [1, 2, 3])
    assert scale == pytest.approx(2.5) and np.allclose(R, rotation) and np.allclose(t, [1, 2, 3])
    with pytest.raises(MappingError, match="all lie on one point"):
        similarity_transform(np.zeros((20, 3)), src[:20])


@pytest.mark.parametrize("args, words", [
    (dict(target_deltas=np.zeros((2, 68, 3)), target_names=["a"]), "expected [1 keys, landmarks, 3]"),
    (dict(target_deltas=np.zeros((1, 40, 3)), target_names=["a"]), "need their iBUG-68 numbers"),
    (dict(target_deltas=np.zeros((1, 5, 3)), target_names=["a"], landmark_ids=[0, 1, 2, 3, 4]), "Only 5"),
    (dict(target_deltas=np.full((1, 68, 3), np.nan), target_names=["a"]), "NaN"),
])
def test_fit_input_errors(head, args, words):
    with pytest.raises(MappingError) as info:
        fit_mapping(head, **args)
    assert words in str(info.value)


def principal_component_rig(head, deltas, seed=5):
    """(key names [K], landmark deltas [K, 68, 3], neutral [68, 3]) of a rig whose keys, like FLAME's
    expression components, are signed mixtures of the head's expressions (as many), in the rig's frame."""
    names, D = deltas
    count = len(names)
    rng = np.random.default_rng(seed)
    mixing = np.linalg.qr(rng.normal(size=(count, count)))[0].T * np.linspace(2.0, 0.5, count)
    keys = np.einsum("ek,elc->klc", mixing, D)
    to_rig = RIG_SCALE * RIG_ROTATION
    rest = landmarks(head, head.v_template).astype(np.float64)
    return [f"Exp{k + 1}" for k in range(count)], keys @ to_rig.T, rest @ to_rig.T + RIG_SHIFT


def test_signed_fit_reproduces_expressions_from_principal_components(head, deltas):
    names, D = deltas
    key_names, keys, rest = principal_component_rig(head, deltas)
    mapping = fit_mapping(head, keys, key_names, target_landmarks=rest, signed=True)
    assert mapping.signed and mapping.method == "fit"
    assert any(w < 0 for pairs in mapping.targets.values() for _, w in pairs)
    to_head = (RIG_SCALE * RIG_ROTATION).T / RIG_SCALE ** 2  # rig frame -> head frame, inverse of to_rig
    for name in ("mouthSmileLeft", "browInnerUp", "eyeBlinkLeft", "mouthFunnel", "jawForward"):
        index = {k: i for i, k in enumerate(key_names)}
        made = sum(w * keys[index[k]] for k, w in mapping.targets[name]) @ to_head.T
        want = D[names.index(name)]
        assert np.linalg.norm(made - want) < 0.03 * np.linalg.norm(want)
    unsigned = fit_mapping(head, keys, key_names, target_landmarks=rest)
    assert len(unsigned.targets) < len(mapping.targets) // 2  # one-sided weights cannot use the components


def test_signed_fit_keeps_small_components_small(head, deltas):
    key_names, keys, rest = principal_component_rig(head, deltas)
    keys = np.concatenate([keys, 1e-4 * keys[:1]])  # a component that barely moves the landmarks
    mapping = fit_mapping(head, keys, key_names + ["Tiny"], target_landmarks=rest, signed=True)
    assert all(abs(w) < 20 for pairs in mapping.targets.values() for _, w in pairs)
