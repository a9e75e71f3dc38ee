"""Benchmark Render to Sequencer in Blender: wall-clock frames per second of the add-on's render job, from the
operator's call to the image strip placed (the engine's child started, every frame rendered and written as PNG,
the strip made), for the shipped looks at 256² and 512².

    python addon/scripts/bench_sequencer.py --out out/bench_sequencer.json [--quick] [--looks toon,clay]

Writes benchmark rows (engine.bench.report.Row fields) as JSON; `build.py bench` merges them into
out/bench.md. Runs in background mode, where the operator waits for its job (`execute`). Each row is the
best of the repeats; its note gives every run's wall time and the CPU seconds of the process and its
children, and the load average, since on a shared machine wall time is what other work leaves.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import bpy  # noqa: E402

import addon  # noqa: E402
from addon.blender import sequencer  # noqa: E402
from engine.bench.measure import SAMPLE_VOICE  # noqa: E402
from engine.bench.report import Row  # noqa: E402
from keyed_scene import keyed_head_scene  # noqa: E402  (beside this script)

SIZES = (256, 512)
TARGETS = {256: 25.0, 512: 15.0}


def shot(folder: Path, look: str, size: int, frames: int):
    """A saved .blend in `folder`: the built-in head keyed with the sample voice's clip at 30 fps, the voice
    strip on channel 1, square frames of `size`, the scene's first `frames` frames, the look chosen."""
    bpy.ops.wm.read_factory_settings(use_empty=True)   # the add-on's classes stay registered (main)
    scene, _, clip = keyed_head_scene(30.0, look, size)
    sequencer.place_sound(scene, str(SAMPLE_VOICE), clip.start_frame)
    scene.frame_end = min(clip.end_frame, clip.start_frame + frames - 1)
    bpy.ops.wm.save_as_mainfile(filepath=str(folder / "bench.blend"))
    return scene


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def render_once(scene) -> tuple[float, float, int]:
    """(wall s, CPU s, frames) of one Render to Sequencer of the scene."""
    frames = scene.frame_end - scene.frame_start + 1
    cpu, start = cpu_seconds(), time.perf_counter()
    if bpy.ops.talking_head.render_sequence() != {'FINISHED'}:
        raise RuntimeError(f"Render to Sequencer failed: {scene.talking_head.render.status}")
    wall = time.perf_counter() - start
    return wall, cpu_seconds() - cpu, frames


def rows(looks: list, quick: bool) -> list:
    frames, repeats = (60, 2) if quick else (150, 3)
    out = []
    for look in looks:
        for size in SIZES:
            with tempfile.TemporaryDirectory() as folder:
                scene = shot(Path(folder), look, size, frames)
                runs = [render_once(scene) for _ in range(repeats)]
                shutil.rmtree(Path(folder) / "talking_head_frames", ignore_errors=True)
            best = min(runs)
            fps = best[2] / best[0]
            note = (f"{best[2]} frames from the operator's call to the strip, engine start-up included; runs "
                    + ", ".join(f"{w:.2f} s wall / {c:.2f} CPU s" for w, c, _ in runs)
                    + f" ({1000 * min(c for _, c, _ in runs) / best[2]:.0f} ms CPU a frame); load average "
                    + "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
            out.append(Row("Render to Sequencer", f"{look} look, {size}x{size}, wall clock", fps, "frames/s",
                           target=f">= {TARGETS[size]:.0f} frames/s on 2 cores", note=note))
            print(f"{look} {size}: {fps:.1f} frames/s ({note})", flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output JSON file of rows")
    parser.add_argument("--quick", action="store_true", help="60 frames, two runs (else 150, three)")
    parser.add_argument("--looks", default="toon,clay", help="comma-separated shipped looks (default toon,clay)")
    args = parser.parse_args(argv)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    addon.register()
    found = rows([name for name in args.looks.split(",") if name], args.quick)
    Path(args.out).write_text(json.dumps([asdict(r) for r in found], indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
