"""build.py's set-up of the Blender test environments: which Python 3.13 it takes, what it installs, and a
failed step as a warning that leaves nothing half-made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import build  # noqa: E402


def fake_python(root: Path, version: str) -> Path:
    path = root / "versions" / version / "bin" / f"python{version.rsplit('.', 1)[0]}"
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\n")
    return path


def test_python_313_is_pyenvs_newest(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    fake_python(tmp_path, "3.13.2")
    newest = fake_python(tmp_path, "3.13.10")  # newer than 3.13.2, though it sorts first as text
    fake_python(tmp_path, "3.12.1")
    assert build.find_python("3.13") == newest


def test_no_python_313_is_none(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert build.find_python("3.13") is None


def test_the_313_environment_gets_bpy_52_numpy_2_and_the_extensions_pins():
    requirements = build.blender313_requirements()
    assert requirements[0] == "bpy==5.2.3"
    assert "numpy==2.5.5; python_version >= '3.13'" in requirements  # pip evaluates the markers there
    assert "onnxruntime==1.31.1" in requirements and not any("onnxruntime-gpu" in r for r in requirements)
    assert "standard-aifc==3.13.0; python_version >= '3.13'" in requirements  # audioread's on 3.13
    assert [r for r in requirements if r.startswith("pytest")] == ["pytest==9.2.0"]


def test_a_failed_step_warns_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    def offline(cmd, **kwargs):
        if "install" in [str(c) for c in cmd]:
            raise subprocess.CalledProcessError(1, cmd)
        subprocess.run([str(c) for c in cmd], check=True, **kwargs)

    monkeypatch.setattr(build, "run", offline)
    folder = tmp_path / ".venv-blender99"
    build.ensure_overlay_venv(folder, "bpy==9.9.9", Path(sys.executable), "tests/addon/test_x.py")
    assert not folder.exists()
    assert capsys.readouterr().err == ("warning: could not make .venv-blender99 with bpy==9.9.9 (exit status 1; "
                                       "offline?). tests/addon/test_x.py fails until a set-up succeeds; "
                                       "the other tests run.\n")
