"""Read FLAME model files the user owns, without chumpy.

FLAME 2020 (`generic_model.pkl`, `male_model.pkl`, `female_model.pkl`) and
FLAME 2023 (`flame2023.pkl`, `flame2023_Open.pkl`) are Python-2 pickles, read
with `encoding="latin1"`. Several values are `chumpy.ch.Ch` objects (their
value is the array stored under `x` in the pickled state) and `J_regressor`
is a `scipy.sparse.csc_matrix`. A pickle can run code, so the unpickler here
only accepts numpy arrays, sparse matrices and chumpy objects; chumpy and
sparse classes become inert stand-ins that hold the pickled state and are
turned into numpy arrays afterwards.

Keys: v_template [V, 3], f [F, 3], shapedirs [V, 3, 300 + E] (300 shape then
E expression components, E = 100), posedirs [V, 3, 36], J_regressor [5, V],
weights [V, 5], kintree_table [2, 5] (row 0: parents, root = 2**32 - 1).
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from ..errors import HeadModelError
from .model import NUM_JOINTS, PARENTS, POSE_FEATURES, HeadModel

FLAME_VERTICES = 5023
FLAME_SHAPE_COMPONENTS = 300
FLAME_EXPRESSION_COMPONENTS = 100
FLAME_KEYS = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
PICKLE_OPENERS = (0x80, ord("("), ord("}"), ord("]"))  # protocol 2+, or protocol 0/1 containers

_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_SCALAR = np.float64(0).__reduce__()[0]
_NUMPY_MODULES = {"numpy", "numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric"}
_NUMPY_NAMES = {"_reconstruct": _RECONSTRUCT, "scalar": _SCALAR, "ndarray": np.ndarray, "dtype": np.dtype}
_BUILTIN_NAMES = {"set": set, "frozenset": frozenset, "object": object, "slice": slice,
                  "complex": complex, "tuple": tuple, "list": list, "dict": dict}
_SPARSE_NAMES = {"csc_matrix", "csr_matrix", "coo_matrix", "csc_array", "csr_array", "coo_array"}


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle asked for a class or function outside the allow-list."""

    def __init__(self, name: str) -> None:
        super().__init__(f"refused global {name}")
        self.name = name


class PickledObject:
    """An inert stand-in for a refused class: keeps constructor args and pickled state."""

    origin = ""
    args: tuple = ()
    state = None

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.args = args
        return obj

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __setstate__(self, state) -> None:
        self.state = state

    def state_dict(self) -> dict:
        """The pickled `__dict__` (chumpy and scipy pickle their instance dict)."""
        state = self.state[0] if isinstance(self.state, tuple) and self.state else self.state
        return state if isinstance(state, dict) else {}


class ChumpyObject(PickledObject):
    """Stand-in for any `chumpy.*` class."""


class SparseObject(PickledObject):
    """Stand-in for a `scipy.sparse` matrix class."""


_STAND_INS: dict = {}


def _stand_in(base: type, module: str, name: str) -> type:
    key = (base, module, name)
    if key not in _STAND_INS:
        _STAND_INS[key] = type(name, (base,), {"origin": f"{module}.{name}"})
    return _STAND_INS[key]


def _latin1_encode(text, encoding="latin1"):
    """`_codecs.encode` as Python 3 protocol-2 pickles use it for bytes; latin-1 only."""
    if str(encoding).lower().replace("-", "").replace("_", "") not in {"latin1", "iso88591"}:
        raise RefusedGlobal(f"_codecs.encode with encoding {encoding!r}")
    return str(text).encode("latin1")


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only numpy, sparse and chumpy names (never code)."""

    def find_class(self, module: str, name: str):
        if module in _NUMPY_MODULES and name in _NUMPY_NAMES:
            return _NUMPY_NAMES[name]
        if module in ("__builtin__", "builtins") and name in _BUILTIN_NAMES:
            return _BUILTIN_NAMES[name]
        if module in ("copy_reg", "copyreg") and name in ("_reconstructor", "__newobj__"):
            import copyreg
            return getattr(copyreg, name)
        if module == "_codecs" and name == "encode":
            return _latin1_encode
        if module == "collections" and name == "OrderedDict":
            from collections import OrderedDict
            return OrderedDict
        if module == "chumpy" or module.startswith("chumpy."):
            return _stand_in(ChumpyObject, module, name)
        if module.startswith("scipy.sparse") and name in _SPARSE_NAMES:
            return _stand_in(SparseObject, module, name)
        raise RefusedGlobal(f"{module}.{name}")


def unpickle_restricted(raw: bytes, path, what: str = "FLAME model file") -> object:
    """Unpickle `raw` (the bytes of `path`) with the allow-list; HeadModelError on any failure."""
    if not raw or raw[0] not in PICKLE_OPENERS:
        raise HeadModelError(f"'{path}' is not a {what}: it is not a Python pickle.")
    try:
        return RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except RefusedGlobal as e:
        raise HeadModelError(f"'{path}' was not loaded because it asks to run '{e.name}', "
                             "which a model file never needs (pickles can run code).") from None
    except EOFError:
        raise HeadModelError(f"'{path}' is truncated or damaged; download it again.") from None
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file to the user
        if "truncated" in str(e) or "ran out of input" in str(e).lower():
            raise HeadModelError(f"'{path}' is truncated or damaged; download it again.") from None
        raise HeadModelError(f"'{path}' is not a {what}: it could not be unpickled ({e}).") from None


# ---- stand-ins to arrays -------------------------------------------------

def _chumpy_op(kind: str, state: dict, value):
    a = value(state["a"]) if "a" in state else None
    ops = {
        "transpose": lambda: np.transpose(a, state.get("axes")),
        "Reshape": lambda: np.reshape(a, state["want_shape"]),
        "Select": lambda: np.ravel(a)[np.asarray(state["idxs"])].reshape(state["preferred_shape"]),
        "add": lambda: a + value(state["b"]),
        "subtract": lambda: a - value(state["b"]),
        "multiply": lambda: a * value(state["b"]),
        "divide": lambda: a / value(state["b"]),
        "negative": lambda: -a,
    }
    return ops[kind]() if kind in ops else None


def _chumpy_value(obj: ChumpyObject) -> np.ndarray:
    state, kind = obj.state_dict(), type(obj).__name__
    if "x" in state:
        return to_array(state["x"])
    result = _chumpy_op(kind, state, to_array)
    if result is not None:
        return np.asarray(result)
    arrays = [v for v in state.values() if isinstance(v, (np.ndarray, ChumpyObject))]
    if len(arrays) == 1:
        return to_array(arrays[0])
    if obj.args:
        return to_array(obj.args[0])
    raise ValueError(f"a {obj.origin} object whose value could not be recovered")


def _sparse_value(obj: SparseObject) -> np.ndarray:
    import scipy.sparse as sp

    s = obj.state_dict()
    shape = tuple(s.get("_shape", s.get("shape", ())))
    kind = type(obj).__name__[:3]
    if kind == "coo":
        coords = s.get("coords") or (s["row"], s["col"])
        return sp.coo_matrix((s["data"], coords), shape=shape).toarray()
    build = sp.csc_matrix if kind == "csc" else sp.csr_matrix
    return build((s["data"], s["indices"], s["indptr"]), shape=shape).toarray()


def to_array(value) -> np.ndarray:
    """A numpy array from a pickled value: ndarray, chumpy stand-in, sparse stand-in, or list."""
    if isinstance(value, ChumpyObject):
        return _chumpy_value(value)
    if isinstance(value, SparseObject):
        return _sparse_value(value)
    arr = np.asarray(value)
    if arr.dtype == object:
        raise ValueError(f"a {type(value).__name__} that is not an array of numbers")
    return arr


# ---- FLAME file -> HeadModel ---------------------------------------------

def read_bytes(path: Path, what: str = "head model") -> bytes:
    """The bytes of `path`; HeadModelError when it is missing or unreadable."""
    if not path.exists():
        raise HeadModelError(f"The {what} file '{path}' does not exist; check the path.")
    if not path.is_file():
        raise HeadModelError(f"'{path}' is a folder, not a {what} file; choose the file inside it.")
    try:
        return path.read_bytes()
    except OSError as e:
        raise HeadModelError(f"The {what} file '{path}' could not be read ({e.strerror}).") from None


def flame_arrays(data, path) -> dict:
    """The FLAME keys of an unpickled (or npz) mapping as numpy arrays.

    Raises HeadModelError naming missing keys or values that are not arrays.
    """
    if not isinstance(data, dict):
        raise HeadModelError(f"'{path}' is not a FLAME model file: it holds a "
                             f"{type(data).__name__}, not a dictionary of arrays.")
    data = {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in data.items()}
    missing = [k for k in FLAME_KEYS if k not in data]
    if missing:
        raise HeadModelError(f"'{path}' is not a complete FLAME model: it lacks {', '.join(missing)}.")
    arrays = {}
    for key in FLAME_KEYS + ("exprdirs",):
        if key not in data:
            continue
        try:
            arrays[key] = to_array(data[key])
        except Exception as e:  # noqa: BLE001 - any conversion failure is a bad file
            raise HeadModelError(f"'{path}' has an unreadable '{key}' ({e}).") from None
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
    for key, want in _expected_shapes(V, S).items():
        if a[key].shape != want:
            _wrong(path, key, a[key].shape, str(want))
    e = a.get("exprdirs")
    if e is not None and (e.ndim != 3 or e.shape[:2] != (V, 3)):
        _wrong(path, "exprdirs", e.shape, f"({V}, 3, E)")


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
    f = lambda x: np.ascontiguousarray(x, dtype=dtype)  # noqa: E731
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
    data = unpickle_restricted(read_bytes(path, "FLAME model"), path)
    try:
        return head_from_arrays(flame_arrays(data, path), path.stem, str(path))
    except HeadModelError:
        raise
    except Exception as e:  # noqa: BLE001 - never let a bare exception reach the user
        raise HeadModelError(f"'{path}' is not a usable FLAME model ({e}).") from None

