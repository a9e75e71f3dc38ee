"""The command-line tool: outputs, one-sentence errors and exit codes 0/1/2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.cli.main import main
from engine.motion import MotionClip

SAMPLE = Path(__file__).resolve().parents[3] / "engine" / "data" / "voices" / "sample_en.wav"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [[], ["animate"], ["head"], ["head", "export"], ["clip"], ["clip", "convert"],
                                  ["bench"], ["eval-lipsync"], ["render"]])
def test_help_everywhere(argv):
    with pytest.raises(SystemExit) as info:
        main(argv + ["--help"])
    assert info.value.code == 0


def test_animate_then_info_then_convert(tmp_path, capsys):
    clip_path = tmp_path / "clip.npz"
    code, out, _ = run(capsys, "animate", str(SAMPLE), "-o", str(clip_path), "--fps", "25")
    assert code == 0 and "frames at 25 fps" in out
    clip = MotionClip.load(clip_path)
    assert clip.fps == 25 and clip.num_frames == int(np.ceil(clip.metadata["duration_s"] * 25 - 1e-9))
    code, out, _ = run(capsys, "clip", "info", str(clip_path))
    assert code == 0 and "jaw_rx" in out
    csv = tmp_path / "clip.csv"
    code, out, _ = run(capsys, "clip", "convert", str(clip_path), str(csv), "--fps", "29.97")
    assert code == 0 and csv.read_text().startswith("Timecode,BlendShapeCount,EyeBlinkLeft")
    converted = tmp_path / "clip.json"
    assert run(capsys, "clip", "convert", str(clip_path), str(converted), "--fps", "60")[0] == 0
    assert MotionClip.load(converted).num_frames == round(clip.num_frames * 60 / 25)


def test_bad_audio_is_one_sentence_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "animate", str(tmp_path / "nope.wav"), "-o", str(tmp_path / "c.npz"))
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "c.npz").exists()


def test_debug_shows_the_traceback(tmp_path, capsys):
    code, _, err = run(capsys, "--debug", "animate", str(tmp_path / "nope.wav"), "-o", str(tmp_path / "c.npz"))
    assert code == 2 and "Traceback" in err


def test_head_export_obj_with_expression_and_pose(tmp_path, capsys):
    from engine.head.meshio import read_obj

    neutral, smile = tmp_path / "n.obj", tmp_path / "s.obj"
    assert run(capsys, "head", "export", "-o", str(neutral))[0] == 0
    code, _, _ = run(capsys, "head", "export", "-o", str(smile), "-e", "mouthSmileLeft=1", "-p", "jaw=0.3,0,0")
    assert code == 0
    a, b = read_obj(neutral)[0], read_obj(smile)[0]
    assert a.shape == b.shape and np.abs(a - b).max() > 0.005


@pytest.mark.parametrize("argv,sentence", [
    (["head", "export", "-o", "x.obj", "-e", "mouthSmileLeft"], "NAME=VALUE"),
    (["head", "export", "-o", "x.obj", "-e", "noSuchShape=1"], "no expression named 'noSuchShape'"),
    (["head", "export", "-o", "x.obj", "-p", "elbow=0,0,0"], "must be one of"),
    (["head", "export", "-o", "x.stl"], "use a .obj or .ply"),
    (["head", "info", "missing_model.pkl"], "does not exist"),
])
def test_bad_head_arguments(tmp_path, capsys, monkeypatch, argv, sentence):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2 and sentence in err and err.count("\n") == 1


def test_head_info_lists_expressions(capsys):
    code, out, _ = run(capsys, "head", "info")
    assert code == 0 and "mouthFunnel" in out and "eye_left" in out


def test_transcript_text_or_file_and_style_arguments(tmp_path):
    from engine.cli.job_commands import read_transcript
    from engine.errors import InputError

    assert read_transcript("hello there") == "hello there"
    words = tmp_path / "words.txt"
    words.write_text("  severe myopia\n", encoding="utf-8")
    assert read_transcript(str(words)) == "severe myopia"
    with pytest.raises(InputError, match="does not exist"):
        read_transcript(str(tmp_path / "missing.txt"))
    words.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="not UTF-8"):
        read_transcript(str(words))
    with pytest.raises(InputError, match="empty"):
        read_transcript("   ")
    assert read_transcript(None) is None


@pytest.mark.parametrize("style,sentence", [("smile=3", "between -1.0 and 1.0"), ("grin=1", "Unknown style"),
                                            ("smile", "Unknown style preset"), ("smile=1,2", "one number"),
                                            ("smile=x", "one number")])
def test_bad_style_is_one_sentence_exit_2(tmp_path, capsys, style, sentence):
    code, _, err = run(capsys, "animate", str(SAMPLE), "-o", str(tmp_path / "c.npz"), "--driver", "energy",
                       "--style", style)
    assert code == 2 and sentence in err and err.count("\n") == 1


def test_style_presets_then_parameters(tmp_path, capsys):
    out = tmp_path / "c.npz"
    code, _, _ = run(capsys, "animate", str(SAMPLE), "-o", str(out), "--driver", "energy", "--style", "happy",
                     "--style", "smile=0.2")
    style = MotionClip.load(out).metadata["style"]
    assert code == 0 and style["smile"] == 0.2 and style["articulation"] == 1.15 and style["blink_rate"] == 18.0
