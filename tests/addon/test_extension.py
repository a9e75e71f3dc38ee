"""The extension zip carries its runtime wheels, passes Blender's validator, installs and enables in a fresh
user directory, and animates on the bundled wheels alone."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("bpy")
sys.path.insert(0, str(ROOT / "addon" / "scripts"))
import extension_wheels  # noqa: E402
import package_extension  # noqa: E402

RUNTIME_MODULES = ("scipy", "soundfile", "soxr", "audioread", "onnxruntime", "pocketsphinx")
ISOLATED_DISTRIBUTIONS = ("bpy", "numpy")  # what Blender itself brings; nothing else is importable

USER_SCRIPT = """
import bpy, importlib, importlib.util, json, sys
zip_path, voice, runtime = sys.argv[-3], sys.argv[-2], sys.argv[-1].split(",")
before = [m for m in runtime if importlib.util.find_spec(m) is not None]
bpy.ops.extensions.package_install_files(filepath=zip_path, repo='user_default', enable_on_install=True)
bpy.ops.talking_head.add_builtin_head()
settings = bpy.context.scene.talking_head
settings.audio_path = voice
bpy.ops.talking_head.animate()
engines = sorted(m for m in sys.modules if m == 'engine' or m.endswith('talking_head.engine'))
print(json.dumps({"addons": list(bpy.context.preferences.addons.keys()), "engines": engines,
                  "status": settings.status, "frame_end": bpy.context.scene.frame_end,
                  "importable_before": before, "extensions": bpy.utils.user_resource('EXTENSIONS'),
                  "located": {m: importlib.import_module(m).__file__ for m in runtime}}))
"""


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory):
    """The zip for this machine's platform, with the real wheels (downloaded once into build/wheels/)."""
    return package_extension.build(tmp_path_factory.mktemp("dist"))


def test_zip_layout(extension_zip):
    archive = zipfile.ZipFile(extension_zip)
    names = set(archive.namelist())
    assert {"blender_manifest.toml", "__init__.py", "blender/keying.py", "engine/__init__.py",
            "engine/head/builtin/__init__.py", "engine/data/voices/sample_en.wav", "LICENSE"} <= names
    assert not any("training/" in n or "__pycache__" in n or n.startswith("scripts/") for n in names)


def test_manifest_lists_exactly_the_bundled_wheels_without_numpy(extension_zip):
    archive = zipfile.ZipFile(extension_zip)
    manifest = tomllib.loads(archive.read("blender_manifest.toml").decode())
    bundled = sorted("./" + n for n in archive.namelist() if n.startswith("wheels/"))
    cache = extension_wheels.CACHE / extension_wheels.this_platform()
    sets = {python: extension_wheels.wheels_for(extension_wheels.this_platform(), python=python)
            for python in ("3.11", "3.13")}  # Blender 4.2-5.0's and 5.1-5.3's
    assert sorted(manifest["wheels"]) == bundled == sorted({f"./wheels/{w.name}" for s in sets.values() for w in s})
    assert manifest["platforms"] == [extension_wheels.this_platform()]
    assert not any(Path(w).name.lower().startswith("numpy") for w in bundled)
    for wheel in bundled:  # unmodified: byte for byte the file pip downloaded
        cached = next(cache.glob(f"cp3*/{Path(wheel).name}"))
        assert archive.read(wheel[2:]) == cached.read_bytes()


def test_blenders_validator_accepts_the_zip(extension_zip):
    bpy_folder = Path(importlib.util.find_spec("bpy").submodule_search_locations[0])
    validator = next(bpy_folder.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    run = subprocess.run([sys.executable, str(validator), "validate", str(extension_zip)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def isolated_python(folder: Path) -> Path:
    """A fresh venv that can import bpy and numpy (linked from this one) and none of the engine's other
    dependencies: a stand-in for Blender's own Python."""
    venv.create(folder, with_pip=False, symlinks=os.name != "nt")
    site = Path(sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)}))
    for name in ISOLATED_DISTRIBUTIONS:
        distribution = importlib.metadata.distribution(name)
        for top in sorted({f.parts[0] for f in distribution.files if f.parts[0] not in ("..", "__pycache__")}):
            source = Path(distribution.locate_file(top))
            (site / top).symlink_to(source, target_is_directory=source.is_dir())
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.mark.slow
def test_installs_enables_and_animates_in_a_fresh_user_dir(extension_zip, tmp_path):
    python = isolated_python(tmp_path / "blender_python")
    voice = tmp_path / "voice.wav"
    t = np.arange(16000) / 16000
    soundfile.write(voice, 0.3 * np.sin(2 * np.pi * 150 * t), 16000)
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    env.pop("PYTHONPATH", None)  # the installed extension must not find the checkout's engine
    run = subprocess.run([str(python), "-c", USER_SCRIPT, str(extension_zip), str(voice), ",".join(RUNTIME_MODULES)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    info = json.loads(run.stdout.strip().splitlines()[-1])
    assert info["importable_before"] == []  # Blender's Python alone has none of them
    extensions = Path(info["extensions"]).resolve()
    assert extensions.is_relative_to((tmp_path / "user").resolve())
    for module, path in info["located"].items():  # the add-on and its engine child ran on the bundled wheels
        assert Path(path).resolve().is_relative_to(extensions), (module, path)
    assert "bl_ext.user_default.talking_head" in info["addons"]
    assert info["engines"] == ["bl_ext.user_default.talking_head.engine"]
    keyed = re.match(r"Keyed (\d+) channels over frames 1-24 ", info["status"])  # 1 s at the default 24 fps
    assert keyed and int(keyed.group(1)) >= 30, info["status"]  # the phonetic driver's mouth, brows, eyes, neck
    assert info["frame_end"] == 250  # the factory range is longer: never shortened
