"""Read the data in a pickle without running it: a small pickle machine that builds only data.

FLAME model files and landmark embeddings are pickles, and `pickle.Unpickler`
(even with `find_class` restricted) lets a file hand numpy objects state of
its choosing: a dtype built with object fields reads raw bytes as pointers.
This reader interprets the opcodes itself. It makes Python containers,
numbers and strings, numeric numpy arrays it builds from a checked dtype
and an exact byte count, and inert stand-ins for chumpy and scipy.sparse
objects (their pickled state, turned into arrays later by `flame_file`).
Nothing from the file is ever called, and no numpy object gets `__setstate__`.

Bounds: the memo is a dict (an index costs nothing until used), the number
of opcodes is capped, every length is checked against the bytes that are
there, and nesting deeper than `MAX_DEPTH` is refused.

This module is the stack machine (reading, the stack, one handler per opcode, the walk after STOP);
what each call and BUILD may make lives in `engine.head.pickle_values`.
"""

from __future__ import annotations

import codecs
import struct

import numpy as np

from .pickle_values import (ArrayStub, ChumpyObject, DtypeStub, Name, PickledObject, RefusedGlobal, RefusedPickle,
                            SparseObject, StandInClass, TruncatedPickle, build_state, container, new_object,
                            reduce_call, resolve_global)

__all__ = ["MAX_DEPTH", "MAX_OPCODES", "ChumpyObject", "RefusedGlobal", "RefusedPickle", "SparseObject",
           "TruncatedPickle", "load_data", "resolve_global"]  # the reader's names, as flame_file and tests use them

MAX_OPCODES = 2_000_000      # a FLAME file has a few thousand; each costs ~1 us here
MAX_DEPTH = 64               # containers and chumpy expressions nested deeper are refused


# ---- the machine ------------------------------------------------------------

_MARK = object()


class _Machine:
    """The pickle stack machine over `raw`, one opcode at a time (see `pickletools` for each)."""

    def __init__(self, raw: bytes) -> None:
        self.data, self.raw, self.pos = bytes(raw), memoryview(raw), 0
        self.stack: list = []
        self.marks: list = []
        self.memo: dict = {}

    # -- reading
    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.raw):
            raise TruncatedPickle("the pickle ends inside a value")
        data = bytes(self.raw[self.pos:self.pos + n])
        self.pos += n
        return data

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def line(self) -> str:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise TruncatedPickle("the pickle ends inside a line")
        return self.take(end + 1 - self.pos)[:-1].decode("latin1")

    # -- the stack
    def pop(self):
        if not self.stack or (self.marks and len(self.stack) == self.marks[-1]):
            raise RefusedPickle("an opcode with too few values on the stack")
        return self.stack.pop()

    def pop_mark(self) -> list:
        if not self.marks:
            raise RefusedPickle("an opcode that needs a MARK without one")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def top(self):
        if not self.stack or (self.marks and len(self.stack) == self.marks[-1]):
            raise RefusedPickle("an opcode with nothing on the stack")
        return self.stack[-1]

    def get(self, key):
        if key not in self.memo:
            raise RefusedPickle("a memo reference to nothing")
        self.stack.append(self.memo[key])

    def put(self, key) -> None:
        self.memo[key] = self.top()

    def run(self):
        for _ in range(MAX_OPCODES):
            code = self.take(1)
            if code == b".":
                if len(self.stack) != 1 or self.marks:
                    raise RefusedPickle("a pickle that does not end with one value")
                return self.stack[0]
            handler = _OPCODES.get(code)
            if handler is None:
                raise RefusedPickle(f"the pickle opcode {code!r}, which a data file never needs")
            handler(self)
        raise RefusedPickle(f"more than {MAX_OPCODES} pickle opcodes")


def _text_string(text: str) -> str:
    """STRING's argument: a quoted Python 2 literal -> str (latin-1, as `encoding='latin1'` reads it)."""
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "'\"":
        raise RefusedPickle("a malformed STRING")
    return codecs.escape_decode(text[1:-1].encode("latin1"))[0].decode("latin1")


def _text_int(text: str):
    if text in ("00", "01"):
        return text == "01"
    return int(text)


def _append(m: _Machine, items) -> None:
    target = m.top()
    if isinstance(target, list):
        target.extend(items)
    elif isinstance(target, set):
        target.update(items)
    else:
        raise RefusedPickle(f"items appended to a {type(target).__name__}")


def _set_items(m: _Machine, items) -> None:
    target = m.top()
    if not isinstance(target, dict) or len(items) % 2:
        raise RefusedPickle("items set on something that is not a dict")
    for key, value in zip(items[::2], items[1::2]):
        target[key] = value


def _stack_global(m: _Machine) -> None:
    name, module = m.pop(), m.pop()
    m.stack.append(resolve_global(module, name))


def _global(m: _Machine) -> None:
    module = m.line()
    m.stack.append(resolve_global(module, m.line()))


def _mark(m: _Machine) -> None:
    if len(m.marks) >= MAX_DEPTH * 4:
        raise RefusedPickle("marks nested too deeply")
    m.marks.append(len(m.stack))


def _new_obj_ex(m: _Machine) -> None:
    kwargs, args, cls = m.pop(), m.pop(), m.pop()
    if kwargs or not isinstance(args, tuple):
        raise RefusedPickle("an object made with keyword arguments")
    m.stack.append(new_object(cls, args))


def _tuple_of(n: int):
    return lambda m: m.stack.append(tuple(reversed([m.pop() for _ in range(n)])))


def _push(value):
    return lambda m: m.stack.append(value() if callable(value) else value)


def _push_read(read):
    return lambda m: m.stack.append(read(m))


def _long(m: _Machine, n: int) -> int:
    return int.from_bytes(m.take(n), "little", signed=True)


def _pop_mark_discard(m: _Machine) -> None:
    m.pop_mark()


_OPCODES = {
    b"(": _mark, b"1": _pop_mark_discard, b"0": lambda m: m.pop(), b"2": lambda m: m.stack.append(m.top()),
    b"N": _push(None), b"\x88": _push(True), b"\x89": _push(False),
    b")": _push(tuple), b"]": _push(list), b"}": _push(dict), b"\x8f": _push(set),
    b"I": _push_read(lambda m: _text_int(m.line())), b"L": _push_read(lambda m: int(m.line().rstrip("L"))),
    b"F": _push_read(lambda m: float(m.line())),
    b"J": _push_read(lambda m: m.unpack("<i")), b"K": _push_read(lambda m: m.unpack("<B")),
    b"M": _push_read(lambda m: m.unpack("<H")), b"G": _push_read(lambda m: m.unpack(">d")),
    b"\x8a": _push_read(lambda m: _long(m, m.unpack("<B"))), b"\x8b": _push_read(lambda m: _long(m, m.unpack("<i"))),
    b"S": _push_read(lambda m: _text_string(m.line())),
    b"T": _push_read(lambda m: m.take(m.unpack("<i")).decode("latin1")),
    b"U": _push_read(lambda m: m.take(m.unpack("<B")).decode("latin1")),
    b"V": _push_read(lambda m: m.line().encode("latin1").decode("raw-unicode-escape")),
    b"X": _push_read(lambda m: m.take(m.unpack("<I")).decode("utf-8", "surrogatepass")),
    b"\x8c": _push_read(lambda m: m.take(m.unpack("<B")).decode("utf-8", "surrogatepass")),
    b"\x8d": _push_read(lambda m: m.take(m.unpack("<Q")).decode("utf-8", "surrogatepass")),
    b"B": _push_read(lambda m: m.take(m.unpack("<I"))), b"C": _push_read(lambda m: m.take(m.unpack("<B"))),
    b"\x8e": _push_read(lambda m: m.take(m.unpack("<Q"))),
    b"\x96": _push_read(lambda m: bytearray(m.take(m.unpack("<Q")))),
    b"t": lambda m: m.stack.append(tuple(m.pop_mark())), b"\x85": _tuple_of(1), b"\x86": _tuple_of(2),
    b"\x87": _tuple_of(3), b"l": lambda m: m.stack.append(m.pop_mark()),
    b"d": lambda m: m.stack.append(container("dict", (list(zip(*[iter(m.pop_mark())] * 2)),))),
    b"\x91": lambda m: m.stack.append(frozenset(m.pop_mark())),
    b"a": lambda m: _append(m, [m.pop()]), b"e": lambda m: _append(m, m.pop_mark()),
    b"\x90": lambda m: _append(m, m.pop_mark()),
    b"s": lambda m: _set_items(m, [m.pop(), m.pop()][::-1]), b"u": lambda m: _set_items(m, m.pop_mark()),
    b"g": lambda m: m.get(int(m.line())), b"h": lambda m: m.get(m.unpack("<B")),
    b"j": lambda m: m.get(m.unpack("<I")), b"p": lambda m: m.put(int(m.line())),
    b"q": lambda m: m.put(m.unpack("<B")), b"r": lambda m: m.put(m.unpack("<I")),
    b"\x94": lambda m: m.put(len(m.memo)),
    b"c": _global, b"\x93": _stack_global,
    b"R": lambda m: m.stack.append(reduce_call(*reversed([m.pop(), m.pop()]))),
    b"\x81": lambda m: m.stack.append(new_object(*reversed([m.pop(), m.pop()]))),
    b"\x92": _new_obj_ex,
    b"b": lambda m: build_state(*reversed([m.pop(), m.top()])),
    b"\x80": lambda m: m.take(1), b"\x95": lambda m: m.take(8),
}


# ---- after STOP: stubs become arrays ----------------------------------------

def _finish(value, seen: dict, depth: int = 0):
    """`value` with every ArrayStub replaced by its array, containers and stand-in states walked."""
    if depth > MAX_DEPTH:
        raise RefusedPickle(f"values nested more than {MAX_DEPTH} deep")
    if isinstance(value, ArrayStub):
        if value.array is None:
            raise RefusedPickle("an array without data")
        return value.array if isinstance(value.array, np.ndarray) else _finish(value.array, seen, depth + 1)
    if isinstance(value, (DtypeStub, Name, StandInClass)):
        raise RefusedPickle("a bare type or function as a value")
    if not isinstance(value, (list, dict, tuple, set, frozenset, PickledObject)) or id(value) in seen:
        return seen.get(id(value), value)
    seen[id(value)] = value
    if isinstance(value, list):
        value[:] = [_finish(v, seen, depth + 1) for v in value]
    elif isinstance(value, dict):
        for key in list(value):
            value[key] = _finish(value[key], seen, depth + 1)
    elif isinstance(value, PickledObject):
        value.args = _finish(value.args, seen, depth + 1)
        value.state = _finish(value.state, seen, depth + 1)
    else:
        seen[id(value)] = type(value)(_finish(v, seen, depth + 1) for v in value)
    return seen[id(value)]


def load_data(raw: bytes):
    """The value pickled in `raw`, built from data only (see the module docstring).

    Raises RefusedGlobal for a name outside the allow-list, TruncatedPickle for
    a file that ends early, RefusedPickle for anything else this reader refuses.
    """
    return _finish(_Machine(raw).run(), {})
