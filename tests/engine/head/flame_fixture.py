"""Synthetic FLAME-format model files, made here (no MPI data).

The pickles have FLAME's keys, shapes and pickle structure: a dict of
`chumpy.ch.Ch` objects (their state holds the array under `x`), plain numpy
arrays, a `scipy.sparse.csc_matrix` J_regressor and a kintree_table whose
root parent is 2**32 - 1. `write_flame2020` emulates a Python 2 pickle
(protocol 2, byte strings as py2 `str`, read back with encoding="latin1");
`write_flame2023` is a Python 3 protocol-2 pickle with plain-array variants.
The fake chumpy module exists only while pickling, so loading runs without it.
"""

from __future__ import annotations

import contextlib
import copyreg
import pickle
import struct
import sys
import types

import numpy as np
import scipy.sparse as sp

V, F = 5023, 9976
N_SHAPE, N_EXPR = 300, 100
ROOT_PARENT = 4294967295
# Vertex groups by index (vertex i belongs to group i % 7): one-hot weights on a
# joint, or a neck/jaw blend for group 5.
GROUP_WEIGHTS = np.array([
    [1, 0, 0, 0, 0],        # global
    [0, 1, 0, 0, 0],        # neck
    [0, 0, 1, 0, 0],        # jaw
    [0, 0, 0, 1, 0],        # left eye
    [0, 0, 0, 0, 1],        # right eye
    [0, 0.25, 0.75, 0, 0],  # neck/jaw blend
    [1, 0, 0, 0, 0],        # global
], dtype=np.float64)


def sphere_template(n: int) -> np.ndarray:
    """A head-sized Fibonacci sphere [n, 3] in metres (radius 0.1)."""
    k = np.arange(n) + 0.5
    y = 1.0 - 2.0 * k / n
    r = np.sqrt(1.0 - y * y)
    phi = k * np.pi * (3.0 - np.sqrt(5.0))
    return 0.1 * np.stack([r * np.cos(phi), y, r * np.sin(phi)], axis=1)


def joint_regressor(n: int, per_joint: int = 10) -> sp.csc_matrix:
    """A sparse [5, n] regressor: joint j averages `per_joint` vertices of group j."""
    rows, cols = [], []
    for j in range(5):
        members = np.arange(j, n, 7)[:per_joint]
        rows += [j] * len(members)
        cols += list(members)
    counts = np.bincount(rows, minlength=5)
    data = 1.0 / counts[rows]
    return sp.csc_matrix((data, (rows, cols)), shape=(5, n))


def make_flame_arrays(n_vertices: int = V, n_faces: int = F, seed: int = 0) -> dict:
    """Plain arrays with FLAME's keys and shapes (float64, like the real files)."""
    rng = np.random.default_rng(seed)
    a = np.arange(n_faces) % n_vertices
    return {
        "v_template": sphere_template(n_vertices),
        "f": np.stack([a, (a + 1) % n_vertices, (a + 2) % n_vertices], axis=1).astype(np.uint32),
        "shapedirs": rng.normal(0.0, 1e-3, (n_vertices, 3, N_SHAPE + N_EXPR)),
        "posedirs": rng.normal(0.0, 1e-3, (n_vertices, 3, 36)),
        "J_regressor": joint_regressor(n_vertices),
        "weights": GROUP_WEIGHTS[np.arange(n_vertices) % 7].copy(),
        "kintree_table": np.array([[ROOT_PARENT, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64),
    }


class _ChTemplate:
    """What chumpy's Ch pickles: its instance dict, the value under `x`."""

    def __init__(self, x, py2_keys: bool = False):
        self.x = np.asarray(x)
        self._py2_keys = py2_keys

    def __reduce_ex__(self, protocol):
        state = {"x": self.x, "_itr": None, "_depends_on_deps": {}, "_dirty_vars": set()}
        if self._py2_keys:
            state = {k.encode("latin1"): v for k, v in state.items()}
        if protocol < 2:  # what object.__reduce_ex__ does for protocols 0 and 1
            return (copyreg._reconstructor, (type(self), object, None), state)
        return (copyreg.__newobj__, (type(self),), state)


@contextlib.contextmanager
def fake_chumpy():
    """Register a module `chumpy.ch` with class `Ch` only while pickling; yield the class."""
    package, module = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    Ch = type("Ch", (_ChTemplate,), {"__module__": "chumpy.ch"})
    module.Ch, package.ch = Ch, module
    saved = {k: sys.modules.get(k) for k in ("chumpy", "chumpy.ch")}
    sys.modules.update({"chumpy": package, "chumpy.ch": module})
    try:
        yield Ch
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value


class Py2Pickler(pickle._Pickler):
    """A protocol-2 pickler that writes bytes as Python 2 `str` (SHORT_BINSTRING / BINSTRING)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes) -> None:
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def dump_py2(obj, path) -> None:
    """Pickle `obj` to `path` the way Python 2 wrote FLAME files (protocol 2)."""
    with open(path, "wb") as f:
        Py2Pickler(f, protocol=2).dump(obj)


def write_flame2020(path, arrays: dict) -> None:
    """A FLAME 2020-style `generic_model.pkl`: Ch values, sparse J_regressor, py2 byte-string keys."""
    with fake_chumpy() as Ch:
        data = {
            "v_template": Ch(arrays["v_template"], True), "f": arrays["f"],
            "shapedirs": Ch(arrays["shapedirs"], True), "posedirs": Ch(arrays["posedirs"], True),
            "J_regressor": arrays["J_regressor"], "weights": Ch(arrays["weights"], True),
            "kintree_table": arrays["kintree_table"], "J": Ch(np.zeros((5, 3)), True),
            "bs_style": "lbs", "bs_type": "lrotmin",
        }
        dump_py2({k.encode("latin1"): v for k, v in data.items()}, path)


def write_flame2023(path, arrays: dict) -> None:
    """A FLAME 2023-style pickle: plain shapedirs, dense J_regressor, uint32 kintree_table, extra keys."""
    with fake_chumpy() as Ch:
        data = dict(arrays)
        data["J_regressor"] = arrays["J_regressor"].toarray()
        data["weights"] = Ch(arrays["weights"])
        data["posedirs"] = Ch(arrays["posedirs"])
        data["kintree_table"] = arrays["kintree_table"].astype(np.uint32)
        data.update(J=Ch(np.zeros((5, 3))), bs_style="lbs", bs_type="lrotmin")
        with open(path, "wb") as f:
            pickle.dump(data, f, protocol=2)


def dense(arrays: dict) -> dict:
    """`arrays` with J_regressor as a dense [5, V] array."""
    out = dict(arrays)
    out["J_regressor"] = arrays["J_regressor"].toarray()
    return out
