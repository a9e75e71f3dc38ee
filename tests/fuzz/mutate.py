"""Mutations of valid files: bytes, numbers in text, and the members of zip (npz) archives.

`mutate(data, ops)` applies each (op name, parameter) in turn; the parameter
seeds that op's choices, so a case is reproducible from its ops alone.
"""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
import zlib

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x3FFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
               2**63 - 1, 2**64 - 1]
NUMBERS = [b"0", b"-1", b"1e308", b"-1e308", b"nan", b"inf", b"1e-320", b"99999999999999999999", b"1" * 400,
           b"-0", b"4294967295", b"1e30", b"0.5"]
MAX_UNZIPPED = 16 * 1024**2
_DIGITS = re.compile(rb"-?\d+(\.\d+)?(e-?\d+)?")


TEXT_BYTES = b"0123456789.-+eE,:;[]{}\"' \n\tNaInfty"


def flip(data: bytes, rng: random.Random) -> bytes:
    """Set one to four bytes; in a text file, mostly to characters its syntax uses."""
    out, text = bytearray(data), data[:64].isascii()
    for _ in range(rng.randint(1, 4)):
        if out:
            value = rng.choice(TEXT_BYTES) if text and rng.random() < 0.8 else rng.randrange(256)
            out[rng.randrange(len(out))] = value
    return bytes(out)


def interesting(data: bytes, rng: random.Random) -> bytes:
    width = rng.choice((1, 2, 4, 8))
    value = rng.choice(INTERESTING) & (2 ** (8 * width) - 1)
    at = rng.randrange(max(1, len(data) - width))
    return data[:at] + value.to_bytes(width, rng.choice(("little", "big"))) + data[at + width:]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(max(1, len(data)))]


def splice(data: bytes, rng: random.Random) -> bytes:
    """Delete, duplicate or insert a run of bytes."""
    if not data:
        return bytes(rng.randrange(256) for _ in range(8))
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.randint(1, 64))
    kind = rng.randrange(3)
    if kind == 0:
        return data[:a] + data[b:]
    if kind == 1:
        return data[:b] + data[a:b] * rng.randint(1, 8) + data[b:]
    return data[:a] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + data[a:]


def numbers(data: bytes, rng: random.Random) -> bytes:
    """Replace a number written as text (CSV, JSON, npy headers, pickle text) with an extreme one."""
    found = list(_DIGITS.finditer(data[:200_000]))
    if not found:
        return flip(data, rng)
    match = rng.choice(found)
    return data[:match.start()] + rng.choice(NUMBERS) + data[match.end():]


def nest(data: bytes, rng: random.Random) -> bytes:
    """Wrap a JSON-looking or CSV-looking file's first value in deep nesting, or repeat a line many times."""
    depth = rng.choice((40, 200, 5000))
    if data[:1] == b"{":
        return b'{"deep": ' + b"[" * depth + b"1" + b"]" * depth + b", " + data[1:]
    if data[:1] == b"[":
        return b"[" * depth + data + b"]" * depth
    lines = data.split(b"\n")
    if len(lines) > 2:
        k = rng.randrange(1, len(lines) - 1)
        return b"\n".join(lines[:k] + [lines[k]] * rng.choice((2, 50)) + lines[k:])
    return splice(data, rng)


def zip_member(data: bytes, rng: random.Random) -> bytes:
    """Mutate one member of a zip (its npy header or data) and re-zip with correct CRCs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:  # a zip bomb: keep it whole
                return flip(data, rng)
            members = [(info, archive.read(info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, struct.error, NotImplementedError, zlib.error):
        return flip(data, rng)
    if not members:
        return data
    k = rng.randrange(len(members))
    info, body = members[k]
    head, tail = body[:128], body[128:]
    if rng.random() < 0.5 or not tail:  # the npy header: dtype, shape, order
        mutated = rng.choice((numbers, flip, interesting, splice))(head, rng) + tail
    else:  # the values: NaN, huge or odd bit patterns, in place
        mutated = head + rng.choice((flip, interesting))(tail, rng)
    members[k] = (info, mutated)
    out = io.BytesIO()
    compression = rng.choice((zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED))
    with zipfile.ZipFile(out, "w", compression) as archive:
        for info, body in members:
            archive.writestr(info.filename, body)
    return out.getvalue()


TOKENS = [b"f8", b"f4", b"i8", b"u4", b"b1", b"O8", b"V8", b"U5", b"S3", b"<", b">", b"|", b"True", b"False",
          b"'descr'", b"'shape'", b"(", b")", b"ndarray", b"dtype", b"_reconstruct", b"Ch", b"csc_matrix"]


def tokens(data: bytes, rng: random.Random) -> bytes:
    """Swap one token a pickle or npy header names (a dtype code, byte order, class) for another."""
    present = [t for t in TOKENS if t in data[:500_000]]
    if not present:
        return flip(data, rng)
    token = rng.choice(present)
    starts = [m.start() for m in re.finditer(re.escape(token), data[:500_000])]
    at = rng.choice(starts)
    return data[:at] + rng.choice(TOKENS) + data[at + len(token):]


OPS = {"tokens": tokens, "flip": flip, "interesting": interesting, "truncate": truncate, "splice": splice, "numbers": numbers,
       "nest": nest, "zip_member": zip_member}


def mutate(data: bytes, ops) -> bytes:
    """`data` after each (op name, parameter) of `ops`."""
    for name, parameter in ops:
        data = OPS[name](data, random.Random(parameter))
    return data


def random_ops(rng: random.Random, zipped: bool) -> list:
    """One to three ops; an archive's members mostly (its raw bytes only fail its CRCs)."""
    names = ["zip_member"] if zipped and rng.random() < 0.8 else list(OPS)
    return [(rng.choice(names), rng.randrange(2**32)) for _ in range(rng.randint(1, 3))]
