"""PNG frame sequences written beside the renderer: every frame there, in order, named from the start frame,
decoding to the very pixels rendered; the fast PNG encoding reads back exactly, here and in Pillow."""

import numpy as np
import pytest

from engine.preview.frames import over_white, write_frames
from engine.preview.png import read_png, write_png
from engine.render.shading import composite_over, to_uint8


def frames(count: int, size=(6, 9)) -> list:
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, size + (4,), dtype=np.uint8) for _ in range(count)]
    images[0][:] = 0  # a fully transparent frame (the background of every look)
    return images


@pytest.mark.parametrize("shape", [(5, 7, 3), (4, 9, 4), (6, 3), (1, 1, 4)])
def test_fast_png_round_trip(tmp_path, shape):
    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    path = write_png(tmp_path / "a.png", image, fast=True)
    np.testing.assert_array_equal(read_png(path), image)


def test_fast_png_decodes_in_pillow(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    image = frames(2, (13, 11))[1]
    path = write_png(tmp_path / "a.png", image, fast=True)
    with image_module.open(path) as opened:
        assert opened.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(opened), image)


@pytest.mark.parametrize("workers", [0, 2])
def test_every_frame_is_written_in_order_with_its_name(tmp_path, workers):
    images = frames(11)
    written = list(write_frames(iter(images), tmp_path, start_frame=98, workers=workers))
    assert [p.name for p, _ in written] == [f"frame_{n:04d}.png" for n in range(98, 109)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p, _ in written]
    for (path, given), image in zip(written, images):
        assert given is image
        np.testing.assert_array_equal(read_png(path), image)


def test_a_writer_error_reaches_the_caller(tmp_path):
    missing = tmp_path / "no such folder"
    with pytest.raises(OSError):
        list(write_frames(iter(frames(3)), missing, start_frame=1))


def test_a_renderer_error_stops_the_writers(tmp_path):
    def failing():
        yield from frames(2)
        raise RuntimeError("the renderer failed")

    with pytest.raises(RuntimeError, match="renderer failed"):
        list(write_frames(failing(), tmp_path, start_frame=1))


def test_over_white_rounds_as_the_float_composite():
    rgba = np.stack(np.meshgrid(np.arange(256), np.arange(256), indexing="ij"), -1).astype(np.uint8)
    rgba = np.concatenate([rgba, rgba[..., :1], rgba[..., 1:]], axis=-1)  # every colour value at every alpha
    expected = to_uint8(composite_over(rgba.astype(np.float32) / 255.0))
    assert np.abs(over_white(rgba).astype(int) - expected).max() <= 1
    assert np.mean(over_white(rgba) == expected) > 0.999
