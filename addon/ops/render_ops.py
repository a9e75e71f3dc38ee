"""Render the head's clip in a look: Preview (the current frame into the image "Talking Head Preview") and
Render to Sequencer (the scene's frames as an RGBA image strip above the voice); Follow Frame.

Rendering runs the engine in a child process (`jobs.Job` with a
`jobs.RenderSpec`), exactly as Animate does: from the UI the operators are
modal (a window timer polls the job, the panel and status bar show its
progress, Esc or the Cancel button stops it); from scripts and in background
mode (`execute`) the same job is waited for. The image and the strip are
written only in `RenderRun.finish`, on the main thread, once the child has
returned every frame: a failed or cancelled render leaves the scene as it was.

Follow Frame: a `frame_change_post` handler asks the live preview
(`live_preview.follow_frame`: one warm render child, frame changes coalesced)
for the new frame, never while a job of the scene runs.
"""

from __future__ import annotations

import importlib
import shutil

import bpy
from bpy.app.handlers import persistent

from ..blender import image_editor, sequencer
from ..engine_link import jobs
from . import live_preview, operators, render_spec, render_status
from ..settings import render_properties
from ..engine_link import engine
from .poll import NO_HEAD, allowed
from .render_spec import PREVIEW, SEQUENCE
from ..engine_link.run_book import RENDER

png = importlib.import_module(engine.__name__ + ".preview.png")

RUNS = RENDER  # the RenderRun working for each scene, and each scene's last failed render


class RenderRun(operators.EngineRun):
    """One render of the head's clip: the engine's job in its child process, then (main thread only) the
    frames written back as the preview image or the sequencer strip.

    Holds names, not Blender data: the user may edit, undo or delete while the engine works.
    """

    def __init__(self, context, what: str) -> None:
        self.request = render_spec.build(context, what)  # every setting checked before anything starts
        self.scene_name = context.scene.name
        self.job = jobs.Job(self.request.spec)

    BOOK = RUNS

    @classmethod
    def start(cls, context, what: str) -> "RenderRun":
        """Start the engine for the context's scene; EngineError when it cannot start."""
        run = cls(context, what)
        try:
            return run._started()
        except BaseException:
            run._remove_files()
            raise

    @property
    def what(self) -> str:
        return self.request.what

    def cleanup(self) -> None:
        self._remove_files()

    def finish(self, context, report) -> set:
        """Write the finished job's frames back, or `report` why there are none; the operator's result."""
        try:
            return self._write_back(context, report)
        finally:
            self.close(context)

    def _write_back(self, context, report) -> set:
        scene = bpy.data.scenes.get(self.scene_name)
        failure = self.job.failure
        if failure is None and scene is None:
            failure = jobs.JobFailure(f"The scene '{self.scene_name}' was removed while it was being rendered.",
                                      "InputError")
        if failure is not None:
            return self._report_failure(failure, report)
        try:
            text = self._show_preview(context) if self.what == PREVIEW else self._place_strip(context, scene)
        except engine.EngineError as error:
            return self._report_failure(jobs.JobFailure(str(error), type(error).__name__), report)
        warning = self.request.warning
        set_status(scene, text + (f" {warning}" if warning else ""), alert=bool(warning))
        report({'WARNING'} if warning else {'INFO'}, scene.talking_head.render.status)
        return {'FINISHED'}

    def _show_preview(self, context) -> str:
        rgba = png.read_png(self.job.frames[0])
        image = image_editor.preview_image(rgba)
        image_editor.show_image(context, image)
        return (f"Previewed frame {self.request.frames[0]} in the look '{self.request.look}' "
                f"({image.size[0]}x{image.size[1]}).")

    def _place_strip(self, context, scene) -> str:
        sound_scene = sequencer.sequencer_scene(context) if scene == context.scene else scene
        settings = scene.talking_head
        user_strip = settings.sound_strip_name if settings.audio_source == 'STRIP' else ""
        first, last = self.request.frames
        strip = sequencer.place_frames(sound_scene, self.job.frames, first, sequencer.voice_channel(sound_scene, user_strip))
        return (f"Rendered frames {first}-{last} in the look '{self.request.look}' to "
                f"{self.job.frames[0].parent} (strip '{strip.name}', channel {strip.channel}).")

    def _report_failure(self, failure, report) -> set:
        return self._report_failure_message(report, failure.message, failure.kind == "Cancelled")

    def _remove_files(self) -> None:
        shutil.rmtree(self.request.folder, ignore_errors=True)


class RenderOperator(operators.EngineJobOperator):
    """Shared by the two render buttons: modal with progress and Esc from the UI, waited for in scripts."""

    what = PREVIEW

    @classmethod
    def poll(cls, context):
        return allowed(cls, render_spec.why_not_render(context))

    def start_run(self, context):
        return RenderRun.start(context, self.what)


class TALKINGHEAD_OT_render_preview(RenderOperator, bpy.types.Operator):
    """Render the current frame of the head's clip in the look into the image "Talking Head Preview"; Esc cancels"""

    bl_idname = "talking_head.render_preview"
    bl_label = "Preview"
    bl_options = {'REGISTER'}
    what = PREVIEW


class TALKINGHEAD_OT_render_sequence(RenderOperator, bpy.types.Operator):
    """Render the scene's frames of the head's clip in the look as an image strip above the voice; Esc cancels"""

    bl_idname = "talking_head.render_sequence"
    bl_label = "Render to Sequencer"
    bl_options = {'REGISTER', 'UNDO'}
    what = SEQUENCE


class TALKINGHEAD_OT_cancel_render(operators.CancelJobOperator, bpy.types.Operator):
    """Stop rendering: the engine stops and the scene stays exactly as it was"""

    bl_idname = "talking_head.cancel_render"
    IDLE = "Nothing is being rendered."

    @staticmethod
    def find_run(scene):
        return running(scene)


class TALKINGHEAD_OT_add_head_camera(bpy.types.Operator):
    """Add a camera that sees the head as the looks were trained to, and make it the scene camera (your own
    cameras are left as they are)"""

    bl_idname = "talking_head.add_head_camera"
    bl_label = "Add Head Camera"
    bl_options = {'REGISTER', 'UNDO'}

    @classmethod
    def poll(cls, context):
        if getattr(context.scene, "talking_head", None) is None or context.scene.talking_head.target is None:
            cls.poll_message_set(NO_HEAD)
            return False
        return True

    def execute(self, context):
        from ..blender import head_object

        scene = context.scene
        before = scene.camera.name if scene.camera is not None else ""
        camera = head_object.add_head_camera(context, scene.talking_head.target)
        scene.camera = camera
        kept = f"; '{before}' is left as it was" if before else ""
        self.report({'INFO'}, f"The scene camera is now '{camera.name}', framing '{scene.talking_head.target.name}'"
                              f"{kept}.")
        return {'FINISHED'}


set_status = render_status.set_status
last_failure = render_status.last_failure
running = render_status.running  # the run rendering for a scene, or None


def cancel_all() -> None:
    """Stop every render and the live preview (the add-on is being disabled, another file is loaded)."""
    live_preview.stop()
    RUNS.cancel_all(also=RenderRun._remove_files)


# -- Follow Frame (`live_preview.follow_frame`) ------------------------------------------------------

@persistent
def on_frame_change(scene, _depsgraph=None) -> None:
    """`frame_change_post` handler: Follow Frame."""
    live_preview.follow_frame(scene)


@persistent
def on_load(_path=None, _=None) -> None:
    """`load_pre` handler: another file replaces this one, so its renders and the live preview stop."""
    cancel_all()


@persistent
def on_save(_path=None, _=None) -> None:
    """`save_pre` handler: the live preview's last frame (not packed while scrubbing) goes into the .blend."""
    image = bpy.data.images.get(image_editor.PREVIEW_IMAGE)
    if image is not None and image.has_data:
        image.pack()


HANDLERS = ((bpy.app.handlers.frame_change_post, on_frame_change), (bpy.app.handlers.load_pre, on_load),
            (bpy.app.handlers.save_pre, on_save))


def register() -> None:
    if live_preview.follow_frame_switched not in render_properties.SWITCH_LISTENERS:
        render_properties.SWITCH_LISTENERS.append(live_preview.follow_frame_switched)
    for handlers, handler in HANDLERS:
        if handler not in handlers:
            handlers.append(handler)


def unregister() -> None:
    cancel_all()
    while live_preview.follow_frame_switched in render_properties.SWITCH_LISTENERS:
        render_properties.SWITCH_LISTENERS.remove(live_preview.follow_frame_switched)
    for handlers, handler in HANDLERS:
        while handler in handlers:
            handlers.remove(handler)


CLASSES = (TALKINGHEAD_OT_render_preview, TALKINGHEAD_OT_render_sequence, TALKINGHEAD_OT_cancel_render,
           TALKINGHEAD_OT_add_head_camera)
