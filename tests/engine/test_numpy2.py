"""The engine on numpy 2 (Blender 5.1-5.3 embed Python 3.13 with numpy 2; 4.2-5.0 numpy 1.26, this suite's).

The engine tests that do not need the test-only references (librosa, torch, matplotlib) run again
in .venv-blender52, the Python 3.13 environment `python3 build.py setup` makes with bpy 5.2's numpy.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.errors import shown

ROOT = Path(__file__).resolve().parents[2]
NUMPY2_PYTHON = ROOT / ".venv-blender52" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
ENGINE_TESTS = ["motion", "audio", "animate", "drivers", "jobs", "head", "retarget", "render", "cli", "test_nldf_runtime.py",
                "test_style.py"]
# librosa is the audio features' reference, not installed there; the recogniser's worker-pool tests
# exercise multiprocessing, not numpy, and take half the time
LEFT_OUT = "not librosa and not workers"


@pytest.mark.parametrize("value, text", [(np.int64(2), "2"), (np.float32(0.5), "0.5"), (np.bool_(True), "True"),
                                         (2, "2"), ("2", "'2'"), (np.zeros(2), "array([0., 0.])")])
def test_messages_show_numpy_scalars_as_python_numbers(value, text):
    assert shown(value) == text  # numpy 2's repr would be np.int64(2)


@pytest.mark.slow
def test_the_engine_tests_pass_under_numpy_2(tmp_path):
    if not NUMPY2_PYTHON.exists():
        pytest.fail(f"{NUMPY2_PYTHON.parents[1].name} is missing: run `python3 build.py setup` (it needs Python 3.13, "
                    "from pyenv or on PATH; its warning says why it could not).")
    version = subprocess.run([str(NUMPY2_PYTHON), "-c", "import numpy; print(numpy.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version.startswith("2."), version
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([str(NUMPY2_PYTHON), "-m", "pytest", *(f"tests/engine/{t}" for t in ENGINE_TESTS), "-q",
                          "-m", "not slow", "-k", LEFT_OUT, "-p", "no:cacheprovider", "--basetemp", str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout.splitlines()[-1] and "failed" not in run.stdout.splitlines()[-1]
