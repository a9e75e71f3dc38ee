"""The demo: a voice clip to a lip-synced built-in head, in headless Blender.

    python addon/scripts/demo_scene.py --out out/ [--audio voice.wav] [--fps 30] [--size 256] [--dev]

What a user does in the UI, done by script: install and enable the extension
zip (built here with its bundled wheels, into a fresh Blender user folder under
out/blender-user), add the built-in head, animate it from a voice, save the
.blend. `--dev` enables the checkout's add-on folder instead. When NLDF looks are installed,
the first is rendered into the sequencer with the add-on's Render to Sequencer (so the .blend
has the image strip above the sound strip) and every look gets a video with the voice,
`demo_<look>.mp4`, and a row of frames in the picture. Then, to show the
result, every frame of the saved scene's *evaluated* mesh (what Blender plays)
is rendered with the engine's mesh renderer into a video with the voice, and
a picture is made: the head's expressions, frames of the performance, and
plots of the main channels.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "addon" / "scripts"))
EXTENSION = "bl_ext.user_default.talking_head"


def _user_folder() -> Path:
    """A fresh Blender user folder under --out (read before bpy starts: Blender reads it once)."""
    out = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else ROOT / "out"
    folder = out.resolve() / "blender-user"
    shutil.rmtree(folder, ignore_errors=True)
    return folder


if __name__ == "__main__" and "--dev" not in sys.argv:
    os.environ["BLENDER_USER_RESOURCES"] = str(_user_folder())

import bpy  # noqa: E402

import package_extension  # noqa: E402
from engine import load_head  # noqa: E402
from engine.preview import clip_plot, contact_sheet, video_frames, write_png, write_video  # noqa: E402
from engine.preview.gallery import expression_gallery, stack_images  # noqa: E402
from engine.progress import Reporter, TerminalBar  # noqa: E402
from engine.nldf import installed_looks, render_clip  # noqa: E402
from engine.render import default_framing, render_mesh  # noqa: E402

SAMPLE_VOICE = ROOT / "engine" / "data" / "voices" / "sample_en.wav"
SHEET_FRAMES = 10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "out"), help="output folder")
    parser.add_argument("--audio", default=str(SAMPLE_VOICE), help="voice clip (default: the shipped sample)")
    parser.add_argument("--fps", type=int, default=30, help="scene frame rate")
    parser.add_argument("--size", type=int, default=320, help="preview video size in pixels")
    parser.add_argument("--dev", action="store_true", help="use the checkout's add-on folder, not the extension zip")
    return parser.parse_args(argv)


def enable_addon(out: Path, dev: bool):
    """The add-on's package, enabled: the extension zip installed as a user would, or the checkout's."""
    if dev:
        import addon
        addon.register()
        return addon
    target = package_extension.build(out / "dist")
    bpy.ops.extensions.package_install_files(filepath=str(target), repo="user_default", enable_on_install=True)
    if EXTENSION not in bpy.context.preferences.addons:
        raise SystemExit(f"demo: the extension {target.name} did not enable; see the messages above.")
    return importlib.import_module(EXTENSION)


def build_scene(audio: str, fps: int, out: Path, dev: bool = False):
    """Factory scene -> add-on on -> built-in head -> animated from `audio`. Returns (head object, add-on package)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    package = enable_addon(out, dev)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = fps, 1.0
    scene.frame_start = scene.frame_end = 1
    bpy.ops.talking_head.add_builtin_head()
    settings = scene.talking_head
    settings.audio_path = audio
    try:
        bpy.ops.talking_head.animate()
    except RuntimeError as error:  # an operator's ERROR report, raised in background mode
        raise SystemExit(f"demo: animating failed: {str(error).removeprefix('Error: ').strip()}") from None
    print(settings.status)
    return settings.target, package


def evaluated_frames(head_obj, target_rig):
    """Vertices [T, V, 3] (FLAME frame) of the evaluated mesh at every frame of the scene."""
    scene = bpy.context.scene
    frames = []
    for frame in range(scene.frame_start, scene.frame_end + 1):
        scene.frame_set(frame)
        frames.append(target_rig.evaluated_vertices(bpy.context, head_obj))
    return np.stack(frames)


def render_frames(head, vertices, size: int):
    """RGBA float frames [H, W, 4] of the given vertex frames, with a progress bar."""
    camera = default_framing(head.v_template, size)
    reporter = Reporter(TerminalBar(delay=0.5))
    reporter.stage("render frames", len(vertices))
    for t, verts in enumerate(vertices):
        yield render_mesh(camera, verts, head.faces, head.vertex_colors)
        reporter.update(t + 1)


def render_looks(clip, out: Path, audio: str, fps: int, size: int) -> tuple[list, list]:
    """Every installed look: out/demo_<look>.mp4 with the voice, and SHEET_FRAMES frames of each for the
    picture. The first look also goes into the scene's sequencer through the add-on (one image strip)."""
    looks = installed_looks()
    if not looks:
        return [], []
    settings = bpy.context.scene.talking_head.render
    settings.look_name = looks[0]
    try:
        bpy.ops.talking_head.render_sequence()
    except RuntimeError as error:
        raise SystemExit(f"demo: rendering to the sequencer failed: {str(error).removeprefix('Error: ').strip()}") from None
    videos, rows = [], []
    picks = np.linspace(0, clip.num_frames - 1, SHEET_FRAMES).round().astype(int)
    for look in looks:
        frames = list(render_clip(clip, look, size=size, reporter=Reporter(TerminalBar(delay=0.5))))
        floats = (f.astype(np.float32) / 255.0 for f in frames)   # render_clip gives RGBA uint8
        videos.append(write_video(out / f"demo_{look}.mp4", video_frames(floats), fps=fps,
                                  audio_path=audio, total=len(frames)))
        rows.append(contact_sheet(np.stack([frames[p] for p in picks]), [f"{look} {p + 1}" for p in picks],
                                  columns=SHEET_FRAMES))
    return videos, rows


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    head_obj, package = build_scene(args.audio, args.fps, out, args.dev)
    blend = out / "demo.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    head = load_head()
    vertices = evaluated_frames(head_obj, importlib.import_module(f"{package.__name__}.blender.target_rig"))
    video = write_video(out / "demo.mp4", video_frames(render_frames(head, vertices, args.size)),
                        fps=args.fps, audio_path=args.audio, total=len(vertices))
    picks = np.linspace(0, len(vertices) - 1, SHEET_FRAMES).round().astype(int)
    sheet_frames = list(render_frames(head, vertices[picks], 200))
    labels = [f"frame {bpy.context.scene.frame_start + p}" for p in picks]
    clip = importlib.import_module(f"{package.__name__}.engine_link.results").latest(head_obj)
    videos, look_rows = render_looks(clip, out, args.audio, args.fps, 256)
    if videos:
        bpy.ops.wm.save_as_mainfile(filepath=str(blend))   # with the look's image strip
    picture = stack_images([
        expression_gallery(head, size=200),
        contact_sheet(np.stack(sheet_frames), labels, columns=5),
        *look_rows,
        clip_plot(clip, title=f"Main channels ({clip.metadata['driver']} driver)", size=(1100, 420)),
    ])
    write_png(out / "demo.png", picture)
    written = ", ".join(str(v) for v in [video, *videos])
    print(f"wrote {blend}, {written}, {out / 'demo.png'} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
