"""What the safe pickle reader (`engine.head.safe_pickle`) builds, and nothing else: the globals a data
pickle may name, inert stand-ins for chumpy and scipy.sparse objects, numeric numpy arrays built from
a checked dtype and an exact byte count, and what REDUCE / NEWOBJ / BUILD make of each; the errors of a
refused pickle. Nothing named by a file is ever imported or called.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np

MAX_DIMENSIONS = 8
NUMERIC_CODES = {"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"}
BYTE_ORDERS = {"<", ">", "|", "="}
NUMPY_MODULES = {"numpy", "numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric",
                 "numpy._core.numeric"}
SPARSE_NAMES = {"csc_matrix", "csr_matrix", "coo_matrix", "csc_array", "csr_array", "coo_array"}


class RefusedPickle(pickle.UnpicklingError):
    """The pickle holds something this reader does not build (code, an unknown class, a bad array)."""


class RefusedGlobal(RefusedPickle):
    """The pickle asked for a class or function outside the allow-list."""

    def __init__(self, name: str) -> None:
        super().__init__(f"refused global {name}")
        self.name = name


class TruncatedPickle(RefusedPickle):
    """The pickle ends before its STOP opcode, or a length runs past the end."""


# ---- what GLOBAL can name ---------------------------------------------------

@dataclass(frozen=True)
class Name:
    """An allowed global: `kind` says what calling it builds; nothing real is ever called."""

    kind: str
    origin: str


class PickledObject:
    """An inert stand-in for a chumpy or scipy.sparse object: constructor args and pickled state."""

    origin = ""

    def __init__(self, args: tuple = ()) -> None:
        self.args = args
        self.state = None

    def state_dict(self) -> dict:
        """The pickled `__dict__` (chumpy and scipy pickle their instance dict)."""
        state = self.state[0] if isinstance(self.state, tuple) and self.state else self.state
        return state if isinstance(state, dict) else {}


class ChumpyObject(PickledObject):
    """Stand-in for any `chumpy.*` class."""


class SparseObject(PickledObject):
    """Stand-in for a `scipy.sparse` matrix class."""


_STAND_INS: dict = {}


def stand_in_class(base: type, module: str, name: str) -> type:
    """The stand-in class for `module.name` (one per name, so `type(obj).__name__` is chumpy's)."""
    key = (base, module, name)
    if key not in _STAND_INS:
        _STAND_INS[key] = type(name, (base,), {"origin": f"{module}.{name}"})
    return _STAND_INS[key]


@dataclass(frozen=True)
class StandInClass:
    """A chumpy / sparse class named by the pickle: NEWOBJ or REDUCE makes an inert instance."""

    cls: type


def resolve_global(module: str, name: str):
    """What GLOBAL `module name` becomes: a Name, a StandInClass; RefusedGlobal for anything else."""
    if not isinstance(module, str) or not isinstance(name, str):
        raise RefusedGlobal("a global whose name is not text")
    numpy_names = {"_reconstruct": "reconstruct", "ndarray": "ndarray", "dtype": "dtype", "scalar": "scalar",
                   "_frombuffer": "frombuffer"}
    if module in NUMPY_MODULES and name in numpy_names:
        return Name(numpy_names[name], f"{module}.{name}")
    builtins = {"set": "set", "frozenset": "frozenset", "list": "list", "tuple": "tuple", "dict": "dict",
                "object": "object", "slice": "slice"}
    if module in ("__builtin__", "builtins") and name in builtins:
        return Name(builtins[name], f"builtins.{name}")
    if module == "collections" and name == "OrderedDict":
        return Name("dict", "collections.OrderedDict")
    if module in ("copy_reg", "copyreg") and name in ("_reconstructor", "__newobj__"):
        return Name(name.strip("_"), f"copyreg.{name}")
    if module == "_codecs" and name == "encode":
        return Name("encode", "_codecs.encode")
    if module == "chumpy" or module.startswith("chumpy."):
        return StandInClass(stand_in_class(ChumpyObject, module, name))
    if module.startswith("scipy.sparse") and name in SPARSE_NAMES:
        return StandInClass(stand_in_class(SparseObject, module, name))
    raise RefusedGlobal(f"{module}.{name}")


# ---- numpy objects, built from checked parts --------------------------------

@dataclass
class DtypeStub:
    """A dtype the pickle describes: its type code now, its byte order from BUILD ("O": Python objects)."""

    code: str
    order: str = ""

    def dtype(self) -> np.dtype:
        """The numeric numpy dtype; RefusedPickle for anything but plain numbers."""
        if self.code == "O":
            raise RefusedPickle("an array of Python objects where numbers belong")
        order = self.order or ("|" if self.code[-1:] == "1" else "=")
        return np.dtype(order + self.code)


@dataclass
class ArrayStub:
    """An array being unpickled: `_reconstruct` makes it, BUILD gives it shape, dtype and bytes."""

    array: object = None


def _dtype_of(args) -> DtypeStub:
    code = args[0] if isinstance(args, tuple) and args else None
    if code in ("O4", "O8"):  # an object array (np.save of a dict): its items stay plain Python values
        return DtypeStub("O")
    if not isinstance(code, str) or code.lstrip("<>|=") not in NUMERIC_CODES:
        raise RefusedPickle(f"an array of {code!r} values, not numbers")
    return DtypeStub(code.lstrip("<>|="), code[0] if code[0] in BYTE_ORDERS else "")


def _build_dtype(stub: DtypeStub, state) -> None:
    """numpy's dtype state: (version, byteorder, subarray, names, fields, elsize, alignment, flags[, meta])."""
    if not isinstance(state, tuple) or len(state) not in (8, 9) or state[0] not in (3, 4):
        raise RefusedPickle("a dtype with an unknown layout")
    if state[1] not in BYTE_ORDERS or any(part is not None for part in state[2:5]):
        raise RefusedPickle("a structured or sub-array dtype")
    stub.order = state[1]


def _shape_of(shape) -> tuple:
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or len(shape) > MAX_DIMENSIONS or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**40 for n in shape):
        raise RefusedPickle("an array with a malformed shape")
    return tuple(shape)


def _as_bytes(data) -> bytes:
    if isinstance(data, str):  # a Python 2 str read with latin-1
        return data.encode("latin1")
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    raise RefusedPickle("an array whose data is not a byte string")


def numeric_array(shape, dtype_stub, fortran, data) -> np.ndarray:
    """A writable array from its parts, its byte count exactly shape x itemsize."""
    shape = _shape_of(shape)
    if not isinstance(dtype_stub, DtypeStub):
        raise RefusedPickle("an array without a numeric dtype")
    dtype, raw = dtype_stub.dtype(), _as_bytes(data)
    count = int(np.prod(shape, dtype=np.float64)) if shape else 1
    if count * dtype.itemsize != len(raw):
        raise RefusedPickle(f"an array of shape {shape} with {len(raw)} bytes of data")
    flat = np.frombuffer(raw, dtype=dtype, count=count)
    return flat.reshape(shape, order="F" if fortran else "C").copy(order="K")


def _build_array(stub: ArrayStub, state) -> None:
    if stub.array is not None:
        raise RefusedPickle("an array built twice")
    if not isinstance(state, tuple) or len(state) not in (4, 5):
        raise RefusedPickle("an array with an unknown layout")
    if len(state) == 5:
        state = state[1:]
    shape, dtype_stub, fortran, data = state
    if isinstance(dtype_stub, DtypeStub) and dtype_stub.code == "O":
        stub.array = _object_items(shape, data)
    else:
        stub.array = numeric_array(shape, dtype_stub, bool(fortran), data)


def _object_items(shape, items):
    """An object array's items as plain values: the one item of a 0-d array, else the flat list."""
    shape = _shape_of(shape)
    if not isinstance(items, list) or len(items) != (int(np.prod(shape)) if shape else 1):
        raise RefusedPickle("an object array whose items do not match its shape")
    return items[0] if not shape else items


# ---- calls (REDUCE / NEWOBJ) --------------------------------------------------

def reduce_call(func, args):
    """What REDUCE of `func(*args)` builds, for the allowed names only."""
    if not isinstance(args, tuple):
        raise RefusedPickle("a call whose arguments are not a tuple")
    if isinstance(func, StandInClass):
        return func.cls(args)
    if not isinstance(func, Name):
        raise RefusedPickle(f"a call of a {type(func).__name__}")
    kind = func.kind
    if kind == "reconstruct":
        if len(args) != 3 or not (isinstance(args[0], Name) and args[0].kind == "ndarray"):
            raise RefusedPickle("an array reconstructed as something other than an ndarray")
        return ArrayStub()
    if kind == "dtype":
        return _dtype_of(args)
    if kind == "scalar":
        if len(args) != 2:
            raise RefusedPickle("a malformed numpy scalar")
        return numeric_array((), args[0], False, args[1])[()]
    if kind == "frombuffer":
        if len(args) != 4 or args[3] not in ("C", "F"):
            raise RefusedPickle("a malformed numpy buffer")
        return numeric_array(args[2], args[1], args[3] == "F", args[0])
    if kind == "reconstructor":
        if len(args) != 3 or not isinstance(args[0], StandInClass) or args[2] is not None:
            raise RefusedPickle("an object of a refused kind")
        return args[0].cls()
    if kind == "newobj":
        return new_object(args[0] if args else None, args[1:])
    if kind == "encode":
        return _latin1_encode(*args)
    return container(kind, args)


def new_object(cls, args):
    """NEWOBJ of `cls(*args)`: an inert stand-in instance, for stand-in classes only."""
    if not isinstance(cls, StandInClass):
        raise RefusedPickle("an object of a refused kind")
    return cls.cls(tuple(args))


def _latin1_encode(text="", encoding="latin1", *rest):
    """`_codecs.encode(text, 'latin1')`, as Python 3 protocol-2 pickles write bytes."""
    if rest or not isinstance(text, str) or not isinstance(encoding, str) or \
            encoding.lower().replace("-", "").replace("_", "") not in {"latin1", "iso88591"}:
        raise RefusedGlobal("_codecs.encode with another encoding")
    return text.encode("latin1")


def container(kind: str, args):
    """A set, frozenset, list, tuple, dict or slice made from plain items (REDUCE of a builtin)."""
    if kind == "slice":
        if len(args) != 3 or not all(a is None or (isinstance(a, int) and not isinstance(a, bool)) for a in args):
            raise RefusedPickle("a malformed slice")
        return slice(*args)
    if kind in ("object", "ndarray"):
        raise RefusedPickle(f"a call of {kind}")
    if len(args) > 1 or (args and not isinstance(args[0], (list, tuple, set, frozenset, dict))):
        raise RefusedPickle(f"a {kind} made from something that is not a container")
    items = args[0] if args else ()
    if kind == "dict":
        items = items.items() if isinstance(items, dict) else items
        if not all(isinstance(pair, (tuple, list)) and len(pair) == 2 for pair in items):
            raise RefusedPickle("a dict made from something that is not pairs")
    return {"set": set, "frozenset": frozenset, "list": list, "tuple": tuple, "dict": dict}[kind](items)


def build_state(target, state) -> None:
    """BUILD: only our stubs and stand-ins take state; a real object never does."""
    if isinstance(target, ArrayStub):
        _build_array(target, state)
    elif isinstance(target, DtypeStub):
        _build_dtype(target, state)
    elif isinstance(target, PickledObject):
        target.state = state
    else:
        raise RefusedPickle(f"a {type(target).__name__} given state")
