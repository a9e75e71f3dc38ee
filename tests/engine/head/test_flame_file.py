"""Reading FLAME model files without chumpy: structure, known-answer skinning, bad files."""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
import pytest

import flame_fixture
from engine.errors import HeadModelError
from engine.head.flame_file import FLAME_KEYS, load_flame_pickle
from engine.head.safe_pickle import resolve_global


@pytest.fixture
def no_chumpy(monkeypatch):
    """Make `import chumpy` fail, as on a user's machine."""
    for name in ("chumpy", "chumpy.ch", "chumpy.reordering", "chumpy.ch_ops"):
        monkeypatch.setitem(sys.modules, name, None)


@pytest.fixture(scope="module")
def head2020(flame2020_path):
    return load_flame_pickle(flame2020_path)


def test_loads_without_chumpy(no_chumpy, flame2020_path):
    with pytest.raises(ImportError):
        import chumpy  # noqa: F401
    head = load_flame_pickle(flame2020_path)
    assert head.num_vertices == flame_fixture.V


def test_shapes_and_names(head2020, flame2020_path):
    assert head2020.v_template.shape == (5023, 3)
    assert head2020.faces.shape == (9976, 3)
    assert head2020.shapedirs.shape == (5023, 3, 300)
    assert head2020.exprdirs.shape == (5023, 3, 100)
    assert head2020.posedirs.shape == (5023, 3, 36)
    assert head2020.j_regressor.shape == (5, 5023)
    assert head2020.weights.shape == (5023, 5)
    assert list(head2020.parents) == [-1, 0, 1, 1, 1]
    assert head2020.expression_names == [f"exp{i:03d}" for i in range(100)]
    assert head2020.shape_names[0] == "shape000" and head2020.shape_names[-1] == "shape299"
    assert head2020.name == "generic_model"
    assert head2020.source == str(flame2020_path)


def test_values_match_the_arrays_pickled(head2020, flame_arrays):
    a = flame_fixture.dense(flame_arrays)
    np.testing.assert_allclose(head2020.v_template, a["v_template"], rtol=1e-6)
    np.testing.assert_allclose(head2020.shapedirs, a["shapedirs"][:, :, :300], rtol=1e-6)
    np.testing.assert_allclose(head2020.exprdirs, a["shapedirs"][:, :, 300:], rtol=1e-6)
    np.testing.assert_allclose(head2020.j_regressor, a["J_regressor"], rtol=1e-6)
    np.testing.assert_array_equal(head2020.faces, a["f"])


def test_zero_pose_is_template_plus_blend_shapes(head2020, flame_arrays):
    rng = np.random.default_rng(1)
    beta, psi = rng.normal(size=300), rng.normal(size=100)
    verts, _ = head2020.forward(expression=psi[None], shape=beta)
    sd = flame_arrays["shapedirs"]
    expected = flame_arrays["v_template"] + sd[:, :, :300] @ beta + sd[:, :, 300:] @ psi
    np.testing.assert_allclose(verts[0], expected, atol=2e-6)


def _rot_x(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def test_jaw_rotation_moves_jaw_vertices_about_the_regressed_jaw_joint(head2020, flame_arrays):
    a = flame_fixture.dense(flame_arrays)
    pose = np.zeros((5, 3))
    pose[2, 0] = 0.4
    verts, joints = head2020.forward(pose=pose[None])
    R, T = _rot_x(0.4), a["v_template"]
    jaw = a["J_regressor"][2] @ T
    v_posed = T + a["posedirs"][:, :, 9:18] @ (R - np.eye(3)).ravel()  # jaw's (R - I) features
    w_jaw = a["weights"][:, 2:3]
    expected = (1 - w_jaw) * v_posed + w_jaw * ((v_posed - jaw) @ R.T + jaw)
    np.testing.assert_allclose(verts[0], expected, atol=2e-6)
    np.testing.assert_allclose(joints[0, 2], jaw, atol=1e-6)
    still = w_jaw[:, 0] == 0
    np.testing.assert_allclose(verts[0][still], v_posed[still], atol=2e-6)
    assert np.abs(verts[0][~still] - v_posed[~still]).max() > 1e-3


def test_flame2023_style_file(no_chumpy, flame2023_path, head2020):
    head = load_flame_pickle(flame2023_path)
    assert head.name == "flame2023_Open"
    assert head.exprdirs.shape == (5023, 3, 100)
    for field in ("v_template", "shapedirs", "exprdirs", "posedirs", "j_regressor", "weights", "faces"):
        np.testing.assert_array_equal(getattr(head, field), getattr(head2020, field))


def test_protocol0_pickle_with_copy_reg_reconstructor(tmp_path, small_arrays):
    with flame_fixture.fake_chumpy() as Ch:
        data = flame_fixture.dense(small_arrays)
        data["shapedirs"] = Ch(data["shapedirs"])
        raw = pickle.dumps(data, protocol=0)
    path = tmp_path / "proto0.pkl"
    path.write_bytes(raw)
    head = load_flame_pickle(path)
    np.testing.assert_allclose(head.exprdirs, small_arrays["shapedirs"][:, :, 300:], rtol=1e-6)


# ---- bad files: each gives one sentence -----------------------------------

def _write_pickle(path, obj):
    flame_fixture.dump_py2(obj, path)
    return path


def _message(path) -> str:
    with pytest.raises(HeadModelError) as info:
        load_flame_pickle(path)
    text = str(info.value)
    assert text.count(". ") == 0 and "\n" not in text, text
    return text


def test_missing_file(tmp_path):
    assert "does not exist" in _message(tmp_path / "nope.pkl")


def test_missing_keys_are_named(tmp_path, small_arrays):
    data = {k: v for k, v in flame_fixture.dense(small_arrays).items() if k not in ("weights", "f")}
    text = _message(_write_pickle(tmp_path / "m.pkl", data))
    assert "lacks f, weights" in text


@pytest.mark.parametrize("key, bad, expected", [
    ("posedirs", np.zeros((12, 3, 30)), "(12, 3, 36)"),
    ("weights", np.zeros((12, 4)), "(12, 5)"),
    ("J_regressor", np.zeros((5, 11)), "(5, 12)"),
    ("shapedirs", np.zeros((12, 3, 300)), "(12, 3, 400)"),
    ("v_template", np.zeros((12, 2)), "(12, 3)"),
    ("kintree_table", np.zeros((2, 4)), "(2, 5)"),
])
def test_wrong_shapes_are_named(tmp_path, small_arrays, key, bad, expected):
    data = flame_fixture.dense(small_arrays)
    data[key] = bad
    text = _message(_write_pickle(tmp_path / "s.pkl", data))
    assert f"'{key}' of shape {bad.shape}" in text and expected in text


def test_wrong_kinematic_tree(tmp_path, small_arrays):
    data = flame_fixture.dense(small_arrays)
    data["kintree_table"] = np.array([[-1, 0, 1, 2, 1], [0, 1, 2, 3, 4]])
    assert "kinematic tree" in _message(_write_pickle(tmp_path / "k.pkl", data))


def test_png_renamed_pkl(tmp_path):
    path = tmp_path / "photo.pkl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert "is not a FLAME model file" in _message(path)


def test_pickle_of_something_else(tmp_path):
    assert "holds a list" in _message(_write_pickle(tmp_path / "l.pkl", [1, 2, 3]))


def test_truncated_pickle(tmp_path, small_arrays):
    raw = pickle.dumps(flame_fixture.dense(small_arrays), protocol=2)
    for cut in (len(raw) // 3, len(raw) // 2, len(raw) - 1):
        path = tmp_path / f"cut{cut}.pkl"
        path.write_bytes(raw[:cut])
        assert "truncated or damaged" in _message(path)


class _Exploit:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_malicious_pickle_is_refused(tmp_path, small_arrays):
    marker = tmp_path / "pwned"
    data = flame_fixture.dense(small_arrays)
    data["weights"] = _Exploit(marker)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(data, protocol=2))
    text = _message(path)
    assert "system" in text and "was not loaded" in text
    assert not marker.exists()


@pytest.mark.parametrize("module, name", [
    ("builtins", "eval"), ("__builtin__", "getattr"), ("subprocess", "Popen"),
    ("numpy", "load"), ("scipy.sparse", "load_npz"), ("_codecs", "decode"),
])
def test_unpickler_refuses_other_globals(module, name):
    with pytest.raises(pickle.UnpicklingError):
        resolve_global(module, name)


def test_required_keys_are_flames():
    assert set(FLAME_KEYS) == {"v_template", "f", "shapedirs", "posedirs", "J_regressor",
                               "weights", "kintree_table"}
