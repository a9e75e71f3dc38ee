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


def test_a_frame_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """A failed write (full disk, killed render) leaves the earlier frame and no temporary file."""
    import engine.files

    path = tmp_path / "frame_0001.png"
    before = np.zeros((4, 4, 3), np.uint8)
    write_png(path, before)

    def full_disk(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine.files.os, "replace", full_disk)
    with pytest.raises(OSError):
        write_png(path, np.full((4, 4, 3), 200, np.uint8), fast=True)
    np.testing.assert_array_equal(read_png(path), before)
    assert [p.name for p in tmp_path.iterdir()] == ["frame_0001.png"]


def test_frames_keep_the_users_permissions(tmp_path):
    import os
    import stat

    old = os.umask(0o027)
    try:
        write_png(tmp_path / "f.png", np.zeros((2, 2, 4), np.uint8), fast=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.png").stat().st_mode) == 0o640
