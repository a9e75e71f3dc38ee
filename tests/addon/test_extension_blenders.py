"""One extension zip on every Blender the add-on supports: 4.2 LTS and 5.0 (Python 3.11, numpy 1.26),
5.2 LTS and 5.3 (Python 3.13, numpy 2).

For each release the test makes a stand-in for that Blender's own Python: a fresh venv of the
interpreter `python3 build.py setup` installed that bpy for, holding only bpy and what bpy itself
needs (numpy, ...), none of the engine's other dependencies. There it installs the zip into a fresh
user folder (Blender picks the wheels of its Python), enables it, adds the built-in head, runs
Animate on a 1 s voice, and previews a frame in the first shipped look, all through the operators;
extension_facts.py, run in that Python, prints what it finds as JSON; the assertions are made here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "addon" / "scripts"))
BIN = "Scripts/python.exe" if os.name == "nt" else "bin/python"
# Blender release -> (the environment build.py setup makes with its bpy, the Python it embeds)
BLENDERS = {"4.2": (ROOT / ".venv-blender42", "3.11"), "5.0": (ROOT / ".venv", "3.11"),
            "5.2": (ROOT / ".venv-blender52", "3.13"), "5.3": (ROOT / ".venv-blender53", "3.13")}
SCRIPT = Path(__file__).with_name("extension_facts.py")  # what runs in each Blender's Python
PACKAGE = "bl_ext.user_default.talking_head"
VOICE_S = 1.0


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory):
    """The zip for this machine's platform, with the real wheels for Python 3.11 and 3.13."""
    import package_extension

    return package_extension.build(tmp_path_factory.mktemp("dist"))


@pytest.mark.slow
@pytest.mark.parametrize("release", sorted(BLENDERS))
def test_the_same_zip_enables_animates_and_previews(release, extension_zip, tmp_path):
    """One test per release (the facts are one Blender run): each check below names what it holds."""
    facts = run_in_blender(release, extension_zip, tmp_path)
    blenders_python_alone_has_none_of_the_runtime_modules(facts)
    the_zip_enables_on_the_wheels_of_blenders_python(facts)
    animate_keys_the_head_and_places_the_voice(facts)
    preview_draws_the_head(facts)
    the_head_cache_is_in_the_extensions_user_folder(facts)


def blenders_python_alone_has_none_of_the_runtime_modules(facts):
    assert facts["importable_before"] == []
    assert facts["python"] == list(BLENDERS[facts["release"]][1].split(".")) and facts["numpy"][0] == (
        "2" if facts["python"] == ["3", "13"] else "1")


def the_zip_enables_on_the_wheels_of_blenders_python(facts):
    assert facts["version"][:2] == [int(x) for x in facts["release"].split(".")]
    assert PACKAGE in facts["addons"] and facts["engines"] == [f"{PACKAGE}.engine"]
    extensions = Path(facts["extensions"]).resolve()
    for module, path in facts["located"].items():  # the add-on and its engine child ran on the bundled wheels
        assert Path(path).resolve().is_relative_to(extensions), (module, path)
    tag = "cp" + "".join(facts["python"])
    assert facts["compiled_wheels"] and set(facts["compiled_wheels"]) == {tag}  # only its Python's were installed


def animate_keys_the_head_and_places_the_voice(facts):
    keyed = re.fullmatch(r"Keyed (\d+) channels over frames 1-24 from voice\.wav\.", facts["status"])  # 24 fps
    assert keyed and int(keyed.group(1)) >= 30, facts["status"]  # mouth, brows, eyes, neck
    assert facts["shape_curves"] >= 20 and facts["bone_curves"] >= 4  # lips, jaw, brows; jaw, neck, eyes
    assert facts["evaluated_error"] < 1e-5  # what this Blender plays is the clip
    assert facts["voice"] == [facts["voice_path"], 1]  # a sound strip, or the call where the build has no sound


def preview_draws_the_head(facts):
    assert facts["preview"]["result"] == ["FINISHED"], facts["preview"]
    assert facts["preview"]["status"].startswith("Previewed frame 12 in the look ")
    assert max(facts["preview"]["size"]) == 256 and facts["preview"]["alpha_max"] > 0.5


# ----------------------------------------------------------------------------- test side

def run_in_blender(release: str, extension_zip: Path, tmp_path: Path) -> dict:
    """Make that release's stand-in Python, run `blender_facts` in it on a 1 s voice; its JSON facts."""
    environment, _ = BLENDERS[release]
    python = environment / BIN
    if not python.exists():
        pytest.fail(f"{environment.name} (bpy {release}) is missing: run `python3 build.py setup` "
                    "(it downloads bpy once; its warning says why it could not).")
    isolated = tmp_path / "blender_python"
    made = subprocess.run([str(python), str(SCRIPT), "isolate", str(isolated)], capture_output=True, text=True,
                          timeout=120, env=clean_env())
    assert made.returncode == 0, made.stderr[-2000:]
    import soundfile

    voice = tmp_path / "voice.wav"
    t = np.arange(int(VOICE_S * 16000)) / 16000
    soundfile.write(voice, 0.3 * np.sin(2 * np.pi * 150 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)), 16000)
    env = clean_env(BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    run = subprocess.run([str(isolated / BIN), str(SCRIPT), "facts", str(extension_zip), str(voice)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stdout[-1500:] + run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1]) | {"release": release, "voice_path": str(voice)}


def clean_env(**extra) -> dict:
    """This environment without PYTHONPATH (the installed extension must not find the checkout's engine)."""
    env = dict(os.environ, **extra)
    env.pop("PYTHONPATH", None)
    return env


def the_head_cache_is_in_the_extensions_user_folder(facts):
    """The built-in head's disk cache (written when Add Built-in Head built it) lies where Blender lets an
    extension keep files, not in the user's home cache."""
    cache = facts["cache"]
    assert cache["folder"] and Path(cache["folder"]).resolve().is_relative_to(Path(cache["extension_user"]).resolve())
    assert any(n.startswith("builtin_head_") and n.endswith(".npz") for n in cache["files"]), cache
