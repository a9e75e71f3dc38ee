"""Operators: add the built-in head; animate a head from a voice clip, and cancel that.

Animating runs the engine in a child process (`jobs.Job`). From the UI the
operator is modal: a window timer polls the job, the panel and status bar
show its progress, Esc or the Cancel button stops it. From scripts and in
background mode (`execute`), the same job is started and waited for. Either
way keys are written only here, on the main thread, once the child has
returned a complete clip, as one undo step; a failed or cancelled job leaves
the scene as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import bpy

from ..settings import audio_source
from ..blender import existing_action, fitting, head_object, keying, scene_timing, sequencer
from . import job_spec
from .poll import ANIMATING, NO_HEAD, NOT_REGISTERED, TRACKING, allowed
from ..engine_link import jobs, results, run_book
from ..engine_link import engine
from ..engine_link.run_book import RunBook

TICK_S = 0.1            # how often the modal operator polls the job
RUNS = run_book.ANIMATE  # the AnimateRun working for each scene, and each scene's last failed run


class TALKINGHEAD_OT_add_builtin_head(bpy.types.Operator):
    """Add the built-in head: a mesh with named expression shape keys on a five-bone rig"""

    bl_idname = "talking_head.add_builtin_head"
    bl_label = "Add Built-in Head"
    bl_options = {'REGISTER', 'UNDO'}

    def execute(self, context):
        try:
            head = engine.load_head()
        except engine.EngineError as error:
            self.report({'ERROR'}, str(error))
            return {'CANCELLED'}
        camera = head_object.make_target(context, *head_object.add_head(context, head))
        framed = f", and the scene camera '{camera.name}' framing it" if camera is not None else ""
        self.report({'INFO'}, f"Added the built-in head ({len(head.expression_names)} expression shape keys){framed}.")
        return {'FINISHED'}


class EngineJobOperator:
    """An engine job as an operator: modal in the UI (a window timer drains the job's progress, Esc
    cancels), and in scripts and background mode the same job, waited for. Subclasses give `start_run`."""

    def start_run(self, context):
        raise NotImplementedError

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        try:
            self._run = self.start_run(context)
        except engine.EngineError as error:
            self.report({'ERROR'}, str(error))
            return {'CANCELLED'}
        self._timer = context.window_manager.event_timer_add(TICK_S, window=context.window)
        context.window_manager.modal_handler_add(self)
        show_progress(context, self._run)
        return {'RUNNING_MODAL'}

    def modal(self, context, event):
        if event.type == 'ESC' and event.value == 'PRESS':
            self._run.job.cancel()
        elif event.type != 'TIMER':
            return {'PASS_THROUGH'}
        if not self._run.tick(context):
            return {'PASS_THROUGH'}
        context.window_manager.event_timer_remove(self._timer)
        return self._run.finish(context, self.report)

    def cancel(self, context):
        """Blender ends the operator (a file is loaded, the window closes): stop the engine."""
        context.window_manager.event_timer_remove(self._timer)
        self._run.job.cancel()
        self._run.close(context)

    def execute(self, context):
        """Scripts and background mode: the same job, waited for; its result exists when this returns."""
        try:
            run = self.start_run(context)
        except engine.EngineError as error:
            self.report({'ERROR'}, str(error))
            return {'CANCELLED'}
        run.wait(context)
        return run.finish(context, self.report)


class TALKINGHEAD_OT_animate(EngineJobOperator, bpy.types.Operator):
    """Animate the head from the voice (a file or your sound strip) in the chosen style, as a new Action; Esc cancels"""

    bl_idname = "talking_head.animate"
    bl_label = "Animate"
    bl_options = {'REGISTER', 'UNDO'}

    @classmethod
    def poll(cls, context):
        return allowed(cls, why_not_animate(context))

    def start_run(self, context):
        return AnimateRun.start(context)


class CancelJobOperator:
    """Cancel the scene's running engine job of one kind; subclasses give `find_run` and `IDLE`."""

    bl_label = "Cancel"
    bl_options = {'INTERNAL'}
    IDLE = "Nothing is running."

    @staticmethod
    def find_run(scene):
        raise NotImplementedError

    @classmethod
    def poll(cls, context):
        if cls.find_run(context.scene) is None:
            cls.poll_message_set(cls.IDLE)
            return False
        return True

    def execute(self, context):
        self.find_run(context.scene).job.cancel()
        return {'FINISHED'}


class TALKINGHEAD_OT_cancel_animate(CancelJobOperator, bpy.types.Operator):
    """Stop animating: the engine stops and the scene stays exactly as it was"""

    bl_idname = "talking_head.cancel_animate"
    IDLE = "Nothing is being animated."

    @staticmethod
    def find_run(scene):
        return running(scene)


class EngineRun:
    """An engine job working for a scene (one per scene and kind, kept in `registry()`): its progress
    taken on the main thread, waited for in scripts, and closed. Subclasses start it and finish it."""

    scene_name: str
    job: jobs.Job
    BOOK: RunBook  # where runs of this kind are kept (one book per kind)
    CHILD = "engine"  # what the child is called in its crash log

    def registry(self) -> dict:
        return self.BOOK.runs

    def _started(self) -> "EngineRun":
        """Start the child and keep the run as its scene's; EngineError when it cannot start."""
        self.job.start()
        self.BOOK.add(self)
        return self

    def _scene_and_head(self, report, doing: str) -> tuple:
        """The run's scene and head (`target_name`) by name, or (None, None) after `report`ing that one of
        them was removed while `doing`."""
        scene, target = bpy.data.scenes.get(self.scene_name), bpy.data.objects.get(self.target_name)
        if scene is None or target is None:
            report({'ERROR'}, f"The head '{self.target_name}' or its scene was removed while {doing}; "
                              "nothing was keyed.")
            return None, None
        return scene, target

    def _report_failure_message(self, report, message: str, cancelled: bool) -> set:
        """Tell the user why the run ended without a result (a crash also prints the child's last output);
        a failure, not a cancel, stays in the panel. The operator's result."""
        failure = self.job.failure
        if failure.kind in jobs.CRASH_KINDS and self.job.log_tail:
            print(f"Talking Head: the {self.CHILD}'s last output:\n{self.job.log_tail}", file=sys.stderr)
        if not cancelled:
            self.BOOK.remember_failure(self.scene_name, message)
        report({'WARNING'} if cancelled else {'ERROR'}, message)
        return {'CANCELLED'}

    def cleanup(self) -> None:
        """Remove what the run keeps on disk (nothing by default)."""

    def tick(self, context) -> bool:
        """Take the child's news (main thread): progress into the panel and status bar. True once it ended."""
        self.job.poll()
        if not self.job.finished:
            show_progress(context, self)
        return self.job.finished

    def wait(self, context) -> None:
        """Block until the job ends (scripts, background mode), printing the progress of long stages."""
        try:
            self.job.wait(listener=engine.progress.TerminalBar(delay=1.0))
        except BaseException:  # Ctrl+C in a script: stop the child too
            self.job.cancel()
            self.close(context)
            raise

    def close(self, context) -> None:
        """Forget the run, remove its files and clear its progress display."""
        registry = self.registry()
        if registry.get(self.scene_name) is self:
            del registry[self.scene_name]
        self.cleanup()
        workspace = getattr(context, "workspace", None)
        if workspace is not None:
            workspace.status_text_set(None)
        redraw_sidebars(context)


class AnimateRun(EngineRun):
    """One animation of a head: the engine's job in its child process, then (main thread only) the
    clip written back as keys, a sound strip and the frame range.

    Holds names, not Blender data: the user may edit, undo or delete while the engine works.
    """

    def __init__(self, context) -> None:
        self.request = job_spec.build(context)  # every setting checked before anything starts
        self.scene_name = context.scene.name
        self.target_name = context.scene.talking_head.target.name
        fitting.ensure_mapping(context.scene.talking_head.target)  # a FLAME head is fitted once, up front
        self.job = jobs.Job(self.request.spec)

    BOOK = RUNS

    @classmethod
    def start(cls, context) -> "AnimateRun":
        """Start the engine for the context's scene and head; EngineError when it cannot start."""
        return cls(context)._started()

    def finish(self, context, report) -> set:
        """Write the finished job's clip back, or `report` why there is none; the operator's result."""
        self.close(context)
        if self.job.failure is not None:
            return self._report_failure(report)
        scene, target = self._scene_and_head(report, "it was being animated")
        if scene is None:
            return {'CANCELLED'}
        try:
            source = self.request.source
            result = write_clip(context, scene, target, self.job.clip, source.path, source.start_frame,
                                user_strip=source.strip, aliases=self.request.aliases,
                                existing=self.request.existing)
        except engine.EngineError as error:  # e.g. a stored mapping that names keys the head lost
            report({'ERROR'}, str(error))
            return {'CANCELLED'}
        report({'WARNING'} if result.unmapped else {'INFO'}, scene.talking_head.status)
        return {'FINISHED'}

    def _report_failure(self, report) -> set:
        failure = self.job.failure
        return self._report_failure_message(report, failure.message, failure is jobs.CANCELLED)


def write_clip(context, scene, target, clip, audio: str, start_frame: int, user_strip: Optional[str] = None,
               aliases: Optional[dict] = None, existing: str = existing_action.PUSH_TO_NLA, with_sound: bool = True):
    """Key `clip` on `target`, grow the frame range, set the status, and put the voice in the
    sequencer: our own voice strip at `start_frame`, or, when the voice is the user's strip
    `user_strip`, no strip of ours at all (the user's is never touched). `aliases`: the by-name
    alias table (None: the engine's). `existing`: what becomes of an Action of the artist's on the
    head or its rig (`existing_action.PUSH_TO_NLA` or `REPLACE`). A FLAME head with no mapping is
    fitted first (`fitting`). `with_sound` False: `audio` has no sound (a silent video), no strip of ours."""
    fps = scene_timing.scene_fps(scene)
    if abs(clip.fps - fps) > 1e-6:  # the scene's rate changed while the engine worked
        clip = clip.resample(fps)
    fitting.ensure_mapping(target)
    result = keying.key_clip(clip, target, aliases=aliases, existing=existing)
    results.remember(target, clip)
    scene_timing.extend_frame_range(scene, *result.frames)
    sound_scene = sequencer.sequencer_scene(context) if scene == context.scene else scene
    if user_strip is None and with_sound:
        sequencer.place_sound(sound_scene, audio, start_frame)
    else:  # the keys follow the user's strip: our voice strip of an earlier run would play twice
        sequencer.remove_voice(sound_scene)
    source = Path(audio).name + (f" (strip '{user_strip}')" if user_strip else "")
    scene.talking_head.status = _summary(result, source)
    return result


def why_not_animate(context) -> str:
    """Why Animate cannot start now (one sentence for its poll message), or "" when it can."""
    scene = context.scene
    settings = getattr(scene, "talking_head", None)
    if settings is None:
        return NOT_REGISTERED
    if running(scene) is not None:
        return ANIMATING
    if run_book.TRACK.running(scene) is not None:
        return TRACKING
    if settings.target is None:
        return NO_HEAD
    reason = audio_source.missing(context, settings)
    if reason:
        return reason
    if not settings.driver:
        return "The chosen driver cannot run any more (its model is gone); choose another driver."
    return jobs.reference_refusal(settings.driver, settings.style_clip)  # the engine job's rule


def running(scene) -> Optional[AnimateRun]:
    """The run animating a head of `scene`, or None."""
    return RUNS.running(scene)


last_failure = RUNS.last_failure
cancel_all = RUNS.cancel_all  # stop every running engine (the add-on is being disabled)


def progress_text(job) -> str:
    """'Recognising phones 40%': the job's current stage and how far it is."""
    if job.latest is None:
        return "Starting the engine"
    return f"{job.latest.stage[:1].upper()}{job.latest.stage[1:]} {100 * job.fraction:.0f}%"


def show_progress(context, run: AnimateRun) -> None:
    """Progress in the status bar and the sidebar panel (main thread)."""
    workspace = getattr(context, "workspace", None)
    if workspace is not None:
        workspace.status_text_set(f"Talking Head: {progress_text(run.job)} (Esc to cancel)")
    redraw_sidebars(context)


def redraw_sidebars(context) -> None:
    """Ask every 3D View to redraw, so the panel's progress bar moves."""
    wm = getattr(context, "window_manager", None)
    for window in (wm.windows if wm is not None else ()):
        for area in window.screen.areas:
            if area.type == 'VIEW_3D':
                area.tag_redraw()


def _summary(result, audio_name: str) -> str:
    meshes = f" on {len(result.meshes)} meshes" if len(result.meshes) > 1 else ""
    text = (f"Keyed {len(result.keyed)} channels{meshes} over frames {result.frames[0]}-{result.frames[1]} "
            f"from {audio_name}")
    if result.unmapped:
        text += f"; no target for: {', '.join(result.unmapped)}"
    return text + "."


CLASSES = (TALKINGHEAD_OT_add_builtin_head, TALKINGHEAD_OT_animate, TALKINGHEAD_OT_cancel_animate)
