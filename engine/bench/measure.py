"""What the benchmark suites measure with: the best of a few timed runs, and long speech from the shipped voice."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

SAMPLE_VOICE = Path(__file__).resolve().parent.parent / "data" / "voices" / "sample_en.wav"


def best_time(fn, repeats: int = 3) -> float:
    """The fastest of `repeats` runs of fn(), in seconds (the least disturbed by a shared machine)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def long_speech(minutes: float):
    """The shipped sample voice repeated to `minutes` of decoded Audio (for speed benchmarks)."""
    from ..audio import load_audio

    voice = load_audio(SAMPLE_VOICE)
    repeats = int(np.ceil(minutes * 60 / voice.duration))
    samples = np.tile(voice.samples, repeats)[: int(minutes * 60 * voice.rate)]
    return type(voice)(samples, voice.rate, voice.source)
