"""Packaging: `pip install .` gives the engine with its data and a working `talking-head` command; the
version and the runtime pins are each written once; ruff passes on the project with its own config."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` builds, made from a copy of the project files pip reads (the checkout stays
    clean). Offline: the build backend is this environment's setuptools."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "engine", source / "engine", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("wheel")
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                          "-q", "-w", str(dist), str(source)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    (built,) = dist.glob("*.whl")
    return built


def test_the_wheel_holds_the_engine_its_data_and_the_command(wheel):
    import engine

    names = set(zipfile.ZipFile(wheel).namelist())
    assert wheel.name == f"talking_head-{engine.__version__}-py3-none-any.whl"
    assert {"engine/__init__.py", "engine/cli/main.py", "engine/models/adf.onnx", "engine/models/adf.json",
            "engine/data/voices/sample_en.wav", "engine/head/builtin/__init__.py"} <= names
    assert not any(n.startswith(("addon/", "tests/")) for n in names)  # the add-on ships as the extension zip
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "talking-head = engine.cli.main:main" in zipfile.ZipFile(wheel).read(info).decode()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requires = [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines()
                if line.startswith("Requires-Dist: ") and "extra ==" not in line]
    from packaging.requirements import Requirement

    assert [str(Requirement(r)) for r in requires] == [str(Requirement(r)) for r in PYPROJECT["project"]["dependencies"]]


def test_the_installed_command_animates(wheel, tmp_path):
    target = tmp_path / "site"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                          str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    env = dict(os.environ, PYTHONPATH=str(target))  # the installed engine, not the checkout's
    command = target / "bin" / "talking-head"
    voice = target / "engine" / "data" / "voices" / "sample_en.wav"
    run = subprocess.run([str(command), "animate", str(voice), "-o", str(tmp_path / "clip.npz"), "--driver", "energy"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("wrote ") and (tmp_path / "clip.npz").stat().st_size > 1000
    where = subprocess.run([sys.executable, "-c", "import engine; print(engine.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(target)


def test_the_version_is_written_once():
    import engine

    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "engine.__version__"}
    assert "version" not in tomllib.loads((ROOT / "addon" / "blender_manifest.toml").read_text())
    assert '"version"' not in re.search(r"bl_info = \{.*?\n\}", (ROOT / "addon" / "__init__.py").read_text(), re.S).group(0)
    assert re.fullmatch(r"\d+\.\d+\.\d+", engine.__version__)


def test_ruff_passes():
    if shutil.which("ruff", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("ruff is missing: run `python3 build.py setup` (the test group pins it).")
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-1000:]
