"""Follow Frame, live: every frame change asks one warm render child for that frame, and a timer shows what
it returns in the image "Talking Head Preview".

Frame changes are coalesced: one frame is rendered at a time; a frame change
while it renders only replaces the frame to render next, so scrubbing shows
the latest frame as soon as the child is free and never works through stale
ones. The child (`preview_worker.PreviewWorker`) is started on the first frame
change with Follow Frame on, and stopped when Follow Frame is turned off, when
another file is loaded, when the add-on is disabled, and with Blender (its
stdin closes). A child that dies is one sentence in the Render panel; the next
frame change starts a new one.

`follow_frame` is what the `frame_change_post` handler (`render_ops`) and the
Follow Frame switch call, `frame_changed` what it asks once a frame is to be
shown; `drain` is the `bpy.app.timers` function (timers do not run in
background mode: tests and the bench call it themselves).
"""

from __future__ import annotations

import collections
import sys
import time
from dataclasses import dataclass
from typing import Optional

import bpy

from ..blender import image_editor, render_camera
from ..settings import preferences, render_settings
from . import render_spec, render_status
from ..engine_link import results
from ..engine_link.run_book import ANIMATE, RENDER
from ..engine_link import engine
from ..engine_link.preview_worker import PreviewWorker

POLL_S = 0.005  # how often the timer looks for a finished frame while one is being rendered


@dataclass
class FrameAsk:
    """One frame to show: the scene, its frame, the worker it needs (look, device, models folder), the
    request fields, the camera-range warning ("" if none) and when the frame changed (perf_counter s)."""

    scene_name: str
    frame: int
    key: tuple
    request: dict
    warning: str
    asked_at: float


class _State:
    worker: Optional[PreviewWorker] = None
    clip_source = None           # (MotionClip from results.latest, fps) the worker's clip file was saved from
    clip_path: str = ""
    in_flight: Optional[FrameAsk] = None
    pending: Optional[FrameAsk] = None   # the latest frame change while one renders
    look_name: str = ""


STATE = _State()
LATENCIES: collections.deque = collections.deque(maxlen=2000)  # (frame, seconds from frame change to pixels)


def follows(scene) -> bool:
    """Whether `scene` wants a preview of its current frame now: Follow Frame on, no job of the scene
    running, a look, a head and a clip covering the frame; never in background mode or during a render."""
    settings = getattr(scene, "talking_head", None)
    if settings is None or not settings.render.follow_frame or not interactive():
        return False
    if ANIMATE.running(scene) is not None or RENDER.running(scene) is not None or scene != bpy.context.scene:
        return False
    clip = results.latest(settings.target)
    return clip is not None and clip.start_frame <= scene.frame_current <= clip.end_frame


def interactive() -> bool:
    """True where a preview can be seen: Blender's UI, not a background or final render."""
    return not bpy.app.background and not bpy.app.is_job_running('RENDER')


def follow_frame(scene) -> None:
    """Ask for `scene`'s current frame when it `follows` (a frame that cannot be rendered says why in the
    Render panel, `render_status.last_failure`; nothing is raised)."""
    if follows(scene):
        frame_changed(scene)


def follow_frame_switched(settings, context) -> None:
    """Follow Frame turned on: show the current frame at once (the render child starts); off: it stops."""
    if settings.follow_frame:
        follow_frame(context.scene)
    else:
        stop()


def frame_changed(scene) -> None:
    """Ask for `scene`'s current frame (or, while a frame renders, make it the next one); a frame that cannot
    be rendered says why in the Render panel and nothing is raised."""
    try:
        ask = frame_ask(scene)
    except engine.EngineError as error:
        render_status.remember_failure(scene, str(error))
        return
    if STATE.in_flight is not None:
        STATE.pending = ask
        return
    _send(ask)


def frame_ask(scene) -> FrameAsk:
    """The request for `scene`'s current frame, read and checked on the main thread; engine.EngineError with
    one sentence when it cannot be rendered (no look, no clip there, a camera the look cannot imitate)."""
    context = bpy.context
    settings = scene.talking_head
    options = preferences.engine_options(context)
    look = render_settings.chosen_look(settings.render, context)
    if not look:
        raise engine.ModelError(render_settings.HOW_TO_MAKE_A_LOOK)
    source = results.latest(settings.target)
    if source is None:
        raise engine.InputError(f"Animate '{settings.target.name if settings.target else 'a head'}' first: the "
                                "preview draws the clip Animate made in this session.")
    clip = render_spec.clip_at_scene_rate(source, scene)
    frame, _ = render_spec.frames_to_draw(scene, clip, render_spec.PREVIEW)
    sidecar = render_settings.look_sidecar(look, options.models_dir)
    size = int(settings.render.size)
    camera = render_camera.scene_camera(scene, settings.target, size, sidecar.get("image_sizes", "any"),
                                        int(sidecar.get("ray_stride", 1)))
    warning = render_camera.range_warning(camera, sidecar, look) if camera is not None else ""
    request = {"frame": frame, "size": size, "camera": render_camera.camera_fields(camera) if camera else None,
               "source": source, "clip": clip}
    return FrameAsk(scene.name, frame, (look, options.device, options.models_dir), request, warning,
                    time.perf_counter())


def drain() -> Optional[float]:
    """Timer: show a frame the worker finished, report its failure, send the pending frame; the next call's
    delay in seconds, or None when nothing is being rendered (the timer stops)."""
    worker = STATE.worker
    if worker is None:
        return None
    for message in worker.poll():
        if "id" in message and STATE.in_flight is not None:
            _answered(STATE.in_flight, message)
            STATE.in_flight = None
    if worker.failure is not None:
        _died(worker)
        return None
    if STATE.in_flight is None and STATE.pending is not None:
        ask, STATE.pending = STATE.pending, None
        _send(ask)
    return POLL_S if STATE.in_flight is not None else None


def stop() -> None:
    """End the worker (Follow Frame off, another file, the add-on disabled) and forget what it was asked."""
    if bpy.app.timers.is_registered(drain):
        bpy.app.timers.unregister(drain)
    worker, STATE.worker = STATE.worker, None
    STATE.in_flight = STATE.pending = STATE.clip_source = None
    if worker is not None:
        worker.close()


def busy() -> bool:
    """Whether a frame is being rendered for the live preview now."""
    return STATE.in_flight is not None


# -- inside ---------------------------------------------------------------------------------------

def _send(ask: FrameAsk) -> None:
    """Hand `ask` to a worker of its look (started, or restarted for another look, as needed)."""
    try:
        worker = _worker_for(ask.key)
        request = dict(ask.request)
        request["clip"] = _clip_file(worker, request.pop("source"), request["clip"])
    except engine.EngineError as error:
        render_status.remember_failure(bpy.data.scenes.get(ask.scene_name), str(error))
        return
    worker.ask(request)
    STATE.in_flight = ask
    if not bpy.app.timers.is_registered(drain):
        bpy.app.timers.register(drain, first_interval=POLL_S)


def _worker_for(key: tuple) -> PreviewWorker:
    if STATE.worker is not None and (STATE.worker.key != key or not STATE.worker.alive):
        stop()
    if STATE.worker is None:
        STATE.worker = PreviewWorker(*key).start()
    return STATE.worker


def _clip_file(worker: PreviewWorker, source, clip) -> str:
    """The path of `clip` (the latest result `source` at the scene's rate) in the worker's folder, saved once
    per clip and rate."""
    saved = STATE.clip_source
    if (saved is None or saved[0] is not source or saved[1] != clip.fps
            or not STATE.clip_path.startswith(str(worker.folder))):
        STATE.clip_path = str(clip.save(worker.folder / f"clip_{time.monotonic_ns()}.npz"))
        STATE.clip_source = (source, clip.fps)
    return STATE.clip_path


def _answered(ask: FrameAsk, message: dict) -> None:
    """Show a finished frame (or the sentence of a frame that could not be rendered)."""
    scene = bpy.data.scenes.get(ask.scene_name)
    if scene is None:
        return
    if "error" in message:
        render_status.remember_failure(scene, str(message["error"]))
        return
    rgba = PreviewWorker.pixels(message)
    image = image_editor.preview_image(rgba, pack=False)
    image_editor.show_image(bpy.context, image)
    LATENCIES.append((ask.frame, time.perf_counter() - ask.asked_at))
    render_status.forget_failure(scene)
    text = (f"Previewing frame {ask.frame} live in the look '{ask.key[0]}' ({image.size[0]}x{image.size[1]}, "
            f"{1000 * float(message.get('seconds', 0)):.0f} ms a frame).")
    render_status.set_status(scene, text + (f" {ask.warning}" if ask.warning else ""), alert=bool(ask.warning))


def _died(worker: PreviewWorker) -> None:
    """The worker stopped unasked: say so in the panel of the scene it was rendering for."""
    ask = STATE.in_flight or STATE.pending
    if worker.failure.kind in ("Crash", "InternalError") and worker.log_tail:
        print(f"Talking Head: the render engine's last output:\n{worker.log_tail}", file=sys.stderr)
    stop()
    scene = bpy.data.scenes.get(ask.scene_name) if ask is not None else bpy.context.scene
    render_status.remember_failure(scene, worker.failure.message)
    if scene is not None:
        render_status.set_status(scene, worker.failure.message, alert=True)
