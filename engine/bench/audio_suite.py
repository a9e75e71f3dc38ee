"""Audio benchmarks: loading a long file in bounded memory, measured in a fresh process."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .measure import long_speech
from .report import Row

ROOT = Path(__file__).resolve().parent.parent.parent
FILE_RATE = 44100
WRITE_BLOCK_S = 60.0           # seconds of the long file generated and written at a time
STEREO_GAIN = 0.8              # the right channel is the left one, quieter, so the mix is not trivial
# The child prints: peak RSS before loading, peak RSS after, seconds, decoded duration.
CHILD = """
import sys, time
from engine.audio import load_audio
from engine.bench.memory import peak_rss_kib
before = peak_rss_kib()
start = time.perf_counter()
audio = load_audio(sys.argv[1])
seconds = time.perf_counter() - start
print(before, peak_rss_kib(), seconds, audio.duration)
"""

# The child animates the file with the phonetic driver while a thread samples the proportional
# memory (PSS: shared pages split between the processes sharing them) of its whole process tree
# (itself and its forked recognition workers) every 0.2 s. It prints: peak tree PSS (KiB), peak
# own RSS (KiB), seconds, duration.
ANIMATE_CHILD = """
import os, sys, threading, time
from engine.animate import animate
from engine.bench.memory import peak_rss_kib

def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []

def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
    except (OSError, ValueError):
        return 0

def tree_pss_kib():
    todo, total = [os.getpid()], 0
    while todo:
        pid = todo.pop()
        total += pss_kib(pid)
        todo += children(pid)
    return total

peak, done = [0], threading.Event()
def sample():
    while not done.wait(0.2):
        peak[0] = max(peak[0], tree_pss_kib())
threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
clip = animate(sys.argv[1], fps=30.0, driver="phonetic")
seconds = time.perf_counter() - start
done.set()
print(peak[0], peak_rss_kib(), seconds, clip.metadata["duration_s"])
"""


def long_file_loading(quick: bool, out: Path = None) -> list:
    """Peak memory and speed of `load_audio` on a 60-minute (quick: 5-minute) 44.1 kHz stereo
    16-bit WAV of tiled speech, decoded in a separate process so its peak RSS is its own."""
    minutes = 5.0 if quick else 60.0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long_speech.wav"
        write_long_wav(path, minutes)
        size_mb = path.stat().st_size / 1e6
        before_mb, peak_mb, seconds, duration = load_in_child(path)
        tree_mb, main_mb, animate_s, _ = run_child(ANIMATE_CHILD, path)
    what = f"load a {minutes:.0f}-min 44.1 kHz stereo 16-bit WAV ({size_mb:.0f} MB)"
    animated = f"animate the {minutes:.0f}-min WAV file with the phonetic driver"
    return [Row("Audio loading", f"{animated}: peak memory", max(tree_mb, main_mb), "MB", "", None, None,
                target="< 1 GB for 60 min",
                note=f"the larger of the main process's peak RSS ({main_mb:.0f} MB) and the PSS of all its "
                     f"processes together, sampled every 0.2 s ({tree_mb:.0f} MB)"),
            Row("Audio loading", f"{animated}: speed", duration / animate_s, "x real time", "real time", 1.0,
                duration / animate_s, note="file to MotionClip, 2 recognition workers"),
            Row("Audio loading", f"{what}: peak memory", peak_mb, "MB", "process before loading", before_mb,
                peak_mb / before_mb, target="< 1 GB for 60 min", note="fresh process, peak RSS of its own program (VmHWM); streamed in blocks"),
            Row("Audio loading", f"{what}: speed", duration / seconds, "x real time", "real time", 1.0,
                duration / seconds, note="decode, mix to mono, resample to 16 kHz")]


def write_long_wav(path: Path, minutes: float) -> None:
    """Write `minutes` of tiled sample speech as a 44.1 kHz stereo PCM_16 WAV, a block at a time."""
    import soundfile

    from ..audio.load import resample

    speech = long_speech(WRITE_BLOCK_S / 60.0)
    block = resample(speech.samples, speech.rate, FILE_RATE)
    stereo = np.stack([block, STEREO_GAIN * block], axis=1)
    total = int(round(minutes * 60 * FILE_RATE))
    with soundfile.SoundFile(str(path), "w", FILE_RATE, 2, subtype="PCM_16") as f:
        for start in range(0, total, stereo.shape[0]):
            f.write(stereo[: total - start])


def load_in_child(path: Path) -> tuple:
    """(MB before loading, peak MB, seconds, decoded seconds) of load_audio(path) in a new Python process."""
    return run_child(CHILD, path)


def run_child(script: str, path: Path) -> tuple:
    """Run `script` on `path` in a new Python process: its four printed numbers, the first two
    (KiB) converted to MB."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=3600)
    if not done.stdout.strip():
        raise RuntimeError(f"the benchmark process printed nothing after {time.perf_counter() - started:.0f} s")
    a, b, seconds, duration = (float(v) for v in done.stdout.split()[-4:])
    return a / 1024.0, b / 1024.0, seconds, duration
