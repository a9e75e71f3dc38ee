"""Rendering where users feel it: `python -m engine render` to PNG frames, start to exit, in fresh processes,
beside the renderer alone (the same frames in this process, no files) measured in the same run.

The clip is the shipped sample voice through the energy driver (10 s at 30 fps;
2 s in quick runs), rendered in the first installed look at 256² and 512². The
Render to Sequencer job of the add-on writes its frames with the same writer
(`engine.preview.frames.write_frames`). The renderer alone renders as the render
job does: `clip_workers` frames at once, each on its share of onnxruntime threads. A row also times the PNG encoding
alone, the sequence writer's fast one against `write_png`'s default (zlib
level 6, up filter), on the rendered frames. The machine's load average and the
CPU seconds per frame of both are in the notes: on a shared machine the CPU
figures hold better than the frames per second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .report import Row

ROOT = Path(__file__).resolve().parents[2]
SIZES = (256, 512)
TARGETS = {256: 25.0, 512: 15.0}  # whole-process frames per second on 2 cores (the looks issue)
QUICK_FRAMES = 60


def render_throughput(quick: bool, out: Path) -> list:
    """Whole-process render fps vs the renderer alone, per size; PNG encoding ms per frame, fast vs level 6."""
    from ..nldf import installed_looks, load_look
    from ..nldf.render import check_camera, clip_workers, default_camera

    looks = installed_looks()
    if not looks:
        return [Row("Render throughput", "whole-process render", 0.0, "", note="needs an installed look")]
    look = load_look(looks[0], threads=clip_workers()[1])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        clip_path = _bench_clip(Path(folder), QUICK_FRAMES if quick else 0)
        for size in SIZES[:1] if quick else SIZES:
            try:
                check_camera(look, default_camera(look, size))
            except Exception:  # noqa: BLE001 - a look of fixed sizes skips the others
                continue
            rows += _size_rows(look, clip_path, size, Path(folder) / f"frames_{size}")
    return rows


def _bench_clip(folder: Path, frames: int) -> Path:
    """The sample voice as a MotionClip (energy driver, 30 fps), its first `frames` frames (0: all), saved."""
    from ..animate import animate
    from ..motion import MotionClip
    from .measure import SAMPLE_VOICE

    clip = animate(SAMPLE_VOICE, fps=30.0, driver="energy")
    if frames:
        clip = MotionClip(clip.names, clip.values[:frames], clip.fps, clip.start_frame)
    return clip.save(folder / "clip.npz")


def _size_rows(look, clip_path: Path, size: int, folder: Path) -> list:
    from ..motion import MotionClip
    from ..nldf import render_clip

    clip = MotionClip.load(clip_path)
    renderer_fps, renderer_cpu, frames = _renderer_alone(look, clip, size, render_clip)
    cores = os.cpu_count() or 1
    whole, whole_cpu = _whole_process_seconds(["-m", "engine", "render", str(clip_path), "-o", str(folder),
                                               "--size", str(size), "--look", look.name])
    written = sorted(folder.glob("frame_*.png"))
    fps = clip.num_frames / whole
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    label, group = f"{size}², {clip.num_frames} frames, look '{look.name}'", "Render throughput"
    rows = [Row(group, f"{label}: `python -m engine render` to PNG, start to exit", fps, "fps",
                "the renderer alone (no files)", renderer_fps, fps / renderer_fps,
                target=f">= {TARGETS.get(size, 0):g} fps on 2 cores",
                note=f"fresh process, start-up and look loading included; {len(written)} PNGs; CPU per frame "
                     f"{1000 * whole_cpu / clip.num_frames:.0f} ms vs {1000 * renderer_cpu / clip.num_frames:.0f} ms "
                     f"alone (so at most {cores * clip.num_frames / whole_cpu:.0f} fps on {cores} idle cores); "
                     f"load {load}")]
    fast, default = _png_ms(frames)
    rows.append(Row(group, f"{label}: PNG encoding per frame (sub filter, run-length, level 1)", fast, "ms",
                    "zlib level 6, up filter", default, default / fast,
                    note=f"sizes {_png_kb(frames, True):.0f} kB vs {_png_kb(frames, False):.0f} kB a frame"))
    return rows


def _renderer_alone(look, clip, size: int, render_clip) -> tuple:
    """(frames per second of render_clip over the whole clip after one warm-up frame, its CPU seconds, a few of
    its frames), rendering `clip_workers` frames at once as the render job does."""
    from ..nldf.render import clip_workers

    workers = 1 if look.on_gpu else clip_workers()[0]
    next(iter(render_clip(clip, look, size=size)))
    start, cpu = time.perf_counter(), time.process_time()
    frames = [f for t, f in enumerate(render_clip(clip, look, size=size, workers=workers)) if t % 30 == 0]
    return clip.num_frames / (time.perf_counter() - start), time.process_time() - cpu, frames


def _whole_process_seconds(args: list) -> tuple:
    """(wall seconds, CPU seconds: NaN where `resource` is missing, as on Windows) of `python *args`, start to exit."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed: {done.stderr[-500:]}")
    return seconds, _children_cpu() - before


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children; NaN without `resource`."""
    try:
        import resource
    except ImportError:
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _png_ms(frames: list) -> tuple:
    """Best-of-three CPU ms per frame of encoding `frames`: (fast, level 6)."""
    from ..preview.png import encode_png

    def best(fast: bool) -> float:
        times = []
        for _ in range(3):
            start = time.process_time()
            for frame in frames:
                encode_png(frame, fast=fast)
            times.append(time.process_time() - start)
        return 1000.0 * min(times) / len(frames)
    return best(True), best(False)


def _png_kb(frames: list, fast: bool) -> float:
    from ..preview.png import encode_png

    return sum(len(encode_png(f, fast=fast)) for f in frames) / len(frames) / 1024.0
