"""`animate`'s device and models folder: checked, and a models folder's ADF network offered."""

from __future__ import annotations

import numpy as np
import pytest

import engine.drivers.models as models
from engine.animate import animate, available_drivers, check_models_dir
from engine.audio import audio_from_array
from engine.drivers.registry import driver_named
from engine.errors import InputError

VOICE = audio_from_array(0.1 * np.sin(2 * np.pi * 150 * np.arange(8000) / 16000), 16000)


def test_a_models_folder_with_adf_onnx_offers_the_adf_driver(tmp_path, monkeypatch):
    shipped = models.SHIPPED
    monkeypatch.setattr(models, "SHIPPED", tmp_path / "none shipped")
    adf = driver_named("adf")
    assert "adf" not in available_drivers() and "adf" not in available_drivers(tmp_path)
    assert adf.model_path() is None
    (tmp_path / "adf.onnx").write_bytes(b"")  # installed while the program runs: found when next asked
    assert "adf" in available_drivers(tmp_path) and adf.model_path(tmp_path) == tmp_path / "adf.onnx"
    with pytest.raises(InputError, match="The adf driver needs its model adf.onnx, which is neither in the models "
                                         "folder nor installed; choose one of: energy, phonetic, or install"):
        animate(VOICE, driver="adf")
    monkeypatch.setattr(models, "SHIPPED", shipped)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert adf.model_path(empty) == adf.model_path() == shipped / "adf.onnx"  # a folder without it: the shipped one


def test_a_missing_models_folder_and_an_unknown_device_are_sentences(tmp_path):
    missing = tmp_path / "gone"
    sentence = f"The models folder '{missing}' does not exist; choose an existing folder or clear it."
    with pytest.raises(InputError) as error:
        check_models_dir(missing)
    assert str(error.value) == sentence
    with pytest.raises(InputError, match="The models folder .* does not exist"):
        animate(VOICE, driver="energy", models_dir=missing)
    with pytest.raises(InputError, match="Unknown device 'tpu'; choose one of: auto, cpu, gpu."):
        animate(VOICE, driver="energy", device="tpu")
    assert check_models_dir(None) is None and check_models_dir("") is None


def test_devices_are_accepted_by_every_driver():
    for device in ("auto", "cpu", "gpu"):  # drivers without a network ignore it
        assert animate(VOICE, fps=24.0, driver="energy", device=device).num_frames == 12
