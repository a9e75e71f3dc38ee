"""The driver interface: every registered driver through one DriveRequest, the declarations callers decide by,
and a registry that looks nothing up (and loads no model) when imported."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import engine.drivers.models as models
from engine.audio import audio_from_array
from engine.drivers.interface import DriveRequest
from engine.drivers.registry import (DRIVER_NAMES, DRIVERS, available_drivers, default_driver, drive, driver_named,
                                     runnable_driver)
from engine.errors import InputError
from engine.motion.channels import POSE_CHANNELS
from engine.style import NEUTRAL, preset

ROOT = Path(__file__).resolve().parents[3]
RATE = 16000


def voice(seconds: float = 1.3) -> object:
    """A vowel-like 140 Hz buzz with harmonics, swelling like two syllables."""
    t = np.arange(int(seconds * RATE)) / RATE
    buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 10))
    return audio_from_array(0.2 * buzz * (0.55 - 0.45 * np.cos(2 * np.pi * t / 0.65)), RATE)


@pytest.fixture(scope="module")
def runs():
    """{name: channels} of every registered driver (all three can run: the ADF network is shipped) on 1.3 s at 24 fps."""
    request = DriveRequest(voice(), 24.0, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neutral style, no transcript: nothing to warn about
        return {name: drive(name, request) for name in DRIVER_NAMES}


@pytest.mark.parametrize("name", DRIVER_NAMES)
def test_every_driver_gives_float32_channels_of_ceil_duration_times_fps(runs, name):
    channels = runs[name]
    assert len(channels) >= 15 and {"jaw_rx", "eyeBlinkLeft", "neck_ry", "eye_left_ry"} <= set(channels)
    assert {n for n in channels if "_r" in n} <= set(POSE_CHANNELS)
    for values in channels.values():
        assert values.dtype == np.float32 and values.shape == (math.ceil(1.3 * 24),) and np.all(np.isfinite(values))
    assert channels["jaw_rx"].max() > 0.02  # the mouth moves with the voice


def test_the_request_gives_the_frames_and_its_seed_repeats_a_performance(runs):
    request = DriveRequest(voice(), 24.0, seed=2)
    assert request.frame_count == 32 and request.frame_times[-1] == pytest.approx(31 / 24)
    again = drive("energy", request)
    assert all(np.array_equal(again[n], runs["energy"][n]) for n in again)


def test_a_transcript_or_style_a_driver_does_not_read_is_a_warning():
    audio = voice(0.5)
    with pytest.warns(UserWarning, match="The energy driver does not read the transcript"):
        drive("energy", DriveRequest(audio, 30.0, transcript="hello there"))
    with pytest.warns(UserWarning, match="The energy driver does not read the speaking style"):
        drive("energy", DriveRequest(audio, 30.0, style=preset("happy")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drive("phonetic", DriveRequest(audio, 30.0, transcript="ah", style=preset("happy")))


def test_the_declarations_say_what_each_driver_reads_and_needs():
    table = {d.name: (d.reads_transcript, d.reads_style, d.reads_reference, d.model) for d in DRIVERS}
    assert table == {"adf": (False, True, True, "adf.onnx"), "phonetic": (True, True, False, None),
                     "energy": (False, False, False, None)}
    assert [d.name for d in DRIVERS if d.reads_reference] == ["adf"]  # "a reference clip needs the ADF driver"
    assert all(d.summary and d.summary[0].isupper() for d in DRIVERS)


def test_unread_names_only_what_was_given_and_is_not_read():
    request = DriveRequest(voice(0.3), 30.0, transcript="hi", style=NEUTRAL)
    assert driver_named("phonetic").unread(request) == []
    assert driver_named("adf").unread(request) == ["The adf driver does not read the transcript; it animates "
                                                    "from the sound alone."]


def test_without_the_model_adf_is_unavailable_and_the_default_follows(monkeypatch, tmp_path):
    assert list(available_drivers()) == ["adf", "phonetic", "energy"]
    assert default_driver() == "adf" and default_driver("the words") == "phonetic"
    monkeypatch.setattr(models, "SHIPPED", tmp_path / "none shipped")
    assert list(available_drivers()) == ["phonetic", "energy"] and default_driver() == "phonetic"
    with pytest.raises(InputError, match="^The adf driver needs its model adf.onnx, which is neither in the models "
                                         "folder nor installed; choose one of: energy, phonetic, or install the model.$"):
        runnable_driver("adf")
    (tmp_path / "adf.onnx").write_bytes(b"")
    assert runnable_driver("adf", tmp_path).name == "adf" and default_driver(models_dir=tmp_path) == "adf"


def test_an_unknown_driver_names_every_registered_one():
    with pytest.raises(InputError, match=r"^Unknown driver 'magic'; choose one of: adf, energy, phonetic\.$"):
        driver_named("magic")


@pytest.mark.parametrize("change,sentence", [
    ({"fps": 0.5}, "The frame rate must be between 1 and 240 fps, not 0.5."),
    ({"fps": float("inf")}, "The frame rate must be between 1 and 240 fps, not inf."),
    ({"fps": "30"}, "The frame rate must be between 1 and 240 fps, not '30'."),
    ({"device": "tpu"}, "Unknown device 'tpu'; choose one of: auto, cpu, gpu."),
    ({"audio": "voice.wav"}, "A driver needs decoded audio, not str; load it first."),
    ({"style": {"smile": 1}}, "The style must be a SpeakingStyle, not dict."),
])
def test_a_bad_request_is_one_sentence(change, sentence):
    values = {"audio": voice(0.2), "fps": 30.0, **change}
    with pytest.raises(InputError) as error:
        DriveRequest(**values)
    assert str(error.value) == sentence


def test_the_request_checks_its_models_folder(tmp_path):
    missing = tmp_path / "gone"
    with pytest.raises(InputError, match="The models folder .* does not exist; choose an existing folder or clear it."):
        DriveRequest(voice(0.2), 30.0, models_dir=missing)
    assert DriveRequest(voice(0.2), 30.0, models_dir=str(tmp_path)).models_dir == tmp_path
    assert DriveRequest(voice(0.2), 30.0, models_dir="", transcript="").models_dir is None


def test_the_registry_looks_nothing_up_and_loads_no_model_when_imported():
    script = ("import sys, json, engine, engine.drivers.registry as r; before = sorted(sys.modules); "
              "r.available_drivers(); print(json.dumps([before, sorted(sys.modules)]))")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr[-2000:]
    before, after = json.loads(run.stdout.strip().splitlines()[-1])
    heavy = {"onnxruntime", "pocketsphinx", "engine.drivers.adf.runtime", "engine.drivers.adf.driver",
             "engine.drivers.phonetic", "engine.drivers.energy"}
    assert not heavy & set(before) and not heavy & set(after)  # asking what can run loads no driver either


def test_each_driver_has_a_menu_title():
    assert [d.title for d in DRIVERS] == ["ADF network", "Phonetic", "Audio energy"]
