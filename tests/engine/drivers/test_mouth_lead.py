"""The mouth lead: the ADF and phonetic drivers move the jaw and lips (only) `lead_ms` before the sound,
by the right number of frames at the clip's rate, pad the ends sensibly, and refuse bad values in a sentence."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from engine.animate import animate
from engine.audio import audio_from_array
from engine.audio.features import features_of
from engine.drivers.adf.channels import LIP_OUTPUTS
from engine.drivers.adf.driver import adf_channels
from engine.drivers.interface import DriveRequest
from engine.drivers.phonetic import Phone
from engine.drivers.phonetic.performance import PROSODY_FEATURES, performance_channels
from engine.drivers.phonetic.visemes import MOUTH_CHANNELS, lip_gap_mm
from engine.drivers.registry import drive, driver_named
from engine.errors import InputError
from engine.jobs import AnimateJob

RATE = 16000


def voice(seconds: float = 1.6):
    t = np.arange(int(seconds * RATE)) / RATE
    buzz = sum(np.sin(2 * np.pi * 130 * k * t) / k for k in range(1, 9))
    return audio_from_array(0.2 * buzz * (0.55 - 0.45 * np.cos(2 * np.pi * t / 0.4)), RATE)


# phone edges off every frame grid used here, so a shifted frame time never lands on an edge
PHONES = [Phone("SIL", 0.0, 0.213), Phone("M", 0.213, 0.291), Phone("AA", 0.291, 0.517), Phone("P", 0.517, 0.601),
          Phone("UW", 0.601, 0.843), Phone("SIL", 0.843, 1.6)]


@pytest.mark.parametrize("fps, lead_ms, frames", [(25.0, 80.0, 2), (30.0, 100.0, 3)])
def test_adf_moves_only_the_mouth_earlier_by_whole_frames(fps, lead_ms, frames):
    audio = voice()
    on, ahead = adf_channels(audio, fps, seed=3), adf_channels(audio, fps, seed=3, lead_s=lead_ms / 1000.0)
    moved = [n for n in on if not np.array_equal(on[n], ahead[n])]
    assert moved and set(moved) <= set(LIP_OUTPUTS)            # brows, smile, head, blinks, gaze stay
    T = on["jaw_rx"].size
    at_end = adf_channels(audio, fps, seed=3, lead_s=audio.duration - (T - 1) / fps)  # last frame: the sound's end
    for name in LIP_OUTPUTS:
        np.testing.assert_allclose(ahead[name][:-frames], on[name][frames:], atol=1e-5)
        # past the end of the sound the mouth holds the one it had there (no wrap, nothing from the padding)
        np.testing.assert_allclose(ahead[name][-frames:], at_end[name][-1], atol=1e-6)


def test_phonetic_anticipates_every_phone_closures_included():
    audio, fps, frames = voice(), 30.0, 3
    features = features_of(audio, PROSODY_FEATURES)
    on = performance_channels(PHONES, features, audio.duration, fps, seed=1)
    ahead = performance_channels(PHONES, features, audio.duration, fps, seed=1, lead_s=0.1)
    assert {n for n in on if not np.array_equal(on[n], ahead[n])} <= set(MOUTH_CHANNELS)
    for name in ("jaw_rx", "mouthClose", "mouthFunnel", "mouthPucker"):
        np.testing.assert_allclose(ahead[name][:-frames], on[name][frames:], atol=1e-6)
    closed_on, closed_ahead = lip_gap_mm(on) <= 0.0, lip_gap_mm(ahead) <= 0.0   # the m's and p's closures
    assert closed_on.sum() >= 2 and np.array_equal(closed_ahead[:-frames], closed_on[frames:])
    assert np.argmax(closed_ahead) == np.argmax(closed_on) - frames
    for name in MOUTH_CHANNELS:             # the last frames rest as the silence after the sound does
        assert abs(ahead[name][-frames:]).max() < 0.01 and abs(on[name][-1]) < 0.01


def test_the_registry_gives_each_driver_its_default_lead_and_warns_where_none_is_read():
    request = DriveRequest(voice(0.8), 25.0, seed=2)
    adf = driver_named("adf")
    default = drive("adf", request)
    explicit = drive("adf", DriveRequest(voice(0.8), 25.0, seed=2, lead_ms=adf.lead_ms))
    for name in default:
        np.testing.assert_array_equal(default[name], explicit[name])
    assert driver_named("phonetic").reads_lead and not driver_named("energy").reads_lead
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drive("energy", DriveRequest(voice(0.8), 25.0, lead_ms=60))
    assert any("does not read a mouth lead" in str(w.message) for w in caught)


@pytest.mark.parametrize("bad", [400, -251, float("nan"), float("inf"), "80", True])
def test_bad_leads_are_one_sentence(bad):
    with pytest.raises(InputError, match=r"^The mouth lead must be a number of milliseconds from -250 to 250, not "):
        DriveRequest(voice(0.3), 30.0, lead_ms=bad)


def test_the_job_and_the_cli_refuse_a_bad_lead_and_the_clip_records_a_good_one(tmp_path):
    with pytest.raises(InputError, match="mouth lead"):
        AnimateJob(audio="voice.wav", lead_ms=1000.0).validate()
    job = AnimateJob(audio="voice.wav", lead_ms=60)
    assert AnimateJob.from_json(job.to_json()) == job and job.lead_ms == 60.0
    run = subprocess.run([sys.executable, "-m", "engine", "animate", "voice.wav", "-o", str(tmp_path / "a.npz"),
                          "--lead-ms", "999"], capture_output=True, text=True)
    assert run.returncode == 2 and "The mouth lead must be a number of milliseconds from -250 to 250" in run.stderr
    assert animate(voice(0.5), fps=25.0, driver="adf", lead_ms=40).metadata["lead_ms"] == 40.0
    assert animate(voice(0.5), fps=25.0, driver="adf").metadata["lead_ms"] == driver_named("adf").lead_ms
    assert "lead_ms" not in animate(voice(0.5), fps=25.0, driver="energy").metadata
