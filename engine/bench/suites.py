"""The engine's benchmark suites. Each: (quick: bool, out: folder for figures) -> list[Row]."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .report import Row

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


def skinning(quick: bool, out: Path) -> list:
    """Batched FLAME skinning of the built-in head vs a per-frame loop over the same frames."""
    from ..head import load_head

    head = load_head()
    T = 200 if quick else 1000
    rng = np.random.default_rng(0)
    expression = rng.uniform(0, 1, (T, len(head.expression_names))).astype(np.float32)
    pose = rng.normal(0, 0.1, (T, 5, 3)).astype(np.float32)
    batched = best_time(lambda: head.forward(expression, pose))
    loop_frames = max(20, T // 10)
    looped = best_time(lambda: [head.forward(expression[t], pose[t]) for t in range(loop_frames)], 1)
    looped *= T / loop_frames
    return [Row("Head model", f"skin {T} frames of the built-in head ({head.num_vertices} vertices)",
                batched, "s", "per-frame loop", looped, looped / batched,
                target="1,000 frames well under 1 s", note="numpy LBS, FLAME definition")]


def energy_driver(quick: bool, out: Path) -> list:
    """The audio-energy driver's speed as a multiple of real time, file to MotionClip."""
    from ..animate import animate

    long_audio = long_speech(0.5 if quick else 2.0)
    seconds = best_time(lambda: animate(long_audio, fps=30.0, driver="energy"), 2)
    return [Row("Speech to motion", f"energy driver, {long_audio.duration / 60:.1f} min of speech at 30 fps",
                long_audio.duration / seconds, "x real time", "real time", 1.0, long_audio.duration / seconds,
                note="features included; audio already decoded")]


def _suites() -> list:
    from .audio_suite import long_file_loading
    from .real_speech_suite import real_speech
    from .speech_suite import adf_driver, lipsync_quality, phonetic_driver
    from .startup_suite import startup
    from .render_suite import nldf_vs_nerf
    from .style_suite import adf_styles
    from .style_video_suite import style_from_video
    from .throughput_suite import render_throughput
    from .video_suite import known_answers, real_clips, tracking_memory, tracking_speed

    return [("start-up", startup), ("skinning", skinning), ("long audio file", long_file_loading),
            ("energy driver", energy_driver),
            ("phonetic driver", phonetic_driver), ("lip-sync quality", lipsync_quality), ("adf network", adf_driver),
            ("styles", adf_styles), ("nldf vs nerf", nldf_vs_nerf),
            ("render throughput", render_throughput),
            ("video tracking speed", tracking_speed), ("video tracking memory", tracking_memory),
            ("video tracking accuracy", real_clips), ("video known answers", known_answers),
            ("style from a video", style_from_video),
            ("lip sync on real speech", real_speech)]


SUITES = _suites()
