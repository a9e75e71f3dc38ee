"""One job contract for every front end: the CLI and the add-on's worker build the same engine job, and the
job layer's rules refuse a job with the same sentence whichever front end built it."""

from __future__ import annotations

import numpy as np
import pytest

from addon_fixtures import tiny_head, write_voice

bpy = pytest.importorskip("bpy")


def cli(capsys, *argv):
    """(exit code, stderr) of the CLI, an argparse usage error included."""
    from engine.cli.main import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as usage:
        code = usage.code
    return code, capsys.readouterr().err


def worker_failure(job):
    """The failure (sentence, kind) the worker process reports for `job`, through the add-on's Job."""
    from addon.engine_link import jobs

    run = jobs.Job(job).start()
    assert run.wait(timeout=120)
    assert run.clip is None and run.frames is None
    return run.failure.message, run.failure.kind


@pytest.fixture
def files(tmp_path):
    from engine.motion import MotionClip

    clip = MotionClip(names=["jaw_rx"], values=np.zeros((4, 1), np.float32), fps=24.0)
    return {"voice": str(write_voice(tmp_path)), "clip": str(clip.save(tmp_path / "ref.npz")),
            "out": str(tmp_path / "out.npz"), "missing": str(tmp_path / "no-models")}


# (CLI arguments, the same job's fields); {name} is a file of the fixture
ANIMATE_CASES = {
    "reference clip, energy driver": (["--driver", "energy", "--style-clip", "{clip}"],
                                      {"driver": "energy", "style_clip": "{clip}"}),
    "unknown style parameter": (["--driver", "energy", "--style", "grin=1"],
                                {"driver": "energy", "style_items": ("grin=1",)}),
    "missing models folder": (["--driver", "energy", "--models-dir", "{missing}"],
                              {"driver": "energy", "models_dir": "{missing}"}),
    "empty transcript": (["--driver", "phonetic", "--transcript", " "],
                         {"driver": "phonetic", "transcript": " "}),
}


def filled(value, files):
    if isinstance(value, tuple):
        return tuple(filled(v, files) for v in value)
    return value.format(**files) if isinstance(value, str) else value


@pytest.mark.parametrize("case", sorted(ANIMATE_CASES))
def test_the_cli_and_the_worker_refuse_an_animate_job_with_one_sentence(files, capsys, case):
    from addon.engine_link import jobs

    argv, fields = ANIMATE_CASES[case]
    job = jobs.AnimateJob(audio=files["voice"], fps=24.0, **{k: filled(v, files) for k, v in fields.items()})
    with pytest.raises(jobs.engine.InputError) as refused:
        job.validate()
    sentence = str(refused.value)
    code, err = cli(capsys, "animate", files["voice"], "-o", files["out"], "--fps", "24",
                    *(filled(a, files) for a in argv))
    assert (code, err) == (2, f"error: {sentence}\n")
    assert worker_failure(job) == (sentence, type(refused.value).__name__)


def test_an_out_of_range_value_is_the_same_sentence_as_a_usage_error(files, capsys):
    from addon.engine_link import jobs

    job = jobs.AnimateJob(audio=files["voice"], fps=500.0, driver="energy")
    code, err = cli(capsys, "animate", files["voice"], "-o", files["out"], "--fps", "500")
    sentence = "The frame rate must be between 1 and 240 fps, not 500.0."
    assert code == 2 and err.endswith(f"argument --fps: {sentence}\n")
    assert worker_failure(job) == (sentence, "InputError")


def test_render_and_track_jobs_are_refused_alike(files, tmp_path, capsys):
    from addon.engine_link import jobs

    overlay = str(tmp_path / "overlay.gif")
    code, err = cli(capsys, "track", str(tmp_path / "talk.mp4"), "-o", files["out"], "--overlay", overlay)
    sentence = f"The overlay '{overlay}' must be an .mp4 file."
    assert (code, err) == (2, f"error: {sentence}\n")
    assert worker_failure(jobs.TrackJob(video=str(tmp_path / "talk.mp4"), overlay=overlay)) == (sentence, "InputError")
    video = str(tmp_path / "film.avi")
    code, err = cli(capsys, "render", files["clip"], "-o", str(tmp_path / "frames"), "--video", video)
    sentence = f"The video '{video}' must be an .mp4 file."
    assert (code, err) == (2, f"error: {sentence}\n")
    job = jobs.RenderJob(clip=files["clip"], output=str(tmp_path / "frames"), video=video)
    assert worker_failure(job) == (sentence, "InputError")


def test_a_job_the_worker_cannot_read_is_one_sentence(tmp_path):
    """A launch whose job is not a valid job of its version (say, from an add-on older than the engine)."""
    import json
    import subprocess
    import sys

    from addon.engine_link import jobs

    data = jobs.AnimateJob(audio="v.wav").to_json()
    data["version"] = 99
    child = subprocess.Popen([sys.executable, str(jobs.WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    child.stdin.write(json.dumps({"job": data, "engine_dir": str(jobs.engine_dir()), "sys_path": sys.path}) + "\n")
    child.stdin.flush()  # stdin stays open: a closed one means the parent has gone
    assert json.loads(child.stdout.readline()) == {
        "error": "The animate job is of version 99, newer than this engine reads (1); update the engine.",
        "kind": "InvalidJob"}
    assert child.wait(timeout=30) == 0  # a refused job is an answer, not a crash
    child.stdin.close()


def test_the_child_runs_the_job_into_its_own_folder(tmp_path):
    from addon.engine_link import jobs

    job = jobs.AnimateJob(audio="v.wav", outputs=("elsewhere.csv",))
    assert jobs.staged(job, tmp_path).outputs == (str(tmp_path / "clip.npz"),)
    render = jobs.RenderJob(clip="c.npz", output=str(tmp_path / "final"))
    assert jobs.staged(render, tmp_path).output == str(tmp_path / "frames") and render.output.endswith("final")
    assert jobs.staged(jobs.TrackJob(video="v.mp4"), tmp_path).output == str(tmp_path / "clip.npz")


def test_the_reference_rule_has_one_home(blender, files, capsys, monkeypatch):
    """Change the rule's sentence in the job layer: the CLI, Animate's poll message and the add-on's job
    builder all say the new one, so none of them keeps a copy."""
    from addon.blender import head_object
    from addon.ops import job_spec, operators
    from engine.jobs import rules

    monkeypatch.setattr(rules, "REFERENCE_NEEDS_ADF", "Only the ADF driver reads a reference, said once.")
    code, err = cli(capsys, "animate", files["voice"], "-o", files["out"], "--driver", "energy",
                    "--style-clip", files["clip"])
    assert (code, err) == (2, "error: Only the ADF driver reads a reference, said once.\n")
    mesh_obj, _ = head_object.add_head(blender, tiny_head())
    settings = blender.scene.talking_head
    settings.target, settings.driver, settings.audio_path = mesh_obj, "energy", files["voice"]
    settings.style_clip = files["clip"]
    assert operators.why_not_animate(blender) == "Only the ADF driver reads a reference, said once."
    with pytest.raises(rules.InputError, match="^Only the ADF driver reads a reference, said once.$"):
        job_spec.build(blender)


def test_the_add_on_builds_the_job_the_cli_builds(blender, files):
    """The same voice, rate, driver, seed and style from the panel and from the command line: one job."""
    from dataclasses import replace

    from addon.blender import head_object
    from addon.ops import job_spec
    from engine.cli.job_commands import animate_job
    from engine.cli.main import build_parser

    mesh_obj, _ = head_object.add_head(blender, tiny_head())
    blender.scene.render.fps, blender.scene.render.fps_base = 24, 1.0
    settings = blender.scene.talking_head
    settings.target, settings.driver, settings.audio_path = mesh_obj, "energy", files["voice"]
    settings.seed, settings.style_preset, settings.use_head_motion, settings.head_motion = 7, "happy", True, 2.0
    args = build_parser().parse_args(["animate", files["voice"], "-o", files["out"], "--fps", "24", "--driver",
                                      "energy", "--seed", "7", "--style", "happy", "--style", "head_motion=2.0"])
    assert job_spec.build(blender).spec == replace(animate_job(args), outputs=())
