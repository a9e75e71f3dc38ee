"""Start-up: `import engine` and `python -m engine animate` on a minute of speech, each in fresh processes,
beside the floor they stand on (numpy's import, an interpreter that only imports numpy) measured in the same run.

The children may write bytecode (PYTHONDONTWRITEBYTECODE is lifted) and one warm-up run goes first, as
for a user, whose Python keeps compiled modules after the first start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMED_IMPORT = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def fresh_import_seconds(module: str, repeats: int) -> float:
    """The fastest of `repeats` fresh interpreters' time to `import module` (seconds, start-up excluded),
    after a warm-up."""
    code = TIMED_IMPORT.format(module=module)
    _python(["-c", code])
    return min(float(_python(["-c", code]).stdout.split()[-1]) for _ in range(repeats))


def whole_process_seconds(args: list, repeats: int) -> float:
    """The fastest of `repeats` wall times of `python *args`, start to exit (seconds), after a warm-up."""
    _python(args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _python(args)
        times.append(time.perf_counter() - start)
    return min(times)


def _python(args: list) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    run = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed: {run.stderr[-500:]}")
    return run


def startup(quick: bool, out: Path) -> list:
    """`import engine` beside `import numpy`; `python -m engine animate` (60 s of speech, the default
    ADF driver) beside an interpreter that imports numpy and exits."""
    import soundfile

    from .report import Row
    from .measure import long_speech

    repeats = 3 if quick else 7
    engine_import = fresh_import_seconds("engine", repeats)
    numpy_import = fresh_import_seconds("numpy", repeats)
    with tempfile.TemporaryDirectory() as folder:
        voice, clip = Path(folder) / "speech_60s.wav", Path(folder) / "clip.npz"
        speech = long_speech(1.0)
        soundfile.write(voice, speech.samples, speech.rate)
        animate = whole_process_seconds(["-m", "engine", "animate", str(voice), "-o", str(clip)], max(2, repeats // 2))
    numpy_process = whole_process_seconds(["-c", "import numpy"], repeats)
    return [Row("Start-up", "import engine (fresh process, start-up excluded)", engine_import, "s",
                "import numpy", numpy_import, engine_import / numpy_import, target="<= 0.3 s",
                note=f"best of {repeats}; loads no scipy"),
            Row("Start-up", "python -m engine animate, 60 s of speech, whole process", animate, "s",
                "python -c 'import numpy'", numpy_process, animate / numpy_process, target="< 0.6 s",
                note="ADF driver, features, network, .npz written")]
