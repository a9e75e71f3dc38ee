"""Benchmark the preview in Blender: the live preview's frame-change-to-pixels latency, stepping and scrubbing,
and the preview's silhouette against Blender's own render of the same head from the same camera.

    python addon/scripts/bench_preview.py --out out/bench_preview.json [--quick] [--pictures out/]

Writes benchmark rows (engine.bench.report.Row fields) as JSON; `build.py bench` merges them into
out/bench.md. Timers do not run in background mode, so this script calls the live preview's timer
function (`live_preview.drain`) itself, every millisecond, as Blender's timer would every POLL_S.
Needs the shipped toon look (engine/models/nldf_toon.onnx).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import bpy  # noqa: E402
from mathutils import Matrix, Vector  # noqa: E402

import addon  # noqa: E402
from addon.blender import image_editor, render_camera  # noqa: E402
from addon.ops import live_preview  # noqa: E402
from addon.blender.axes import to_blender  # noqa: E402
from engine import load_head  # noqa: E402
from engine.bench.report import Row  # noqa: E402
from keyed_scene import keyed_head_scene  # noqa: E402  (beside this script)
from engine.preview.png import write_png  # noqa: E402
from engine.preview.sheet import contact_sheet  # noqa: E402
from engine.render import render_mesh  # noqa: E402
from engine.render.camera import orbit_direction  # noqa: E402

LOOK = "toon"
SIZE = 256
# (name, yaw°, pitch°, distance m from the head's framing centre, lens mm): the cameras of issue 15
CAMERAS = (("front, 1 m, 50 mm", 0.0, 0.0, 1.0, 50.0), ("yaw 12°, pitch 5°, 1.2 m, 50 mm", 12.0, 5.0, 1.2, 50.0),
           ("yaw -20°, 0.8 m, 35 mm", -20.0, 0.0, 0.8, 35.0), ("yaw 25°, 1.6 m, 85 mm", 25.0, 0.0, 1.6, 85.0))


def shot():
    """A fresh scene: the built-in head keyed with the sample voice's clip (24 fps), square 256² frames."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon.register()
    return keyed_head_scene(24.0, LOOK, SIZE)


def place_camera(scene, head_obj, yaw: float, pitch: float, distance: float, lens: float):
    """The scene camera at yaw/pitch/distance from the built-in head's framing centre, looking at it."""
    data = bpy.data.cameras.new("Bench Camera")
    data.lens = lens
    camera = bpy.data.objects.new("Bench Camera", data)
    scene.collection.objects.link(camera)
    pivot = render_camera._rest_framing()["pivot"]
    eye = to_blender(pivot + distance * orbit_direction(yaw, pitch))
    rotation = (Vector(to_blender(pivot)) - Vector(eye)).to_track_quat('-Z', 'Y')
    camera.matrix_world = head_obj.matrix_world @ Matrix.LocRotScale(Vector(eye), rotation, None)
    scene.camera = camera
    bpy.context.view_layer.update()
    return camera


def show(scene, frame: int, timeout: float = 120.0) -> float:
    """Go to `frame`, ask the live preview for it and drain until it is shown; seconds it took."""
    shown = len(live_preview.LATENCIES)
    scene.frame_set(frame)
    live_preview.frame_changed(scene)
    deadline = time.perf_counter() + timeout
    while True:
        more = live_preview.drain()
        if len(live_preview.LATENCIES) > shown:
            break
        if (more is None and not live_preview.busy()) or time.perf_counter() > deadline:
            raise RuntimeError(f"the live preview did not show frame {frame}: {addon.ops.render_ops.last_failure(scene)}")
        time.sleep(0.001)
    return live_preview.LATENCIES[-1][1]


def scrub(scene, frames: list, rate: float) -> tuple:
    """Frame changes at `rate` per second through `frames`, draining between them, then until idle:
    (frames shown per second, latencies [s] of the frames shown)."""
    before = len(live_preview.LATENCIES)
    start = time.perf_counter()
    for k, frame in enumerate(frames):
        scene.frame_set(frame)
        live_preview.frame_changed(scene)
        while time.perf_counter() < start + (k + 1) / rate:
            live_preview.drain()
            time.sleep(0.001)
    elapsed = time.perf_counter() - start
    while live_preview.busy():
        live_preview.drain()
        time.sleep(0.001)
    latencies = [s for _, s in list(live_preview.LATENCIES)[before:]]
    return len(latencies) / elapsed, latencies


def latency_rows(scene, clip, quick: bool) -> list:
    first = clip.start_frame + 10
    start = time.perf_counter()
    show(scene, first)
    warm_up = time.perf_counter() - start
    steps = [show(scene, first + k) for k in range(1, 21 if quick else 61)]
    fps, scrubbed = scrub(scene, list(range(first, first + (60 if quick else 150))), 30.0)
    old = one_process_preview(scene)
    median, p95 = np.median(steps), np.percentile(steps, 95)
    note = f"{LOOK} look, {SIZE}x{SIZE}, 2 CPU cores; the first frame (render engine start) took {warm_up:.1f} s"
    return [Row("Live preview", f"frame change to pixels, one frame at a time (median of {len(steps)})",
                1000 * median, "ms", "one engine process per frame (before)", 1000 * old, old / median,
                target="10 frames/s: under 100 ms", note=note),
            Row("Live preview", "frame change to pixels, one frame at a time (p95)", 1000 * p95, "ms",
                target="under 100 ms"),
            Row("Live preview", "frames shown while scrubbing at 30 frame changes/s", fps, "frames/s",
                target=">= 10 frames/s", note=f"stale frames dropped; latency of those shown: median "
                f"{1000 * np.median(scrubbed):.0f} ms, p95 {1000 * np.percentile(scrubbed, 95):.0f} ms")]


def one_process_preview(scene) -> float:
    """Seconds of one Preview through a fresh engine process, as Follow Frame did before the live preview."""
    live_preview.stop()
    start = time.perf_counter()
    assert bpy.ops.talking_head.render_preview() == {'FINISHED'}
    return time.perf_counter() - start


def blender_alpha(scene, path: Path, engine: str = 'BLENDER_WORKBENCH') -> np.ndarray:
    """Blender's own render of the scene camera's view, [H, W, 4] RGBA, film transparent: Workbench, or Cycles
    (16 samples, so its alpha is the pixel's coverage) when asked or where Workbench cannot run."""
    scene.render.film_transparent = True
    scene.render.filepath = str(path)
    scene.render.image_settings.file_format = 'PNG'
    scene.render.image_settings.color_mode = 'RGBA'
    try:
        scene.render.engine = engine
        if engine == 'CYCLES':
            scene.cycles.samples, scene.cycles.device = 16, 'CPU'
        bpy.ops.render.render(write_still=True)
    except RuntimeError:
        scene.render.engine, scene.cycles.samples = 'CYCLES', 16
        bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(str(path))
    pixels = np.empty(len(image.pixels), np.float32)
    image.pixels.foreach_get(pixels)
    rgba = pixels.reshape(image.size[1], image.size[0], 4)[::-1].copy()
    bpy.data.images.remove(image)
    return rgba


def preview_rgba() -> np.ndarray:
    image = bpy.data.images[image_editor.PREVIEW_IMAGE]
    pixels = np.empty(len(image.pixels), np.float32)
    image.pixels.foreach_get(pixels)
    return pixels.reshape(image.size[1], image.size[0], 4)[::-1].copy()


def mesh_alpha(scene, mesh_obj, clip, frame: int) -> np.ndarray:
    """The engine's mesh rasterizer through the converted camera: [H, W] alpha (the geometry alone)."""
    head = load_head()
    params = clip.head_params(head)
    t = frame - clip.start_frame
    verts, _ = head.forward(params["expression"][t:t + 1], params["pose"][t:t + 1],
                            translation=params["translation"][t:t + 1])
    camera = render_camera.scene_camera(scene, mesh_obj, SIZE)
    return render_mesh(camera, verts[0], head.faces, supersample=1)[..., 3]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two silhouettes (alpha > 0.5)."""
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


def iou_rows(scene, mesh_obj, clip, pictures: Path) -> list:
    """One IoU row per camera; pictures/preview_vs_blender.png: each camera's Blender render beside the preview."""
    rows, frame, cells, labels = [], clip.start_frame + 30, [], []
    for name, yaw, pitch, distance, lens in CAMERAS:
        camera = place_camera(scene, mesh_obj, yaw, pitch, distance, lens)
        show(scene, frame)
        blender = blender_alpha(scene, pictures / "blender.png")
        preview = preview_rgba()
        value, geometry = iou(blender[..., 3], preview[..., 3]), iou(blender[..., 3], mesh_alpha(scene, mesh_obj,
                                                                                                  clip, frame))
        rows.append(Row("Preview vs Blender", f"silhouette IoU, {name}", value, "", "the engine's mesh through the "
                        "same camera", geometry, value / geometry, target=">= 0.9 where the look was trained",
                        note=f"Workbench vs the {LOOK} look, {SIZE}x{SIZE}, alpha > 0.5, frame {frame}"))
        cycles = blender_alpha(scene, pictures / "cycles.png", 'CYCLES')[..., 3]
        rows.append(Row("Preview vs Blender", f"silhouette IoU against Cycles, {name}", iou(cycles, preview[..., 3]),
                        "", "Workbench against Cycles", iou(cycles, blender[..., 3]), target=">= 0.9 where the "
                        "look was trained", note=f"Cycles (16 samples, film transparent) vs the {LOOK} look, "
                        f"{SIZE}x{SIZE}, alpha > 0.5, frame {frame}"))
        cells += [blender, preview]
        short = name.replace("°", "").replace(", ", " ")
        labels += [f"Blender {short}", f"preview IoU {value:.3f}"]
        bpy.data.objects.remove(camera)
    write_png(pictures / "preview_vs_blender.png", contact_sheet(np.clip(np.stack(cells), 0, 1), labels, columns=4))
    return rows


def rows(quick: bool, pictures: Path) -> list:
    scene, mesh_obj, clip = shot()
    try:
        place_camera(scene, mesh_obj, *CAMERAS[0][1:])
        found = latency_rows(scene, clip, quick)
        found += iou_rows(scene, mesh_obj, clip, pictures)
    finally:
        live_preview.stop()
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output JSON file of rows")
    parser.add_argument("--quick", action="store_true", help="fewer frames")
    parser.add_argument("--pictures", default=None, help="folder for the side-by-side PNGs (default: beside --out)")
    args = parser.parse_args(argv)
    pictures = Path(args.pictures or Path(args.out).parent)
    pictures.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps([asdict(r) for r in rows(args.quick, pictures)], indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
