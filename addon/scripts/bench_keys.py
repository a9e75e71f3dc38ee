"""Benchmark the add-on's keying: bulk F-Curve writes vs a keyframe_insert loop, on the same clip.

    python addon/scripts/bench_keys.py --out out/bench_keys.json [--quick]

Writes benchmark rows (engine.bench.report.Row fields) as JSON; `build.py bench`
merges them into out/bench.md. Lives beside the add-on because it needs bpy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import bpy  # noqa: E402

import addon  # noqa: E402
from addon.blender import bone_rotations, head_object, keying, target_rig  # noqa: E402
from engine import animate, load_head  # noqa: E402
from engine.bench.report import Row  # noqa: E402
from engine.bench.measure import long_speech  # noqa: E402

def fresh_head():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon.register()
    mesh_obj, _ = head_object.add_head(bpy.context, load_head())
    return mesh_obj


def long_clip(minutes: float, fps: float = 30.0):
    return animate(long_speech(minutes), fps=fps)


def bulk_seconds(clip) -> float:
    mesh_obj = fresh_head()
    start = time.perf_counter()
    keying.key_clip(clip, mesh_obj)
    seconds = time.perf_counter() - start
    addon.unregister()
    return seconds


def insert_loop_seconds(clip, frames: int) -> float:
    """keyframe_insert per key and frame, on the first `frames` frames of the same channels."""
    mesh_obj = fresh_head()
    key, rig = mesh_obj.data.shape_keys, target_rig.find_armature(mesh_obj)
    shapes = [(c, key.key_blocks[n]) for c, n in enumerate(clip.names) if n in key.key_blocks]
    rotations = {j: bone_rotations.quaternions(aa) for j, (aa, _) in bone_rotations.joint_rotations(clip).items()}
    joints = list(rotations)
    start = time.perf_counter()
    for t in range(frames):
        frame = clip.start_frame + t
        for c, block in shapes:
            block.value = float(clip.values[t, c])
            block.keyframe_insert("value", frame=frame)
        for j in joints:
            bone = rig.pose.bones[j]
            bone.rotation_quaternion = rotations[j][t]
            bone.keyframe_insert("rotation_quaternion", frame=frame)
    seconds = time.perf_counter() - start
    addon.unregister()
    return seconds


def rows(quick: bool) -> list:
    minutes = 1.0 if quick else 10.0
    clip = long_clip(minutes)
    keys = clip.num_frames * (len(clip.names) + 4)  # quaternions key 4 curves per joint, ~1 per channel
    bulk = bulk_seconds(clip)
    loop_frames = 150 if quick else 600
    loop = insert_loop_seconds(clip, loop_frames) * clip.num_frames / loop_frames
    return [Row("Blender add-on", f"key {minutes:g} min at 30 fps ({clip.num_frames} frames, "
                f"{len(clip.names)} channels)", bulk, "s", "keyframe_insert loop (extrapolated from "
                f"{loop_frames} frames)", loop, loop / bulk, target="10 min keys in a few seconds",
                note=f"{keys / bulk:,.0f} keys/s bulk")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output JSON file of rows")
    parser.add_argument("--quick", action="store_true", help="1 minute instead of 10")
    args = parser.parse_args(argv)
    Path(args.out).write_text(json.dumps([asdict(r) for r in rows(args.quick)], indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
