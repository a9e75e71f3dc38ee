"""PNG files with nothing but zlib and struct (8-bit grey, RGB and RGBA).

`write_png` uses the "up" row filter for every row at zlib level 6, or (fast,
for frame sequences) the "sub" filter and zlib's run-length strategy at level 1:
on the looks' frames (flat backgrounds, shaded bands) about 8x less CPU and a
smaller file. `read_png` reads the PNGs it writes and any 8-bit, non-interlaced
PNG that uses the none, sub or up filters.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import EngineError, InputError
from ..files import write_atomically

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type
CHANNELS = {v: k for k, v in COLOR_TYPES.items()}
FILTER_SUB, FILTER_UP = 1, 2


def write_png(path, image: np.ndarray, compression: int = 6, fast: bool = False) -> Path:
    """Write a uint8 image [H, W], [H, W, 3] (RGB) or [H, W, 4] (RGBA) as a PNG file.

    fast: the sub filter and run-length deflate at level 1 (`compression` unused), for frame sequences.
    Written atomically: a killed render or a full disk leaves the earlier file, never half a PNG."""
    return write_atomically(path, encode_png(image, compression, fast), make_folder=False)


def encode_png(image: np.ndarray, compression: int = 6, fast: bool = False) -> bytes:
    """The PNG file's bytes of a uint8 image [H, W], [H, W, C] (see `write_png`)."""
    image = _checked_image(image)
    height, width, channels = image.shape
    rows = image.reshape(height, width * channels)
    filtered = rows.copy()  # uint8 arithmetic wraps modulo 256, as PNG wants
    if fast:
        filtered[:, channels:] = rows[:, channels:] - rows[:, :-channels]
        deflate = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    else:
        filtered[1:] = rows[1:] - rows[:-1]
        deflate = zlib.compressobj(compression)
    raw = np.concatenate([np.full((height, 1), FILTER_SUB if fast else FILTER_UP, np.uint8), filtered], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, COLOR_TYPES[channels], 0, 0, 0)
    idat = deflate.compress(raw.tobytes()) + deflate.flush()
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def read_png(path) -> np.ndarray:
    """Read an 8-bit PNG -> uint8 [H, W] (grey), [H, W, 3] (RGB) or [H, W, 4] (RGBA)."""
    data = Path(path).read_bytes()
    if not data.startswith(SIGNATURE):
        raise InputError(f"The file {path} is not a PNG image.")
    header, idat = _parse_chunks(data, path)
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or color_type not in CHANNELS or interlace:
        raise EngineError(f"The PNG {path} is not an 8-bit grey, RGB or RGBA non-interlaced image.")
    channels = CHANNELS[color_type]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    pixels = _unfilter(raw[:, 0], raw[:, 1:].copy(), channels, path)
    image = pixels.reshape(height, width, channels)
    return image[..., 0] if channels == 1 else image


def _checked_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise InputError(f"A PNG image must be uint8, not {image.dtype}.")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] not in COLOR_TYPES or 0 in image.shape[:2]:
        raise InputError(f"A PNG image must be [H, W], [H, W, 3] or [H, W, 4], not {image.shape}.")
    return np.ascontiguousarray(image)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _parse_chunks(data: bytes, path):
    """The IHDR payload and the joined IDAT payloads of a PNG file."""
    pos, header, idat = len(SIGNATURE), None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        payload = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = payload
        elif kind == b"IDAT":
            idat.append(payload)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        raise InputError(f"The PNG {path} is truncated or corrupt.")
    return header, b"".join(idat)


def _unfilter(filters: np.ndarray, rows: np.ndarray, channels: int, path) -> np.ndarray:
    """Undo the none (0), sub (1) and up (2) row filters; rows [H, W * C] uint8."""
    if np.any(filters > FILTER_UP):
        raise EngineError(f"The PNG {path} uses average or Paeth filters, which read_png does not support.")
    if np.all(filters == FILTER_SUB):  # every row sub-filtered (write_png's fast frames): all rows at once
        pixels = rows.reshape(rows.shape[0], -1, channels)
        return np.cumsum(pixels, axis=1, dtype=np.uint64).astype(np.uint8).reshape(rows.shape)
    for i, kind in enumerate(filters):
        if kind == FILTER_SUB:
            pixels = rows[i].reshape(-1, channels)
            rows[i] = np.cumsum(pixels, axis=0, dtype=np.uint64).astype(np.uint8).ravel()
        elif kind == FILTER_UP and i > 0:
            rows[i] = rows[i] + rows[i - 1]
    return rows
