"""Structural checks behind the start-up figures of the bench (never timed here): what `import engine`,
enabling the add-on and the animate path load, each in a fresh process.

scipy.signal (which pulls in scipy.stats), scipy.ndimage, scipy.fft and scipy.interpolate each cost
0.2-0.9 s to import; `import engine` and the add-on's registration import none of scipy, and a
clip made by the ADF or energy driver imports none of those four.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLOW_SCIPY = ("scipy.signal", "scipy.stats", "scipy.ndimage", "scipy.fft", "scipy.interpolate")


def modules_after(code: str) -> list:
    """Names in sys.modules after running `code` in a fresh interpreter with the checkout on the path."""
    script = code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_import_engine_imports_no_scipy_nor_the_runtime_libraries():
    loaded = modules_after("import engine")
    assert [m for m in loaded if m == "scipy" or m.startswith("scipy.")] == []
    assert not {"onnxruntime", "soundfile", "pocketsphinx", "soxr", "audioread"} & set(loaded)


@pytest.mark.parametrize("driver", ["adf", "energy"])
def test_animating_loads_none_of_the_slow_scipy_modules(driver):
    voice = ROOT / "engine" / "data" / "voices" / "sample_en.wav"
    loaded = modules_after(f"import engine; engine.animate({str(voice)!r}, fps=30, driver={driver!r})")
    assert [m for m in SLOW_SCIPY if m in loaded] == []


def test_enabling_the_addon_imports_no_scipy():
    pytest.importorskip("bpy")
    loaded = modules_after("import bpy, addon; addon.register()")
    assert "addon.ops.operators" in loaded and "engine" in loaded
    assert [m for m in loaded if m == "scipy" or m.startswith("scipy.")] == []
