"""Every file of ../shared/hostile/ (its README says what each once did): from the library, a one-sentence
EngineError (or a correct result) within 2 s and 300 MB of extra memory, in a forked child; from the CLI,
one line on stderr and exit code 2 (1 for a look), within 2 s in the command and 300 MB in all."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.fuzz.sandbox import run_case

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT.parent / "shared" / "hostile"
FILES = sorted(p for p in HOSTILE.glob("*") if p.name != "README.md") if HOSTILE.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason=f"the hostile samples folder {HOSTILE} is absent")
LIMIT_S, LIMIT_MB = 2.0, 300


def library_call(path: Path):
    """The engine call a user's file of this kind meets (by its name's prefix and suffix)."""
    from engine.audio import load_audio
    from engine.head import load_head
    from engine.motion import MotionClip
    from engine.nldf import load_look

    if path.name.startswith("look_sidecar"):
        return lambda p: load_look(p.with_suffix(".onnx"))
    if path.suffix in (".wav", ".flac"):
        return load_audio
    if path.name.startswith(("flame_", "head_")):
        return load_head
    if path.suffix == ".csv":
        return MotionClip.from_arkit_csv
    return MotionClip.load


def cli_arguments(path: Path, tmp_path: Path) -> list:
    if path.name.startswith("look_sidecar"):
        clip = tmp_path / "clip.npz"
        from engine.motion import MotionClip

        MotionClip(names=["jaw_rx"], values=np.zeros((2, 1), np.float32), fps=30.0).save(clip)
        return ["render", str(clip), "-o", str(tmp_path / "frames"), "--look", str(path.with_suffix(".onnx"))]
    if path.suffix in (".wav", ".flac"):
        return ["animate", str(path), "-o", str(tmp_path / "out.npz")]
    if path.name.startswith(("flame_", "head_")):
        return ["head", "info", str(path)]
    return ["clip", "info", str(path)]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_library_gives_one_sentence_in_bounded_time_and_memory(path, tmp_path):
    load = library_call(path)
    local = tmp_path / path.name
    for companion in path.parent.glob(path.stem + ".*"):  # a look's .onnx travels with its .json
        local.with_suffix(companion.suffix).write_bytes(companion.read_bytes())
    outcome = run_case(load, path.read_bytes(), local, memory_mb=LIMIT_MB, seconds=LIMIT_S)
    print(f"{path.name}: {outcome.kind} in {outcome.seconds:.3f} s: {outcome.detail}")
    assert outcome.good, f"{path.name}: {outcome.kind} ({outcome.detail})"
    assert outcome.seconds < LIMIT_S


# VmHWM, not ru_maxrss: Linux carries a parent's ru_maxrss into its exec'd children (pytest's, here)
PEAK = ("import sys, time\n"
        "from engine.cli.main import main\n"
        "start = time.perf_counter()\n"
        "try:\n    code = main(sys.argv[1:])\n"
        "finally:\n"
        "    hwm = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "    sys.stderr.write(f\"PEAK_KB {hwm} {time.perf_counter() - start}\\n\")\n"
        "sys.exit(code)\n")


def run_cli(arguments: list) -> tuple:
    """(exit code, stderr without the figures line, seconds in the command, wall seconds, peak MB) of the CLI."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *arguments], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    wall = time.perf_counter() - start
    lines = done.stderr.splitlines()
    figures = next(line.split() for line in lines if line.startswith("PEAK_KB"))
    err = "\n".join(line for line in lines if not line.startswith("PEAK_KB"))
    return done.returncode, err, float(figures[2]), wall, int(figures[1]) / 1024


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_cli_gives_one_sentence_in_bounded_time_and_memory(path, tmp_path):
    code, err, seconds, wall, peak_mb = run_cli(cli_arguments(path, tmp_path))
    print(f"{path.name}: exit {code}, {seconds:.2f} s in the command ({wall:.2f} s with Python's start), "
          f"peak {peak_mb:.0f} MB: {err}")
    assert code in (1, 2) and err.startswith("error: ") and "\n" not in err, err  # 1: a look (ModelError)
    assert "internal error" not in err and "Traceback" not in err
    assert seconds < LIMIT_S and peak_mb < LIMIT_MB
