"""PNG files written with zlib + struct read back exactly."""

import zlib

import numpy as np
import pytest

from engine.errors import InputError
from engine.preview.png import read_png, write_png


@pytest.mark.parametrize("shape", [(5, 7, 3), (4, 9, 4), (6, 3)])
def test_png_round_trip(tmp_path, shape):
    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    path = write_png(tmp_path / "a.png", image)
    np.testing.assert_array_equal(read_png(path), image)


def test_png_file_structure(tmp_path):
    data = write_png(tmp_path / "b.png", np.zeros((2, 3, 4), np.uint8)).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR" and data[-8:-4] == b"IEND"
    crc = int.from_bytes(data[29:33], "big")
    assert crc == zlib.crc32(data[12:29]) & 0xFFFFFFFF


def test_png_rejects_float_images(tmp_path):
    with pytest.raises(InputError):
        write_png(tmp_path / "c.png", np.zeros((2, 2, 3), np.float32))
    (tmp_path / "d.png").write_bytes(b"not a png")
    with pytest.raises(InputError):
        read_png(tmp_path / "d.png")
