"""load_head dispatch, the head .npz round trip, and landmark embedding formats."""

from __future__ import annotations

import dataclasses
import os
import pickle

import numpy as np
import pytest

import flame_fixture
from engine.errors import HeadModelError
from engine.head import HeadModel, LandmarkEmbedding, load_head, load_landmark_embedding, save_head_npz
from engine.head.loader import load_head_npz

ARRAY_FIELDS = ("v_template", "faces", "shapedirs", "exprdirs", "posedirs", "j_regressor",
                "weights", "parents")


@pytest.fixture(scope="module")
def head2020(flame2020_path):
    return load_head(flame2020_path)


def _decorated(head: HeadModel) -> HeadModel:
    """`head` with every optional field filled in."""
    rng = np.random.default_rng(3)
    lmk = LandmarkEmbedding(faces=np.arange(17, 68) * 7, bary=rng.dirichlet(np.ones(3), 51),
                            ids=np.arange(17, 68))
    return dataclasses.replace(
        head,
        expression_names=[f"e{i}" for i in range(len(head.expression_names))],
        joint_limits={"jaw": (np.array([0.0, -0.1, -0.1]), np.array([0.5, 0.1, 0.1])),
                      "neck": (np.full(3, -1.0), np.full(3, 1.0))},
        regions={"lips": np.array([3, 5, 8]), "eyes": np.arange(20, 40), "empty": np.zeros(0, np.int64)},
        landmark_embedding=lmk,
        vertex_colors=rng.uniform(size=(head.num_vertices, 3)),
    )


def _assert_same_head(a: HeadModel, b: HeadModel) -> None:
    for field in ARRAY_FIELDS:
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype, field
        np.testing.assert_array_equal(x, y, err_msg=field)
    assert (a.name, a.shape_names, a.expression_names) == (b.name, b.shape_names, b.expression_names)
    assert tuple(a.joint_names) == tuple(b.joint_names)
    assert a.joint_limits.keys() == b.joint_limits.keys()
    for name, (lo, hi) in a.joint_limits.items():
        np.testing.assert_array_equal(lo, b.joint_limits[name][0])
        np.testing.assert_array_equal(hi, b.joint_limits[name][1])
    assert list(a.regions) == list(b.regions)
    for name in a.regions:
        np.testing.assert_array_equal(a.regions[name], b.regions[name])
    for field in ("faces", "bary", "ids"):
        np.testing.assert_array_equal(getattr(a.landmark_embedding, field), getattr(b.landmark_embedding, field))
    np.testing.assert_array_equal(a.vertex_colors, b.vertex_colors)


def test_npz_round_trip_is_exact(tmp_path, head2020):
    head = _decorated(head2020)
    path = tmp_path / "head.npz"
    save_head_npz(head, path)
    back = load_head(path)
    _assert_same_head(head, back)
    assert back.source == str(path)
    with np.load(path, allow_pickle=False) as npz:  # plain arrays only
        assert "exprdirs" in npz.files


def test_npz_round_trip_without_optional_fields(tmp_path, head2020):
    path = tmp_path / "plain.npz"
    save_head_npz(head2020, path)
    back = load_head(path)
    for field in ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(back, field), getattr(head2020, field))
    assert back.landmark_embedding is None and back.vertex_colors is None
    assert back.regions == {} and back.joint_limits == {}


def test_flame_keys_npz_conversion(tmp_path, flame_arrays, head2020):
    path = tmp_path / "generic_model.npz"
    np.savez(path, **flame_fixture.dense(flame_arrays))
    head = load_head(path)
    assert head.name == "generic_model"
    assert head.expression_names == [f"exp{i:03d}" for i in range(100)]
    np.testing.assert_allclose(head.exprdirs, head2020.exprdirs, rtol=1e-6)


def test_npz_with_pickled_objects_is_refused(tmp_path, flame_arrays):
    path = tmp_path / "objects.npz"
    np.savez(path, **flame_arrays)  # the sparse J_regressor becomes a pickled object
    with pytest.raises(HeadModelError, match="Python objects"):
        load_head(path)


def test_npz_missing_key(tmp_path, small_arrays):
    path = tmp_path / "partial.npz"
    data = flame_fixture.dense(small_arrays)
    del data["posedirs"]
    np.savez(path, **data)
    with pytest.raises(HeadModelError, match="lacks posedirs"):
        load_head(path)


def test_npz_that_is_not_a_zip(tmp_path):
    path = tmp_path / "fake.npz"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(50))
    with pytest.raises(HeadModelError, match="is not a FLAME model file"):
        load_head_npz(path)


def test_unknown_extension(tmp_path):
    with pytest.raises(HeadModelError, match="not a head model file"):
        load_head(tmp_path / "head.obj")


def test_save_into_a_missing_folder(tmp_path, head2020):
    with pytest.raises(HeadModelError, match="could not be saved"):
        save_head_npz(head2020, tmp_path / "no" / "such" / "head.npz")


def test_builtin_head_when_present(tmp_path):
    builtin = pytest.importorskip("engine.head.builtin")
    if not hasattr(builtin, "build_builtin_head"):
        pytest.skip("the built-in head is not written yet")
    head = load_head()
    assert isinstance(head, HeadModel)
    path = tmp_path / "builtin.npz"
    save_head_npz(head, path)
    _assert_optional_fields_equal(head, load_head(path))


def _assert_optional_fields_equal(a: HeadModel, b: HeadModel) -> None:
    for field in ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.expression_names == b.expression_names and a.regions.keys() == b.regions.keys()
    assert (a.vertex_colors is None) == (b.vertex_colors is None)


# ---- landmark embeddings ------------------------------------------------------

def _embedding_arrays(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 9976, n).astype(np.uint32), rng.dirichlet(np.ones(3), n)


def test_flame_static_embedding_pkl(tmp_path):
    faces, bary = _embedding_arrays(51)
    path = tmp_path / "flame_static_embedding.pkl"
    flame_fixture.dump_py2({b"lmk_face_idx": faces, b"lmk_b_coords": bary}, path)
    lmk = load_landmark_embedding(path)
    np.testing.assert_array_equal(lmk.faces, faces)
    np.testing.assert_array_equal(lmk.bary, bary)
    np.testing.assert_array_equal(lmk.ids, np.arange(17, 68))


def test_deca_landmark_embedding_npy_prefers_the_full_68(tmp_path):
    full_f, full_b = _embedding_arrays(68, 1)
    static_f, static_b = _embedding_arrays(51, 2)
    path = tmp_path / "landmark_embedding.npy"
    np.save(path, {"static_lmk_faces_idx": static_f, "static_lmk_bary_coords": static_b,
                   "full_lmk_faces_idx": full_f[None].astype(np.int64),
                   "full_lmk_bary_coords": full_b[None]}, allow_pickle=True)
    lmk = load_landmark_embedding(path)
    np.testing.assert_array_equal(lmk.faces, full_f)
    np.testing.assert_array_equal(lmk.bary, full_b)
    np.testing.assert_array_equal(lmk.ids, np.arange(68))


def test_deca_npy_with_only_static(tmp_path):
    faces, bary = _embedding_arrays(51, 4)
    path = tmp_path / "static.npy"
    np.save(path, {"static_lmk_faces_idx": faces, "static_lmk_bary_coords": bary}, allow_pickle=True)
    lmk = load_landmark_embedding(path)
    np.testing.assert_array_equal(lmk.ids, np.arange(17, 68))


def test_our_npz_embedding(tmp_path):
    faces, bary = _embedding_arrays(5, 5)
    path = tmp_path / "lmk.npz"
    np.savez(path, faces=faces, bary=bary, ids=np.array([30, 31, 48, 54, 8]))
    lmk = load_landmark_embedding(path)
    np.testing.assert_array_equal(lmk.ids, [30, 31, 48, 54, 8])


class _Exploit:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_malicious_npy_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npy"
    np.save(path, {"full_lmk_faces_idx": _Exploit(marker)}, allow_pickle=True)
    with pytest.raises(HeadModelError, match="was not loaded"):
        load_landmark_embedding(path)
    assert not marker.exists()


@pytest.mark.parametrize("name, content, message", [
    ("lmk.npz", {"something": np.zeros(3)}, "has no lmk_face_idx"),
    ("lmk.npz", {"faces": np.arange(4), "bary": np.full((3, 3), 1 / 3), "ids": np.arange(4)}, "must match"),
    ("lmk.npz", {"faces": np.arange(10), "bary": np.full((10, 3), 1 / 3)}, "must have 51 or 68"),
    ("lmk.npz", {"faces": -np.ones(51), "bary": np.full((51, 3), 1 / 3)}, "non-negative integers"),
    ("lmk.npz", {"faces": np.arange(51), "bary": np.full((51, 3), np.nan)}, "NaN"),
])
def test_bad_embeddings(tmp_path, name, content, message):
    path = tmp_path / name
    np.savez(path, **content)
    with pytest.raises(HeadModelError, match=message):
        load_landmark_embedding(path)


def test_embedding_wrong_kind_of_file(tmp_path):
    (tmp_path / "lmk.txt").write_text("17 0.3 0.3 0.4")
    with pytest.raises(HeadModelError, match="use a .pkl, .npy or .npz"):
        load_landmark_embedding(tmp_path / "lmk.txt")
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2], protocol=2))
    with pytest.raises(HeadModelError, match="holds a list"):
        load_landmark_embedding(tmp_path / "list.pkl")
    with pytest.raises(HeadModelError, match="does not exist"):
        load_landmark_embedding(tmp_path / "none.pkl")


def test_load_head_attaches_landmarks(tmp_path, flame2020_path):
    faces, bary = _embedding_arrays(51, 6)
    path = tmp_path / "lmk.npz"
    np.savez(path, lmk_face_idx=faces, lmk_b_coords=bary)
    head = load_head(flame2020_path, landmarks=path)
    np.testing.assert_array_equal(head.landmark_embedding.faces, faces)
    np.savez(path, lmk_face_idx=faces + 10000, lmk_b_coords=bary)
    with pytest.raises(HeadModelError, match="has only 9976 triangles"):
        load_head(flame2020_path, landmarks=path)


def test_npz_round_trip_of_a_head_without_shape_basis(tmp_path):
    head = HeadModel(name="no shape", v_template=np.eye(6, 3), faces=np.array([[0, 1, 2]]),
                     shapedirs=np.zeros((6, 3, 0), np.float32), shape_names=[],
                     exprdirs=np.ones((6, 3, 3), np.float32), expression_names=["jawOpen", "a", "b"],
                     posedirs=np.zeros((6, 3, 36), np.float32), j_regressor=np.eye(5, 6),
                     weights=np.eye(5)[[0, 1, 2, 3, 4, 2]])
    save_head_npz(head, tmp_path / "tiny.npz")
    back = load_head(tmp_path / "tiny.npz")
    assert back.name == "no shape" and back.shape_names == [] and back.expression_names[0] == "jawOpen"
    for field in ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(back, field), getattr(head, field))
        assert getattr(back, field).dtype == getattr(head, field).dtype
