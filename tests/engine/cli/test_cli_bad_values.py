"""The CLI on values and places it cannot use: one sentence and exit code 2, never 'internal error'."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from engine.cli.main import main
from engine.motion import MotionClip


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_sentence(err: str) -> bool:
    return "internal error" not in err and "Traceback" not in err and err.strip().count("\n") <= 1


@pytest.fixture
def clip_file(tmp_path):
    clip = MotionClip(names=["jaw_rx", "mouthFunnel"], values=np.zeros((6, 2), np.float32), fps=30.0)
    return clip.save(tmp_path / "clip.npz")


@pytest.mark.parametrize("argv", [
    ["animate", "voice.wav", "-o", "c.npz", "--seed", "-1"],
    ["animate", "voice.wav", "-o", "c.npz", "--start-frame", "1e30"],
    ["animate", "voice.wav", "-o", "c.npz", "--start-frame", str(10**30)],
    ["animate", "voice.wav", "-o", "c.npz", "--fps", "nan"],
    ["animate", "voice.wav", "-o", "c.npz", "--fps", "5e-324"],
    ["render", "c.npz", "-o", "frames", "--size", "100000"],
])
def test_out_of_range_arguments_are_usage_errors(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "must be" in err and "Traceback" not in err


def test_convert_to_a_billion_fps_is_refused(tmp_path, capsys, clip_file):
    with pytest.raises(SystemExit) as info:
        main(["clip", "convert", str(clip_file), str(tmp_path / "fast.npz"), "--fps", "1e9"])
    assert info.value.code == 2 and "the frame rate must be from 0.1 to 1000" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "inf", "1e30", "-1e9"])
def test_head_export_refuses_non_finite_or_absurd_expressions(tmp_path, capsys, value):
    out = tmp_path / "head.obj"
    code, _, err = run(capsys, "head", "export", "-o", out, "-e", f"mouthSmileLeft={value}")
    assert code == 2 and "must be a finite number" in err and one_sentence(err)
    code, _, err = run(capsys, "head", "export", "-o", out, "-p", f"jaw={value},0,0")
    assert code == 2 and one_sentence(err) and not out.exists()


def unusable_outputs(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    return {"under a file": blocker / "out" / "clip", "in /proc": "/proc/talking-head-test/clip",
            "a 300-byte name": tmp_path / ("n" * 300)}


@pytest.mark.parametrize("place", ["under a file", "in /proc", "a 300-byte name"])
@pytest.mark.parametrize("suffix", [".npz", ".csv", ".json"])
def test_clip_convert_to_an_unusable_place_is_a_sentence(tmp_path, capsys, clip_file, place, suffix):
    code, _, err = run(capsys, "clip", "convert", clip_file, f"{unusable_outputs(tmp_path)[place]}{suffix}")
    assert code == 2 and "could not be written" in err and one_sentence(err), err


@pytest.mark.parametrize("place", ["under a file", "in /proc", "a 300-byte name"])
def test_head_export_to_an_unusable_place_is_a_sentence(tmp_path, capsys, place):
    code, _, err = run(capsys, "head", "export", "-o", f"{unusable_outputs(tmp_path)[place]}.obj")
    assert code == 2 and ("cannot be made" in err or "could not be written" in err) and one_sentence(err), err


def test_written_files_keep_the_users_permissions(tmp_path, capsys, clip_file):
    old = os.umask(0o027)
    try:
        assert run(capsys, "clip", "convert", clip_file, tmp_path / "a.json")[0] == 0
        assert run(capsys, "head", "export", "-o", tmp_path / "h.ply")[0] == 0
    finally:
        os.umask(old)
    for name in ("a.json", "h.ply"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640
    assert not list(tmp_path.glob("*.part"))


def test_an_internal_bug_in_a_loader_still_shows_as_a_bug(tmp_path, capsys, clip_file, monkeypatch):
    """The loaders' boundaries turn damaged-file errors into sentences, not our own mistakes."""
    from engine.motion import io

    def broken(*_):
        raise AttributeError("a bug of ours")

    monkeypatch.setattr(io, "_check_version", broken)
    code, _, err = run(capsys, "clip", "info", clip_file)
    assert code == 1 and "internal error (AttributeError: a bug of ours)" in err
    code, _, err = run(capsys, "--debug", "clip", "info", clip_file)
    assert "Traceback" in err and "_check_version" in err


class FullDisk:
    """A stand-in for an open file on a full disk: every write fails with ENOSPC."""

    def __init__(self, handle, mode):
        os.close(handle)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False

    def write(self, _data):
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("output", ["head.obj", "head.ply"])
def test_a_full_disk_leaves_the_old_mesh_and_no_half_file(tmp_path, capsys, monkeypatch, output):
    from engine import files

    out = tmp_path / output
    out.write_text("the user's earlier export")
    monkeypatch.setattr(files.os, "fdopen", FullDisk)
    code, _, err = run(capsys, "head", "export", "-o", out)
    assert code == 2 and "No space left on device" in err and one_sentence(err)
    assert out.read_text() == "the user's earlier export" and sorted(p.name for p in tmp_path.iterdir()) == [output]
