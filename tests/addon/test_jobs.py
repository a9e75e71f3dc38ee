"""The engine runs in a child process: progress, a complete clip, sentences for failures and crashes,
a quick cancel; in Blender, keys only after a complete clip and an untouched scene otherwise."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from addon_fixtures import tiny_head, write_voice

bpy = pytest.importorskip("bpy")

CRASH_MESSAGE = "The animation engine stopped unexpectedly (exit code 3); your scene is unchanged."


def start_job(audio, **spec):
    from addon.engine_link import jobs

    return jobs.Job(jobs.AnimateJob(audio=str(audio), fps=spec.pop("fps", 24.0), driver="energy", **spec)).start()


def poll_until(job, predicate, timeout=60.0):
    """Poll like the modal operator's timer until `predicate(job, events)`; returns the events seen."""
    events, deadline = [], time.monotonic() + timeout
    while not predicate(job, events):
        assert time.monotonic() < deadline, "the job did not get there in time"
        events += job.poll()
        time.sleep(0.02)
    return events


def test_job_gives_a_complete_clip_and_progress(tmp_path):
    job = start_job(write_voice(tmp_path), start_frame=5)
    events = poll_until(job, lambda j, _: j.finished)
    assert job.failure is None and job.returncode == 0
    assert job.clip.num_frames == 24 and job.clip.start_frame == 5 and "jaw_rx" in job.clip.names
    decoding = [e for e in events if e.stage == "decoding audio"]
    assert decoding and decoding[-1].done == decoding[-1].total == 16000
    assert events[-1].stage == "writing the clip" and events[-1].fraction == 1.0
    assert not job._folder.exists()  # the child's files are gone once the clip is loaded


def test_bad_audio_gives_the_engines_sentence_and_kind(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    job = start_job(bad)
    assert job.wait(timeout=60)
    assert job.clip is None and job.failure.kind == "AudioError"
    assert "is not audio: it is a PNG image" in job.failure.message


def test_cancel_stops_the_child_quickly_and_leaves_no_result(tmp_path, monkeypatch):
    from addon.engine_link import jobs, worker

    monkeypatch.setenv(worker.TEST_HOOK, "hang:60")
    job = start_job(write_voice(tmp_path))
    poll_until(job, lambda j, _: j.latest is not None and j.latest.stage == "testing")
    started = time.monotonic()
    job.cancel()
    assert time.monotonic() - started < jobs.CANCEL_GRACE_S + 1.0
    assert job.finished and job.clip is None and job.failure is jobs.CANCELLED
    assert job.returncode != 0 and not job._folder.exists()


def test_a_crashing_child_is_reported_as_a_sentence(tmp_path, monkeypatch):
    from addon.engine_link import worker

    monkeypatch.setenv(worker.TEST_HOOK, "crash:3")
    job = start_job(write_voice(tmp_path))
    assert job.wait(timeout=60)
    assert job.clip is None and job.returncode == 3
    assert job.failure.message == CRASH_MESSAGE and job.failure.kind == "Crash"


def test_crash_message_names_a_signal():
    from addon.engine_link.jobs import crash_message

    assert crash_message(-11) == ("The animation engine stopped unexpectedly (signal SIGSEGV); "
                                  "your scene is unchanged.")


def test_an_interpreter_that_cannot_start_is_a_sentence(tmp_path):
    from addon.engine_link import jobs

    job = jobs.Job(jobs.AnimateJob(audio=str(tmp_path / "v.wav"), fps=24.0), python=str(tmp_path / "no-python"))
    with pytest.raises(jobs.JobError, match=r"^The animation engine could not start \(.+\); reinstall"):
        job.start()


def test_the_child_exits_when_its_parent_goes(tmp_path, monkeypatch):
    from addon.engine_link import jobs, worker

    monkeypatch.setenv(worker.TEST_HOOK, "hang:60")
    child = subprocess.Popen([sys.executable, str(jobs.WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    job = jobs.AnimateJob(audio="x.wav", fps=24, driver="energy", outputs=(str(tmp_path / "c.npz"),))
    launch = {"job": job.to_json(), "engine_dir": str(jobs.engine_dir()), "sys_path": sys.path}
    child.stdin.write(json.dumps(launch) + "\n")
    child.stdin.flush()
    assert json.loads(child.stdout.readline())["stage"] == "testing"  # stdout carries only the protocol
    child.stdin.close()  # what the operating system does when Blender dies
    assert child.wait(timeout=10) == worker.EXIT_PARENT_GONE


# -- in Blender ---------------------------------------------------------------------------------

class LayoutRecorder:
    """Stands in for a UILayout (there is none headless): records what a draw function asks for."""

    def __init__(self):
        self.calls = []

    def row(self, **_):
        return self

    def progress(self, **options):
        self.calls.append(("progress", options))

    def operator(self, idname, **_):
        self.calls.append(("operator", idname))


def tiny_scene(context, tmp_path, artist_key=False):
    """The tiny head as the target of a 1 s voice, energy driver; optionally with an artist's key."""
    from addon.blender import head_object

    mesh_obj, rig = head_object.add_head(context, tiny_head())
    settings = context.scene.talking_head
    settings.target, settings.driver = mesh_obj, "energy"
    settings.audio_path = str(write_voice(tmp_path))
    if artist_key:
        mesh_obj.data.shape_keys.key_blocks["mouthClose"].keyframe_insert("value", frame=3)
    return mesh_obj, rig


def scene_state(context, mesh_obj, rig) -> dict:
    """Everything a failed job must leave as it was: Actions, assignments, keys, frame range, strips."""
    key = mesh_obj.data.shape_keys
    editor = context.scene.sequence_editor
    return {"actions": sorted(a.name for a in bpy.data.actions),
            "key_action": key.animation_data.action.name if key.animation_data else None,
            "rig_action": rig.animation_data.action.name if rig.animation_data else None,
            "frames": (context.scene.frame_start, context.scene.frame_end),
            "strips": 0 if editor is None else len(editor.strips)}


def jaw_keys(rig) -> np.ndarray:
    from addon.blender.action_compat import fcurves_of

    fcurve = next(fc for fc in fcurves_of(rig.animation_data.action)
                  if fc.data_path == 'pose.bones["jaw"].rotation_quaternion' and fc.array_index == 0)
    return np.array([tuple(k.co) for k in fcurve.keyframe_points])


def test_animate_in_background_waits_for_the_job_and_keys(blender, tmp_path):
    from addon.ops import operators

    _, rig = tiny_scene(blender, tmp_path)
    assert bpy.ops.talking_head.animate() == {'FINISHED'}
    np.testing.assert_array_equal(jaw_keys(rig)[:, 0], np.arange(1, 25))
    assert blender.scene.talking_head.status.startswith("Keyed ")
    assert " over frames 1-24 from voice.wav" in blender.scene.talking_head.status
    assert operators.running(blender.scene) is None and bpy.ops.talking_head.animate.poll()


def test_a_crashing_engine_leaves_the_scene_unchanged(blender, tmp_path, monkeypatch):
    from addon.ops import operators
    from addon.engine_link import worker

    mesh_obj, rig = tiny_scene(blender, tmp_path, artist_key=True)
    before = scene_state(blender, mesh_obj, rig)
    monkeypatch.setenv(worker.TEST_HOOK, "crash:3")
    with pytest.raises(RuntimeError, match=r"stopped unexpectedly \(exit code 3\); your scene is unchanged"):
        bpy.ops.talking_head.animate()
    assert scene_state(blender, mesh_obj, rig) == before
    assert operators.last_failure(blender.scene) == CRASH_MESSAGE
    assert operators.running(blender.scene) is None


def test_the_timer_path_shows_progress_then_keys(blender, tmp_path):
    """What the modal operator does on each timer tick, driven by hand (no window events headless)."""
    from addon.ops import operators

    _, rig = tiny_scene(blender, tmp_path)
    run = operators.AnimateRun.start(blender)
    assert not bpy.ops.talking_head.animate.poll()  # one job per scene
    texts = []
    while not run.tick(blender):
        texts.append(operators.progress_text(run.job))
        time.sleep(0.02)
    assert all(t == "Starting the engine" or re.fullmatch(r"[A-Z][a-z ]+ \d+%", t) for t in texts), texts
    reports = []
    assert run.finish(blender, lambda level, text: reports.append((level, text))) == {'FINISHED'}
    assert reports == [({'WARNING'}, blender.scene.talking_head.status)]  # the tiny head lacks most channels
    assert len(jaw_keys(rig)) == 24 and bpy.ops.talking_head.animate.poll()


def test_cancel_button_stops_the_job_and_writes_nothing(blender, tmp_path, monkeypatch):
    from addon.engine_link import jobs, worker
    from addon.ops import operators
    from addon.ui import panel

    mesh_obj, rig = tiny_scene(blender, tmp_path, artist_key=True)
    before = scene_state(blender, mesh_obj, rig)
    monkeypatch.setenv(worker.TEST_HOOK, "hang:60")
    run = operators.AnimateRun.start(blender)
    while run.job.latest is None:
        assert not run.tick(blender)
        time.sleep(0.02)
    assert operators.progress_text(run.job) == "Testing 0%"
    layout = LayoutRecorder()
    panel.draw_animate(layout, blender.scene)
    assert layout.calls == [("progress", {"factor": 0.0, "type": 'BAR', "text": "Testing 0%"}),
                            ("operator", "talking_head.cancel_animate")]
    assert bpy.ops.talking_head.cancel_animate() == {'FINISHED'}
    assert run.tick(blender)
    reports = []
    assert run.finish(blender, lambda level, text: reports.append((level, text))) == {'CANCELLED'}
    assert reports == [({'WARNING'}, jobs.CANCELLED.message)]
    assert scene_state(blender, mesh_obj, rig) == before and operators.last_failure(blender.scene) == ""
    assert not bpy.ops.talking_head.cancel_animate.poll()


def test_a_head_deleted_while_the_engine_works_is_a_sentence_and_nothing_is_keyed(blender, tmp_path):
    """The run holds names: the user may delete the head meanwhile; its clip then goes nowhere."""
    from addon.ops import operators

    mesh_obj, rig = tiny_scene(blender, tmp_path)
    run = operators.AnimateRun.start(blender)
    run.wait(blender)
    name, actions = mesh_obj.name, sorted(a.name for a in bpy.data.actions)
    bpy.data.objects.remove(mesh_obj)
    reports = []
    assert run.finish(blender, lambda level, text: reports.append((level, text))) == {'CANCELLED'}
    assert reports == [({'ERROR'}, f"The head '{name}' or its scene was removed while it was being animated; "
                                   "nothing was keyed.")]
    assert sorted(a.name for a in bpy.data.actions) == actions and rig.animation_data is None
    assert operators.running(blender.scene) is None
