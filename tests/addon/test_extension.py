"""The extension zip installs and enables in a fresh Blender user directory, and animates with its bundled engine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("bpy")

USER_SCRIPT = """
import bpy, json, sys
zip_path, voice = sys.argv[-2], sys.argv[-1]
bpy.ops.extensions.package_install_files(filepath=zip_path, repo='user_default', enable_on_install=True)
bpy.ops.talking_head.add_builtin_head()
settings = bpy.context.scene.talking_head
settings.audio_path = voice
bpy.ops.talking_head.animate()
engines = sorted(m for m in sys.modules if m == 'engine' or m.endswith('talking_head.engine'))
print(json.dumps({"addons": list(bpy.context.preferences.addons.keys()), "engines": engines,
                  "status": settings.status, "frame_end": bpy.context.scene.frame_end}))
"""


def test_zip_layout(tmp_path):
    sys.path.insert(0, str(ROOT / "addon" / "scripts"))
    import package_extension

    target = package_extension.build(tmp_path)
    names = set(zipfile.ZipFile(target).namelist())
    assert {"blender_manifest.toml", "__init__.py", "bridge.py", "engine/__init__.py",
            "engine/head/builtin/__init__.py", "engine/data/voices/sample_en.wav", "LICENSE"} <= names
    assert not any("training/" in n or "__pycache__" in n or n.startswith("scripts/") for n in names)


@pytest.mark.slow
def test_installs_enables_and_animates_in_a_fresh_user_dir(tmp_path):
    sys.path.insert(0, str(ROOT / "addon" / "scripts"))
    import package_extension

    target = package_extension.build(tmp_path / "dist")
    voice = tmp_path / "voice.wav"
    t = np.arange(16000) / 16000
    soundfile.write(voice, 0.3 * np.sin(2 * np.pi * 150 * t), 16000)
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    env.pop("PYTHONPATH", None)  # the installed extension must not find the checkout's engine
    run = subprocess.run([sys.executable, "-c", USER_SCRIPT, str(target), str(voice)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    info = json.loads(run.stdout.strip().splitlines()[-1])
    assert "bl_ext.user_default.talking_head" in info["addons"]
    assert info["engines"] == ["bl_ext.user_default.talking_head.engine"]
    keyed = re.match(r"Keyed (\d+) channels over frames 1-24 ", info["status"])  # 1 s at the default 24 fps
    assert keyed and int(keyed.group(1)) >= 30, info["status"]  # the phonetic driver's mouth, brows, eyes, neck
    assert info["frame_end"] == 250  # the factory range is longer: never shortened
