"""Read FLAME model files the user owns, without chumpy.

FLAME 2020 (`generic_model.pkl`, `male_model.pkl`, `female_model.pkl`) and
FLAME 2023 (`flame2023.pkl`, `flame2023_Open.pkl`) are Python-2 pickles, read
with `encoding="latin1"`. Several values are `chumpy.ch.Ch` objects (their
value is the array stored under `x` in the pickled state) and `J_regressor`
is a `scipy.sparse.csc_matrix`. A pickle can run code, so `safe_pickle`
reads the file's data without running any of it: numeric numpy arrays, plain
containers, and inert stand-ins for the chumpy and sparse objects, turned into
numpy arrays here (never larger than the file could describe).

Keys: v_template [V, 3], f [F, 3], shapedirs [V, 3, 300 + E] (300 shape then
E expression components, E = 100), posedirs [V, 3, 36], J_regressor [5, V],
weights [V, 5], kintree_table [2, 5] (row 0: parents, root = 2**32 - 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import HeadModelError
from .model import NUM_JOINTS, PARENTS, POSE_FEATURES, HeadModel
from .safe_pickle import (ChumpyObject, RefusedGlobal, RefusedPickle, SparseObject, TruncatedPickle,
                          load_data)

FLAME_VERTICES = 5023
FLAME_SHAPE_COMPONENTS = 300
FLAME_EXPRESSION_COMPONENTS = 100
MAX_VERTICES = 1_000_000           # FLAME has 5,023; a dense scan head ~100,000
MAX_COMPONENTS = 2_000             # shape + expression components (FLAME: 400)
FLAME_KEYS = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
PICKLE_OPENERS = (0x80, ord("("), ord("}"), ord("]"))  # protocol 2+, or protocol 0/1 containers
MAX_FILE_BYTES = 2 * 1024**3        # FLAME 2023 is ~0.2 GB
DERIVED_ELEMENTS_PER_BYTE = 1       # arrays made from stand-ins (sparse, chumpy ops): <= file size + floor
DERIVED_ELEMENTS_FLOOR = 4_000_000
# What reading a pickled file can raise on data it does not like (our own bugs raise other types)
DATA_ERRORS = (RefusedPickle, ValueError, TypeError, KeyError, IndexError, OverflowError, ZeroDivisionError,
               UnicodeError, MemoryError, RecursionError)


def unpickle_restricted(raw: bytes, path, what: str = "FLAME model file") -> object:
    """The data pickled in `raw` (the bytes of `path`), built by `safe_pickle` (nothing in it runs).

    Raises HeadModelError with one sentence for any file it refuses.
    """
    if not raw or raw[0] not in PICKLE_OPENERS:
        raise HeadModelError(f"'{path}' is not a {what}: it is not a Python pickle.")
    try:
        return load_data(raw)
    except RefusedGlobal as e:
        raise HeadModelError(f"'{path}' was not loaded because it asks to run '{e.name}', "
                             "which a model file never needs (pickles can run code).") from e
    except TruncatedPickle as e:
        raise HeadModelError(f"'{path}' is truncated or damaged; download it again.") from e
    except MemoryError as e:
        raise HeadModelError(f"'{path}' needs more memory than this computer has to read.") from e
    except DATA_ERRORS as e:
        raise HeadModelError(f"'{path}' is not a {what} this add-on can read safely "
                             f"({_reason(e)}); download it again.") from e


def _reason(error: Exception) -> str:
    """A short, single-line reason from an exception (never its whole repr)."""
    text = str(error).split("\n")[0].replace(". ", "; ").rstrip(".")
    return (text[:160] + "...") if len(text) > 160 else (text or type(error).__name__)


# ---- stand-ins to arrays -------------------------------------------------

class Converter:
    """Turns pickled values into numpy arrays, within an element budget for what it derives."""

    def __init__(self, max_elements: int = DERIVED_ELEMENTS_FLOOR) -> None:
        self.max_elements = max_elements
        self.depth = 0

    def check_size(self, shape, what: str) -> None:
        count = float(np.prod([float(n) for n in shape])) if len(shape) else 1.0
        if count > self.max_elements:
            raise ValueError(f"a {what} of {count:.3g} values, more than such a file can hold")

    def array(self, value) -> np.ndarray:
        """A numeric numpy array from an ndarray, chumpy stand-in, sparse stand-in, number or list."""
        self.depth += 1
        try:
            if self.depth > 32:
                raise ValueError("values nested too deeply")
            if isinstance(value, ChumpyObject):
                return self.chumpy(value)
            if isinstance(value, SparseObject):
                return self.sparse(value)
            return numeric(np.asarray(value), type(value).__name__)
        finally:
            self.depth -= 1

    def chumpy(self, obj: ChumpyObject) -> np.ndarray:
        state, kind = obj.state_dict(), type(obj).__name__
        if "x" in state:
            return self.array(state["x"])
        result = self.chumpy_op(kind, state)
        if result is not None:
            return numeric(np.asarray(result), obj.origin)
        arrays = [v for v in state.values() if isinstance(v, (np.ndarray, ChumpyObject))]
        if len(arrays) == 1:
            return self.array(arrays[0])
        if obj.args:
            return self.array(obj.args[0])
        raise ValueError(f"a {obj.origin} object whose value could not be recovered")

    def chumpy_op(self, kind: str, state: dict):
        """The value of a chumpy expression node (transpose, Reshape, Select, + - * /), or None."""
        if kind not in ("transpose", "Reshape", "Select", "add", "subtract", "multiply", "divide", "negative"):
            return None
        a = self.array(state["a"])
        if kind == "transpose":
            return np.transpose(a, state.get("axes"))
        if kind == "Reshape":
            return np.reshape(a, state["want_shape"])
        if kind == "Select":
            index = numeric(np.asarray(state["idxs"]), "index").astype(np.int64)
            self.check_size(index.shape, "selection")
            return np.ravel(a)[index].reshape(state["preferred_shape"])
        if kind == "negative":
            return -a
        b = self.array(state["b"])
        self.check_size(np.broadcast_shapes(a.shape, b.shape), "chumpy result")
        with np.errstate(all="ignore"):
            return {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide}[kind](a, b)

    def sparse(self, obj: SparseObject) -> np.ndarray:
        import scipy.sparse as sp

        s = obj.state_dict()
        shape = tuple(int(n) for n in s.get("_shape", s.get("shape", ())))
        if len(shape) != 2 or min(shape) < 0:
            raise ValueError("a sparse matrix without a 2-D shape")
        self.check_size(shape, "sparse matrix")
        data = numeric(np.asarray(self.array(s["data"])), "sparse data")
        if type(obj).__name__[:3] == "coo":
            coords = s.get("coords") or (s["row"], s["col"])
            rows, cols = (self.array(c).astype(np.int64) for c in coords)
            return sp.coo_matrix((data, (rows, cols)), shape=shape).toarray()
        build = sp.csc_matrix if type(obj).__name__[:3] == "csc" else sp.csr_matrix
        indices, indptr = (self.array(s[k]).astype(np.int64) for k in ("indices", "indptr"))
        return build((data, indices, indptr), shape=shape).toarray()


def numeric(arr: np.ndarray, what: str) -> np.ndarray:
    """`arr` when it holds booleans, integers or real floats; ValueError otherwise."""
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"a {what} that is not an array of numbers")
    return arr


def to_array(value, max_elements: int = DERIVED_ELEMENTS_FLOOR) -> np.ndarray:
    """A numpy array from a pickled value: ndarray, chumpy stand-in, sparse stand-in, or list."""
    return Converter(max_elements).array(value)


# ---- FLAME file -> HeadModel ---------------------------------------------

def read_bytes(path: Path, what: str = "head model", limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path`; HeadModelError when it is missing, unreadable or larger than `limit`."""
    try:
        if not path.exists():
            raise HeadModelError(f"The {what} file '{path}' does not exist; check the path.")
        if not path.is_file():
            raise HeadModelError(f"'{path}' is a folder, not a {what} file; choose the file inside it.")
        if path.stat().st_size > limit:
            raise HeadModelError(f"The {what} file '{path}' is {path.stat().st_size / 1e9:.1f} GB, larger than any "
                                 f"{what} ({limit / 1e9:.1f} GB at most); check that it is the right file.")
        return path.read_bytes()
    except OSError as e:
        raise HeadModelError(f"The {what} file '{path}' could not be read ({e.strerror or e}).") from e


def flame_arrays(data, path, max_elements: int = DERIVED_ELEMENTS_FLOOR) -> dict:
    """The FLAME keys of an unpickled (or npz) mapping as numeric numpy arrays.

    `max_elements` bounds what stand-ins may expand to (a sparse matrix's dense
    form). Raises HeadModelError naming missing keys or values that are not arrays.
    """
    if not isinstance(data, dict):
        raise HeadModelError(f"'{path}' is not a FLAME model file: it holds a "
                             f"{type(data).__name__}, not a dictionary of arrays.")
    data = {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in data.items()
            if isinstance(k, (str, bytes))}
    missing = [k for k in FLAME_KEYS if k not in data]
    if missing:
        raise HeadModelError(f"'{path}' is not a complete FLAME model: it lacks {', '.join(missing)}.")
    arrays = {}
    for key in FLAME_KEYS + ("exprdirs",):
        if key not in data:
            continue
        try:
            arrays[key] = to_array(data[key], max_elements)
        except DATA_ERRORS as e:
            raise HeadModelError(f"'{path}' has an unreadable '{key}' ({_reason(e)}).") from e
    return arrays


def _expected_shapes(V: int, S: int) -> dict:
    return {"v_template": (V, 3), "posedirs": (V, 3, POSE_FEATURES), "J_regressor": (NUM_JOINTS, V),
            "weights": (V, NUM_JOINTS), "kintree_table": (2, NUM_JOINTS), "shapedirs": (V, 3, S)}


def check_flame_shapes(a: dict, path) -> None:
    """Raise HeadModelError for the first FLAME array whose shape is wrong."""
    v, sd = a["v_template"], a["shapedirs"]
    V = v.shape[0] if v.ndim == 2 else FLAME_VERTICES
    S = sd.shape[2] if sd.ndim == 3 else -1
    if S < 0 or ("exprdirs" not in a and S <= FLAME_SHAPE_COMPONENTS):
        S = FLAME_SHAPE_COMPONENTS + FLAME_EXPRESSION_COMPONENTS
    if a["f"].ndim != 2 or a["f"].shape[1] != 3:
        _wrong(path, "f", a["f"].shape, "(F, 3)")
    if a["f"].dtype.kind not in "iu" and not np.all(np.mod(a["f"], 1) == 0):
        raise HeadModelError(f"'{path}' has triangle indices 'f' that are not whole numbers.")
    for key, want in _expected_shapes(V, S).items():
        if a[key].shape != want:
            _wrong(path, key, a[key].shape, str(want))
    e = a.get("exprdirs")
    if e is not None and (e.ndim != 3 or e.shape[:2] != (V, 3)):
        _wrong(path, "exprdirs", e.shape, f"({V}, 3, E)")
    if V > MAX_VERTICES or S + (0 if e is None else e.shape[2]) > MAX_COMPONENTS:
        raise HeadModelError(f"'{path}' has {V} vertices and {S} components, more than a head model has "
                             f"({MAX_VERTICES} vertices, {MAX_COMPONENTS} components at most).")


def _wrong(path, key: str, got: tuple, want: str) -> None:
    raise HeadModelError(f"'{path}' has '{key}' of shape {tuple(got)}; a FLAME model needs {want}.")


def flame_parents(kintree_table: np.ndarray, path) -> np.ndarray:
    """Parents [5] from kintree_table [2, 5]; the root's 2**32 - 1 (or -1) becomes -1."""
    row = np.asarray(kintree_table[0]).astype(np.int64)
    row[(row == 2**32 - 1) | (row == 2**31 - 1) | (row < 0)] = -1
    if list(row) != list(PARENTS):
        raise HeadModelError(f"'{path}' has the kinematic tree {list(row)}; "
                             f"a FLAME model has parents {list(PARENTS)}.")
    return row


def split_bases(a: dict):
    """Shape basis [V, 3, S] and expression basis [V, 3, E] (FLAME: 300 then the rest)."""
    if "exprdirs" in a:
        return a["shapedirs"], a["exprdirs"]
    n = FLAME_SHAPE_COMPONENTS
    return a["shapedirs"][:, :, :n], a["shapedirs"][:, :, n:]


def head_from_arrays(a: dict, name: str, source: str, dtype=np.float32, **extra) -> HeadModel:
    """A HeadModel from checked FLAME arrays; `extra` goes to HeadModel (names, regions, ...)."""
    check_flame_shapes(a, source)
    shapedirs, exprdirs = split_bases(a)
    def f(x):  # float64 values past float32's range become inf, which validate() names
        with np.errstate(over="ignore", invalid="ignore"):
            return np.ascontiguousarray(x, dtype=dtype)
    extra.setdefault("shape_names", [f"shape{i:03d}" for i in range(shapedirs.shape[2])])
    extra.setdefault("expression_names", [f"exp{i:03d}" for i in range(exprdirs.shape[2])])
    return HeadModel(name=name, v_template=f(a["v_template"]), faces=a["f"].astype(np.int64),
                     shapedirs=f(shapedirs), exprdirs=f(exprdirs), posedirs=f(a["posedirs"]),
                     j_regressor=f(a["J_regressor"]), weights=f(a["weights"]),
                     parents=flame_parents(a["kintree_table"], source), source=source, **extra)


def load_flame_pickle(path) -> HeadModel:
    """A HeadModel from a FLAME `.pkl` (2020 or 2023), named after the file stem.

    Shape components are `shape000..`, expression components `exp000..exp099`.
    Raises HeadModelError with one sentence for any bad file.
    """
    path = Path(path)
    raw = read_bytes(path, "FLAME model")
    data = unpickle_restricted(raw, path)
    budget = DERIVED_ELEMENTS_FLOOR + DERIVED_ELEMENTS_PER_BYTE * len(raw)
    try:
        return head_from_arrays(flame_arrays(data, path, budget), path.stem, str(path))
    except DATA_ERRORS as e:
        raise HeadModelError(f"'{path}' is not a usable FLAME model ({_reason(e)}).") from e
