"""Reading and writing the user's files safely: sizes checked before allocation, writes atomic.

`read_npz` reads an `.npz` of plain arrays from its own parse of each member's
npy header: only the members asked for, only numeric or short-text dtypes,
each no larger than the caller allows for that name and never more than
`MAX_INFLATION` times its compressed size (a 2 MB zip of zeros does not
become 2 GB). `read_json` bounds the file's size, its nesting and its
numbers. `write_atomically` writes through a temporary file in the same
folder and renames it over the target, so a failed write (a full disk, a
cancelled job) leaves the old file or none, and gives the new file the
user's usual permissions (the umask's), not a temporary file's 0600.
"""

from __future__ import annotations

import ast
import io
import json
import os
import struct
import tempfile
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Optional

import numpy as np

NPY_MAGIC = b"\x93NUMPY"
MAX_NPY_HEADER = 65536
MAX_INFLATION = 64                 # decompressed / compressed bytes of a member, beyond its first 16 MB
INFLATION_FLOOR = 16 * 1024**2
MAX_TEXT_CHARS = 1 << 20           # the longest string element of a 'U' array
NUMERIC_KINDS = "biuf"
MAX_JSON_DEPTH = 32
MAX_JSON_DIGITS = 40               # an integer literal longer than this is read as a float (inf beyond 1e308)
# What reading a damaged file can raise (our own bugs raise other types: AttributeError, NameError, ...)
FILE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, ZeroDivisionError, UnicodeError,
               EOFError, struct.error, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError,
               MemoryError, RecursionError, NotImplementedError, SyntaxError)


class FileRefused(ValueError):
    """A file this module will not read; `str()` is a short reason for a sentence."""


# ---- npz ----------------------------------------------------------------------------------------

def npy_header(stream) -> tuple[np.dtype, tuple, bool]:
    """(dtype, shape, fortran_order) from the start of an npy stream, parsed here, checked."""
    descr, shape, fortran = npy_header_text(stream)
    return _npy_dtype(descr), shape, fortran


def npy_header_text(stream) -> tuple[str, tuple, bool]:
    """(descr, shape, fortran_order) from the start of an npy stream; the descr is not yet checked."""
    magic = stream.read(8)
    if len(magic) < 8 or magic[:6] != NPY_MAGIC or magic[6] not in (1, 2, 3):
        raise FileRefused("a member that is not a numpy array")
    size_format = "<H" if magic[6] == 1 else "<I"
    (length,) = struct.unpack(size_format, stream.read(struct.calcsize(size_format)))
    if length > MAX_NPY_HEADER:
        raise FileRefused("an array header longer than any numpy writes")
    text = stream.read(length).decode("utf-8" if magic[6] == 3 else "latin1")
    header = ast.literal_eval(text)
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise FileRefused("an array header of an unknown layout")
    return header["descr"], _npy_shape(header["shape"]), header["fortran_order"] is True


def _npy_dtype(descr) -> np.dtype:
    if not isinstance(descr, str) or len(descr) > 16:
        raise FileRefused("an array of structured values")
    dtype = np.dtype(descr)
    if dtype.kind == "O":
        raise FileRefused("it holds Python objects, which are not loaded for safety; save it with plain arrays")
    if dtype.kind not in NUMERIC_KINDS + "U" or dtype.fields is not None or dtype.subdtype is not None \
            or (dtype.kind == "U" and dtype.itemsize > 4 * MAX_TEXT_CHARS):
        raise FileRefused(f"an array of {descr!r} values, not numbers or short text")
    return dtype


def _npy_shape(shape) -> tuple:
    if not isinstance(shape, tuple) or len(shape) > 8 or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**48 for n in shape):
        raise FileRefused("an array with a malformed shape")
    return shape


def elements(shape) -> int:
    """The number of values in an array of `shape` (exact, no overflow)."""
    count = 1
    for n in shape:
        count *= int(n)
    return count


def read_npz(source, allowed: Callable[[str, np.dtype, tuple, dict], Optional[str]], keys=None,
             max_bytes: int = 2 * 1024**3, max_members: int = 256) -> dict:
    """Arrays of the `.npz` at `source` (a path or bytes), read only after `allowed` accepts each header.

    `allowed(name, dtype, shape, headers)` returns None to read the member or a
    reason to refuse the file; `headers` maps every member's name to (dtype,
    shape), so a limit may follow another array's size. Members outside `keys`
    (when given) are skipped unread. A file over `max_bytes` or with more than
    `max_members` members is refused first. Raises FileRefused, or one of
    FILE_ERRORS for a damaged archive.
    """
    size = len(source) if isinstance(source, bytes) else os.stat(source).st_size
    if size > max_bytes:
        raise FileRefused(f"it is {size / 1e6:.0f} MB, larger than such a file ever is ({max_bytes / 1e6:.0f} MB)")
    with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
        if len(archive.infolist()) > max_members:
            raise FileRefused(f"it has {len(archive.infolist())} members, more than such a file has")
        members = {info.filename[:-4]: info for info in archive.infolist() if info.filename.endswith(".npy")}
        if keys is not None:
            members = {k: v for k, v in members.items() if k in keys}
        headers = {}
        for name, info in members.items():
            with archive.open(info) as stream:
                headers[name] = npy_header(stream)[:2]
        for name, (dtype, shape) in headers.items():
            reason = allowed(name, dtype, shape, headers)
            if reason:
                raise FileRefused(reason)
            _check_member_size(name, members[name], dtype, shape)
        return {name: _read_member(archive, members[name]) for name in members}


def _check_member_size(name: str, info: zipfile.ZipInfo, dtype: np.dtype, shape: tuple) -> None:
    needed = elements(shape) * dtype.itemsize
    if needed > info.file_size:
        raise FileRefused(f"the array '{name}' is cut short")
    if needed > INFLATION_FLOOR and needed > MAX_INFLATION * info.compress_size:
        raise FileRefused(f"the array '{name}' unpacks to {needed / 1e6:.0f} MB from {info.compress_size} bytes "
                          "(a zip bomb, not a real array)")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(info) as stream:
        dtype, shape, fortran = npy_header(stream)
        count = elements(shape)
        data = stream.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise FileRefused(f"the array '{info.filename}' is cut short")
    array = np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order="F" if fortran else "C")
    if dtype.kind == "U" and not _valid_text(array):
        raise FileRefused(f"the text array '{info.filename}' holds characters that do not exist")
    return array.copy()


def _valid_text(array: np.ndarray) -> bool:
    """Whether every code point of a 'U' array is a Unicode scalar value (no surrogates, <= 0x10FFFF)."""
    points = np.frombuffer(array.tobytes(), dtype=array.dtype.byteorder.replace("|", "=") + "u4")
    return not np.any((points > 0x10FFFF) | ((points >= 0xD800) & (points <= 0xDFFF)))


# ---- json ---------------------------------------------------------------------------------------

def _big_integer(text: str):
    return int(text) if len(text.lstrip("-")) <= MAX_JSON_DIGITS else float(text)


def parse_json(text: str, max_depth: int = MAX_JSON_DEPTH):
    """The JSON value of `text`: long integers read as floats (inf past 1e308), nesting bounded.

    NaN and Infinity come back as floats, for the caller's finite checks to name.
    """
    value = json.loads(text, parse_int=_big_integer)
    check_depth(value, max_depth)
    return value


def check_depth(value, max_depth: int = MAX_JSON_DEPTH) -> None:
    """FileRefused when lists and dicts in `value` nest deeper than `max_depth`."""
    level = [value]
    for _ in range(max_depth + 1):
        level = [v for item in level if isinstance(item, (list, dict))
                 for v in (item.values() if isinstance(item, dict) else item)]
        if not any(isinstance(v, (list, dict)) for v in level):
            return
    raise FileRefused(f"values nested more than {max_depth} deep")


def read_limited(path, limit: int) -> bytes:
    """The bytes of `path`; FileRefused when it is larger than `limit` (checked before reading)."""
    path = Path(path)
    size = path.stat().st_size
    if size > limit:
        raise FileRefused(f"it is {size / 1e6:.0f} MB, larger than such a file ever is ({limit / 1e6:.0f} MB)")
    return path.read_bytes()


# ---- writing ------------------------------------------------------------------------------------

_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask. Linux tells it in /proc without changing it; elsewhere reading it means setting
    it for a moment, under a lock (frame writers run in threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_atomically(path, data: bytes, make_folder: bool = True) -> Path:
    """Write `data` to `path` via a temporary file renamed over it; mode 0666 minus the umask.

    `make_folder`: create missing parent folders first. Raises OSError (with
    its filename) when the folder is missing or cannot be written.
    """
    path = Path(path)
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def os_reason(error: OSError) -> str:
    """A few words for an OSError: its strerror ('No space left on device'), else its text."""
    return error.strerror or str(error) or type(error).__name__
