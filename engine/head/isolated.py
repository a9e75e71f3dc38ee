"""Read a head file in a child process with memory and time limits, then load the result safely.

A FLAME `.pkl` is read by our data-only pickle reader, but a file from a
stranger is still the riskiest thing a user opens; inside Blender a crash
would take the unsaved scene with it. `load_head_isolated` reads the file
(and its landmark embedding) in a child Python, which writes the head as
our `.npz`; this process then reads only that `.npz` (plain arrays, sizes
checked). A crash, a hang or a memory blow-up in the child is a
HeadModelError sentence here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

from ..errors import HeadModelError
from .loader import load_head, load_head_npz

TIMEOUT_S = 300.0
MEMORY_FLOOR = 3 * 1024**3        # address space of the child: the interpreter, numpy, scipy ...
MEMORY_PER_FILE_BYTE = 8          # ... and a few copies of the file's arrays

# The child: import the engine from its folder (as the add-on's worker does), limit itself, convert.
CHILD = r"""
import importlib.util, json, os, sys
engine_dir, path, landmarks, out, memory = sys.argv[1:6]
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))
except (ImportError, ValueError, OSError):
    pass
spec = importlib.util.spec_from_file_location("engine", os.path.join(engine_dir, "__init__.py"),
                                              submodule_search_locations=[engine_dir])
engine = importlib.util.module_from_spec(spec)
sys.modules["engine"] = engine
spec.loader.exec_module(engine)
from engine.head.loader import load_head, save_head_npz
try:
    save_head_npz(load_head(path, landmarks=landmarks or None), out)
    print(json.dumps({"ok": True}))
except engine.EngineError as error:
    print(json.dumps({"error": str(error)}))
except MemoryError:
    print(json.dumps({"error": f"'{path}' needs more memory to read than a head model file ever does."}))
"""


def load_head_isolated(path=None, landmarks=None, python: Optional[str] = None, timeout: float = TIMEOUT_S,
                       extra_path=()) -> "HeadModel":  # noqa: F821
    """The head at `path` (and landmark embedding `landmarks`), read in a child `python` (default: this one).

    None is the built-in head (read here: it is ours). `extra_path` is put on
    the child's import path (where numpy and scipy are, for an interpreter
    other than this one). Raises HeadModelError with one sentence.
    """
    if path is None and landmarks is None:
        return load_head()
    source = Path(path) if path is not None else None
    with tempfile.TemporaryDirectory(prefix="talking-head-head-") as folder:
        out = Path(folder) / "head.npz"
        _convert_in_child(source, landmarks, out, python or sys.executable, timeout, extra_path)
        head = load_head_npz(out)
    head.source = str(source) if source is not None else ""
    return head


def _memory_limit(path: Optional[Path], landmarks) -> int:
    sizes = [Path(p).stat().st_size for p in (path, landmarks) if p is not None and Path(p).is_file()]
    return MEMORY_FLOOR + MEMORY_PER_FILE_BYTE * sum(sizes)


def _convert_in_child(path, landmarks, out: Path, python: str, timeout: float, extra_path) -> None:
    engine_dir = Path(__file__).resolve().parents[1]
    name = f"'{Path(path).name if path is not None else Path(landmarks).name}'"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*extra_path, *[p for p in sys.path if p]]))
    command = [python, "-c", CHILD, str(engine_dir), "" if path is None else str(path), str(landmarks or ""),
               str(out), str(_memory_limit(path, landmarks))]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise HeadModelError(f"Reading {name} took more than {timeout:.0f} s and was stopped; "
                             "the file is damaged or not a head model.") from None
    except OSError as error:
        raise HeadModelError(f"The head file reader could not be started ({error.strerror or error}); "
                             "reinstall the add-on.") from error
    _raise_for(done, name, out)


def _raise_for(done: subprocess.CompletedProcess, name: str, out: Path) -> None:
    """Nothing when the child wrote the head; else the HeadModelError that says what happened."""
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    try:
        message = json.loads(lines[-1]) if lines else {}
    except ValueError:  # something else printed a line of its own
        message = {}
    message = message if isinstance(message, dict) else {}
    if message.get("ok") and out.is_file():
        return
    if "error" in message:
        raise HeadModelError(str(message["error"]))
    if done.returncode < 0:
        raise HeadModelError(f"Reading {name} crashed the head file reader (signal {-done.returncode}); the file "
                             "is damaged or hostile, and nothing else was affected.")
    if "MemoryError" in done.stderr:
        raise HeadModelError(f"Reading {name} needs more memory than a head model file ever does; "
                             "the file is damaged or not a head model.")
    last = (done.stderr.strip().splitlines() or ["no output"])[-1][:160]
    raise HeadModelError(f"The head file reader stopped while reading {name} (exit code {done.returncode}: "
                         f"{last}); report it if the file is a FLAME model.")
