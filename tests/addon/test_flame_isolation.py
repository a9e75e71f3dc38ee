"""Add FLAME Head reads the user's file in a child process: Blender's own process never unpickles,
a crash of the reader is a report, and a refused file leaves the scene as it was."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

bpy = pytest.importorskip("bpy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine" / "head"))
import flame_fixture  # noqa: E402  (tests/engine/head: synthetic FLAME-format files)


def test_blenders_process_never_unpickles_the_file(blender, tmp_path, monkeypatch):
    from engine.head import safe_pickle

    def not_here(_raw):
        raise AssertionError("a pickle was read inside Blender's process")

    monkeypatch.setattr(safe_pickle, "load_data", not_here)
    path = tmp_path / "generic_model.pkl"
    flame_fixture.write_flame2020(path, flame_fixture.make_flame_arrays())
    assert bpy.ops.talking_head.add_flame_head(filepath=str(path)) == {'FINISHED'}
    assert len(blender.scene.talking_head.target.data.vertices) == flame_fixture.V


def scene_is_empty() -> bool:
    return len(bpy.data.objects) == 0 and len(bpy.data.meshes) == 0 and len(bpy.data.armatures) == 0


def test_a_reader_that_crashes_is_a_report_and_the_scene_is_unchanged(blender, tmp_path, monkeypatch):
    from addon.ops import flame_heads

    path = tmp_path / "generic_model.pkl"
    flame_fixture.write_flame2020(path, flame_fixture.make_flame_arrays(n_vertices=50, n_faces=40))
    monkeypatch.setattr(flame_heads.isolated, "CHILD", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(RuntimeError, match=r"crashed the head file reader \(signal 11\)"):
        bpy.ops.talking_head.add_flame_head(filepath=str(path))
    assert scene_is_empty() and blender.scene.talking_head.target is None


def test_a_hostile_dtype_pickle_is_a_report(blender, tmp_path):
    """A pickle whose dtype state asks for object fields (it segfaulted the old unpickler)."""
    hostile = (b"\x80\x02}X\x01\x00\x00\x00fcnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b"
               b"\x87R(K\x01K\x01\x85cnumpy\ndtype\nX\x02\x00\x00\x00V8\x89\x88\x87R(K\x03X\x01\x00\x00\x00|N"
               b"(X\x01\x00\x00\x00atX\x01\x00\x00\x00a(cnumpy\ndtype\nX\x02\x00\x00\x00O8\x89\x88\x87RK\x00\x86}"
               b"K\x08K\x01K\x3ftb\x89C\x08AAAAAAAAtbs.")
    path = tmp_path / "evil.pkl"
    path.write_bytes(hostile)
    with pytest.raises(RuntimeError, match="evil.pkl"):
        bpy.ops.talking_head.add_flame_head(filepath=str(path))
    assert scene_is_empty()
