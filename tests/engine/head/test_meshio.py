"""OBJ and binary PLY writers: round trips, colours, header, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import InputError
from engine.head.meshio import read_obj, read_ply, write_obj, write_ply


@pytest.fixture
def mesh():
    """A unit tetrahedron: vertices [4, 3], faces [4, 3], colours [4, 3]."""
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64) * 0.1 + 0.0123456789
    f = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    c = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.25, 0.125]])
    return v, f, c


def test_obj_round_trip(tmp_path, mesh):
    v, f, _ = mesh
    write_obj(tmp_path / "m.obj", v, f)
    v2, f2, c2 = read_obj(tmp_path / "m.obj")
    np.testing.assert_allclose(v2, v, rtol=1e-8)
    np.testing.assert_array_equal(f2, f)
    assert c2 is None
    text = (tmp_path / "m.obj").read_text()
    assert "\nf 1 3 2\n" in text  # 1-based indices


def test_obj_colours(tmp_path, mesh):
    v, f, c = mesh
    write_obj(tmp_path / "c.obj", v, f, colors=c)
    _, _, c2 = read_obj(tmp_path / "c.obj")
    np.testing.assert_allclose(c2, c, rtol=1e-8)


def test_ply_round_trip(tmp_path, mesh):
    v, f, _ = mesh
    write_ply(tmp_path / "m.ply", v, f)
    v2, f2, c2 = read_ply(tmp_path / "m.ply")
    assert v2.dtype == np.float32
    np.testing.assert_array_equal(v2, v.astype(np.float32))
    np.testing.assert_array_equal(f2, f)
    assert c2 is None


def test_ply_colours_and_header(tmp_path, mesh):
    v, f, c = mesh
    path = tmp_path / "c.ply"
    write_ply(path, v, f, colors=c)
    data = path.read_bytes()
    assert data.startswith(b"ply\nformat binary_little_endian 1.0\n")
    assert b"property uchar red\nproperty uchar green\nproperty uchar blue\n" in data
    assert b"element face 4\nproperty list uchar int vertex_indices\nend_header\n" in data
    header_end = data.index(b"end_header\n") + len(b"end_header\n")
    assert len(data) - header_end == 4 * (12 + 3) + 4 * (1 + 12)
    _, _, c2 = read_ply(path)
    np.testing.assert_array_equal(c2, np.round(c * 255) / 255)


def test_large_mesh_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(5023, 3)).astype(np.float32)
    f = rng.integers(0, 5023, (9976, 3))
    write_ply(tmp_path / "big.ply", v, f, colors=rng.uniform(size=(5023, 3)))
    v2, f2, _ = read_ply(tmp_path / "big.ply")
    np.testing.assert_array_equal(v2, v)
    np.testing.assert_array_equal(f2, f)


@pytest.mark.parametrize("writer", [write_obj, write_ply])
def test_bad_input(tmp_path, mesh, writer):
    v, f, c = mesh
    with pytest.raises(InputError, match=r"\[V, 3\]"):
        writer(tmp_path / "x", v[:, :2], f)
    with pytest.raises(InputError, match="do not exist"):
        writer(tmp_path / "x", v, f + 10)
    with pytest.raises(InputError, match="colours"):
        writer(tmp_path / "x", v, f, colors=c[:2])
    with pytest.raises(InputError, match="could not be written"):
        writer(tmp_path / "missing" / "x", v, f)
