"""What a render asks of the engine: the head's clip over the frames to draw, the look, the camera and where
the frames go, as one job.

Everything is read and checked here, on the main thread, before the engine
starts: a render that cannot work is one sentence, and the scene is not touched.
The clip travels to the engine's child process as an .npz file in the run's own
temporary folder; frames come back as files.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..engine_link import jobs, results
from ..settings import preferences, render_settings
from ..blender import render_camera, scene_timing
from ..engine_link import engine
from ..engine_link.run_book import ANIMATE, RENDER
from .poll import NO_HEAD, NOT_REGISTERED

PREVIEW, SEQUENCE = "preview", "sequence"
FRAMES_FOLDER = "talking_head_frames"  # beside the .blend (or in the temporary folder): one subfolder per scene


@dataclass(frozen=True)
class RenderRequest:
    """One render: the engine's job, what it is for (PREVIEW or SEQUENCE), the scene frames it draws
    (first, last), the run's temporary folder, the look, and a warning for the status line ("" if none)."""

    spec: jobs.RenderJob
    what: str
    frames: tuple
    folder: str
    look: str
    warning: str = ""


def why_not_render(context) -> str:
    """Why no render can start now (one sentence for the buttons' poll message), or "" when one can."""
    settings = getattr(context.scene, "talking_head", None)
    if settings is None:
        return NOT_REGISTERED
    if not render_settings.installed_looks(context):
        return render_settings.HOW_TO_MAKE_A_LOOK
    if ANIMATE.running(context.scene) is not None:
        return "The head is being animated; render once it is done."
    if RENDER.running(context.scene) is not None:
        return "The head is being rendered; wait for it, or press Esc to cancel."
    if settings.target is None:
        return NO_HEAD
    if results.latest(settings.target) is None:
        return f"Animate '{settings.target.name}' first: the render draws the clip Animate made in this session."
    return ""


def build(context, what: str) -> RenderRequest:
    """The request for the context's scene; engine.InputError (or ModelError) with one sentence when it
    cannot work. PREVIEW draws the current frame, SEQUENCE the scene's frame range (within the clip)."""
    reason = why_not_render(context)
    if reason:
        raise engine.InputError(reason)
    scene, settings = context.scene, context.scene.talking_head
    options = preferences.engine_options(context)
    look = render_settings.chosen_look(settings.render, context)
    sidecar = render_settings.look_sidecar(look, options.models_dir)
    clip = clip_at_scene_rate(results.latest(settings.target), scene)
    first, last = frames_to_draw(scene, clip, what)
    camera = render_camera.scene_camera(scene, settings.target, int(settings.render.size),
                                        sidecar.get("image_sizes", "any"), int(sidecar.get("ray_stride", 1)))
    warning = render_camera.range_warning(camera, sidecar, look) if camera is not None else ""
    folder = Path(tempfile.mkdtemp(prefix="talking_head_render_"))
    try:
        clip_path = part(clip, first, last).save(folder / "clip.npz")
        output = folder / "frames" if what == PREVIEW else sequence_folder(scene)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    spec = jobs.RenderJob(clip=str(clip_path), look=look, output=str(output), size=int(settings.render.size),
                          camera=render_camera.camera_fields(camera) if camera is not None else None,
                          device=options.device, models_dir=options.models_dir)
    _validated(spec, folder)
    return RenderRequest(spec, what, (first, last), str(folder), look, warning)


def _validated(spec, folder: Path) -> None:
    """The engine's own checks of the render job; the run's temporary folder is removed when they fail."""
    try:
        spec.validate()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def clip_at_scene_rate(clip, scene):
    """The clip at the scene's frame rate (the rate may have changed since Animate)."""
    fps = scene_timing.scene_fps(scene)
    return clip if abs(clip.fps - fps) < 1e-6 else clip.resample(fps)


def frames_to_draw(scene, clip, what: str) -> tuple:
    """(first, last) scene frames to draw: the current frame, or the scene's range within the clip's frames;
    engine.InputError when there is none."""
    if what == PREVIEW:
        first = last = scene.frame_current
        if not clip.start_frame <= first <= clip.end_frame:
            raise engine.InputError(f"Frame {first} is outside the head's clip (frames {clip.start_frame}-"
                                    f"{clip.end_frame}); go to one of its frames to preview it.")
        return first, last
    first, last = max(scene.frame_start, clip.start_frame), min(scene.frame_end, clip.end_frame)
    if first > last:
        raise engine.InputError(f"The scene's frames {scene.frame_start}-{scene.frame_end} miss the head's clip "
                                f"(frames {clip.start_frame}-{clip.end_frame}); widen the frame range.")
    return first, last


def part(clip, first: int, last: int):
    """The clip's scene frames first..last as a clip of their own (starting at `first`)."""
    rows = slice(first - clip.start_frame, last - clip.start_frame + 1)
    return engine.MotionClip(names=list(clip.names), values=clip.values[rows], fps=clip.fps, start_frame=first,
                             metadata=dict(clip.metadata))


def sequence_folder(scene) -> Path:
    """Where a scene's rendered frames go: talking_head_frames/<scene> beside the .blend, or in the
    temporary folder for a file never saved."""
    base = Path(bpy.path.abspath("//")) if bpy.data.filepath else Path(tempfile.gettempdir())
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", scene.name).strip("._") or "scene"
    return base / FRAMES_FOLDER / safe
