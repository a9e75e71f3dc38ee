"""The animate job: its JSON form refuses what it cannot read; validate() holds the rules; run() resolves the
style once and writes every output (the JSON round trip of any job: test_job_json_roundtrip.py)."""

from __future__ import annotations

import json
import wave

import numpy as np
import pytest

from engine.errors import AudioError, InputError
from engine.jobs import KINDS, AnimateJob, InvalidJob, from_json, run
from engine.jobs.animate import resolve_style
from engine.jobs.rules import REFERENCE_NEEDS_ADF
from engine.motion import MotionClip



def write_voice(folder, seconds=1.0, rate=16000):
    """A 150 Hz tone pulsing 3 times a second, 16-bit mono WAV."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0) * 32767).astype("<i2")
    path = folder / "voice.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def test_json_is_versioned_and_plain():
    data = AnimateJob(audio="v.wav", style_items=("happy",), outputs=("c.npz",)).to_json()
    assert data["kind"] == "animate" and data["version"] == 1
    assert data["style_items"] == ["happy"] and data["outputs"] == ["c.npz"] and data["fps"] == 30.0


@pytest.mark.parametrize("data,sentence", [
    ({"kind": "animate", "audio": "v.wav"}, 'The animate job has no version; write "version": 1.'),
    ({"kind": "animate", "version": 2, "audio": "v.wav"},
     "The animate job is of version 2, newer than this engine reads (1); update the engine."),
    ({"kind": "animate", "version": "1", "audio": "v.wav"},
     "The animate job's version must be a whole number from 1, not '1'."),
    ({"kind": "animate", "version": 1}, "The animate job lacks its field(s) audio."),
    ({"kind": "animate", "version": 1, "audio": "v.wav", "speed": 2},
     "The animate job has unknown field(s) speed; known: audio, fps, driver, seed, start_frame, transcript, "
     "style, style_items, style_clip, tracker_python, device, models_dir, outputs, lead_ms."),
    ({"kind": "animate", "version": 1, "audio": "v.wav", "fps": "30"},
     "The animate job's field 'fps' must be a number, not '30'."),
    ({"kind": "animate", "version": 1, "audio": "v.wav", "seed": True},
     "The animate job's field 'seed' must be a whole number, not True."),
    ({"kind": "animate", "version": 1, "audio": "v.wav", "outputs": "c.npz"},
     "The animate job's field 'outputs' must be a list of text, not 'c.npz'."),
    ({"kind": "dance", "version": 1}, f"Unknown job kind 'dance'; choose one of: {', '.join(sorted(KINDS))}."),
    ([1, 2], "A job must be a JSON object, not list."),
])
def test_what_is_not_a_job_is_one_sentence(data, sentence):
    with pytest.raises(InvalidJob) as error:
        from_json(json.dumps(data))
    assert str(error.value) == sentence and isinstance(error.value, InputError)


def test_a_job_of_another_kind_is_refused_by_the_animate_class():
    with pytest.raises(InvalidJob, match=r"^The job's kind is 'track', not 'animate'\.$"):
        AnimateJob.from_json({"kind": "track", "version": 1, "video": "v.mp4"})


def test_constructing_a_mistyped_job_is_refused():
    with pytest.raises(InvalidJob, match="field 'start_frame' must be a whole number"):
        AnimateJob(audio="v.wav", start_frame=1.5)


@pytest.fixture
def voice(tmp_path):
    return str(write_voice(tmp_path))


@pytest.mark.parametrize("changes,sentence", [
    ({"fps": 0.5}, "The frame rate must be between 1 and 240 fps, not 0.5."),
    ({"fps": float("nan")}, "The frame rate must be between 1 and 240 fps, not nan."),
    ({"seed": -1}, "The seed must be a whole number from 0 to 4294967295, not -1."),
    ({"start_frame": 10**9}, "The start frame must be from -100000000 to 100000000, not 1000000000."),
    ({"device": "tpu"}, "Unknown device 'tpu'; choose one of: auto, cpu, gpu."),
    ({"driver": "puppet"}, "Unknown driver 'puppet'; choose one of:"),
    ({"transcript": "  "}, "The transcript is empty; give the words spoken, or leave it out."),
    ({"style_items": ("grin=1",)}, "Unknown style parameter 'grin'"),
    ({"style": {"smile": 5.0}}, "Style parameter 'smile' must be between -1.0 and 1.0, not 5.0."),
    ({"outputs": ("clip.txt",)}, "The output 'clip.txt' must end in .npz, .json or .csv."),
    ({"style_clip": "ref.npz", "driver": "energy"}, REFERENCE_NEEDS_ADF),
    ({"style_clip": "ref.npz", "driver": "phonetic"}, REFERENCE_NEEDS_ADF),
])
def test_validate_holds_each_rule(voice, changes, sentence):
    job = AnimateJob(audio=voice, **changes)
    with pytest.raises(InputError) as error:
        job.validate()
    assert str(error.value).startswith(sentence)


def test_missing_models_folder_and_audio(tmp_path, voice):
    with pytest.raises(InputError, match="The models folder '.*nope' does not exist"):
        AnimateJob(audio=voice, models_dir=str(tmp_path / "nope")).validate()
    with pytest.raises(AudioError, match=r"^The audio file '.*gone.wav' does not exist\.$"):
        AnimateJob(audio=str(tmp_path / "gone.wav"), driver="energy").validate()


def test_the_driver_chosen_when_none_is_named():
    assert AnimateJob(audio="v.wav", transcript="hello").chosen_driver() == "phonetic"
    assert AnimateJob(audio="v.wav", style_clip="ref.npz", transcript="hi").chosen_driver() == "adf"
    assert AnimateJob(audio="v.wav", driver="energy", transcript="hi").chosen_driver() == "energy"


def test_style_is_the_base_then_the_items_in_order():
    job = AnimateJob(audio="v.wav", style={"smile": -0.5, "brow": 0.4}, style_items=("brow=0.1",))
    style = resolve_style(job)
    assert style.smile == -0.5 and style.brow == 0.1
    assert resolve_style(AnimateJob(audio="v.wav", style_items=("happy", "smile=0.2"))).articulation == 1.15


def test_run_writes_every_output_with_the_resolved_style(tmp_path, voice):
    outputs = (str(tmp_path / "a" / "clip.npz"), str(tmp_path / "clip.csv"))
    job = AnimateJob(audio=voice, fps=24, driver="energy", start_frame=5, style_items=("happy", "smile=0.2"),
                     outputs=outputs)
    result = run(job)
    assert result.written == tuple(map(type(result.path), outputs)) and result.path == result.written[0]
    saved = MotionClip.load(outputs[0])
    assert saved == result.clip and saved.num_frames == 24 and saved.start_frame == 5
    assert saved.metadata["style"]["smile"] == 0.2 and saved.metadata["style"]["articulation"] == 1.15
    assert open(outputs[1]).read().startswith("Timecode,BlendShapeCount")


def test_run_validates_first_and_writes_nothing(tmp_path, voice):
    out = tmp_path / "clip.npz"
    with pytest.raises(InputError, match="frame rate"):
        run(AnimateJob(audio=voice, fps=500, driver="energy", outputs=(str(out),)))
    assert not out.exists()
