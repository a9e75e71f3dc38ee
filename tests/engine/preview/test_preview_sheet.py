"""Contact sheet layout, labels and channel plots."""

import numpy as np
import pytest

from engine.errors import InputError
from engine.preview.font import text_mask
from engine.preview.plot import channel_plot, main_channels
from engine.preview.sheet import PADDING, cell_origin, contact_sheet


def _frames(n, h=20, w=30):
    frames = np.zeros((n, h, w, 4), np.float32)
    for i in range(n):
        frames[i, ..., 0] = i / n
        frames[i, ..., 3] = 1.0
    return frames


def test_contact_sheet_layout_without_labels():
    frames = _frames(5)
    sheet = contact_sheet(frames, columns=3)
    assert sheet.dtype == np.uint8
    assert sheet.shape == (2 * 20 + 3 * PADDING, 3 * 30 + 4 * PADDING, 3)
    for i in range(5):
        y, x = cell_origin(i, 3, 20, 30)
        assert np.all(sheet[y:y + 20, x:x + 30, 0] == round(255 * i / 5))
    assert np.all(sheet[0, 0] == sheet[-1, -1])  # light background in the corners
    assert sheet[-1, -1].min() > 200


def test_contact_sheet_labels_and_transparency():
    frames = _frames(4)
    frames[1, :, :, 3] = 0.0  # a fully transparent frame shows the background
    sheet = contact_sheet(frames, labels=["a", "b", "c", "d"], columns=2)
    label_h = 7 + PADDING
    assert sheet.shape == (2 * (20 + label_h) + 3 * PADDING, 2 * 30 + 3 * PADDING, 3)
    y, x = cell_origin(1, 2, 20 + label_h, 30)
    assert np.all(sheet[y:y + 20, x:x + 30] == sheet[0, 0])
    label = sheet[y + 20:y + 20 + label_h, x:x + 30]
    assert (label.min(axis=-1) < 100).sum() == text_mask("b").sum()
    with pytest.raises(InputError):
        contact_sheet(frames, labels=["only one"])


def test_text_mask_shape():
    assert text_mask("AB1", scale=2).shape == (14, 36)


def test_channel_plot_draws_the_moving_channels():
    t = np.linspace(0, 1, 30)
    values = np.stack([np.sin(6 * t), np.zeros(30), 0.1 * t], axis=1)
    assert main_channels(["a", "b", "c"], values) == [0, 2]
    image = channel_plot(["a", "b", "c"], values, fps=30, size=(320, 200), title="test")
    assert image.shape == (200, 320, 3) and image.dtype == np.uint8
    assert image.std() > 5
    with pytest.raises(InputError):
        channel_plot(["a", "b", "c"], values, fps=30, channels=["nope"])
