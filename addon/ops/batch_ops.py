"""Lip-sync every dialogue line at once: each sound strip of the sequencer (or each audio file of a folder)
becomes one Action per keyed ID block of the chosen head, on its NLA at the line's frame.

The interactive face of `engine batch`: the same engine job per line (an `AnimateJob` in the panel's
style and driver), each run through the add-on's child-process job path (`jobs.Job`), one after another,
with progress, Esc to cancel, and the scene untouched until every line has ended. Then, on the main
thread and as one undo step, each line that worked is keyed (`keying.key_clip`) as new Actions named
after the line, put on an NLA track of the head (and its rig) from the line's first frame, and left
unassigned, so the next line's keys never replace it; a folder's files also become sound strips, one
after another from the current frame. A failed line is reported in one sentence and costs nothing else.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, replace
from typing import Optional

import bpy

from ..settings import audio_source, preferences, properties
from ..blender import existing_action, fitting, keying, scene_timing, sequencer
from ..engine_link import jobs
from . import operators
from .poll import NO_HEAD, NOT_REGISTERED, allowed
from ..blender.action_compat import OWNER_TAG
from ..engine_link import engine
from ..engine_link.run_book import RunBook

RUNS = RunBook()           # the batch working for each scene, and each scene's last failure
AUDIO_SUFFIXES = importlib.import_module(engine.__name__ + ".audio").AUDIO_SUFFIXES  # what the engine decodes
LINE_STRIP = "batch line"  # OWNER_TAG of the sound strips a folder's lines get
LINE_TRACK = "Talking Head lines"
GAP_FRAMES = 12            # between a folder's lines on the timeline
SOURCES = (('STRIPS', "Sound Strips", "Every sound strip of the sequencer, at its own frame"),
           ('FOLDER', "Folder", "Every audio file of a folder, one after another from the current frame"))


@dataclass(frozen=True)
class Line:
    """One dialogue line: its name (the strip's, or the file's), voice file, first frame, and whether it is
    a folder's file (which gets a sound strip of its own)."""

    name: str
    audio: str
    start_frame: int
    from_folder: bool = False


def strip_lines(context) -> list:
    """A line per sound strip of the sequencer the user sees, by start frame; InputError when there is none."""
    strips = sorted(audio_source.sound_strips(sequencer.sequencer_scene(context)), key=lambda s: (s.frame_start, s.name))
    if not strips:
        raise engine.InputError("The sequencer has no sound strips; add your dialogue lines as sound strips, "
                                "or choose a folder.")
    return [Line(s.name, _strip_file(s), round(s.frame_start)) for s in strips]


def _strip_file(strip) -> str:
    sound = strip.sound
    return bpy.path.abspath(sound.filepath, library=sound.library) if sound is not None else ""


def folder_lines(folder: str) -> list:
    """A line per audio file of `folder`, by name (frames are given once each clip's length is known)."""
    folder = bpy.path.abspath(folder)
    if not folder or not os.path.isdir(folder):
        raise engine.InputError(f"The folder '{folder}' does not exist; choose the folder of your dialogue lines.")
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(AUDIO_SUFFIXES))
    if not names:
        raise engine.InputError(f"The folder '{folder}' has no audio files; choose the folder of your dialogue lines.")
    return [Line(os.path.splitext(n)[0], os.path.join(folder, n), 0, True) for n in names]


def line_job(context, line: Line):
    """The engine's animate job for `line` in the panel's driver and style (the Animate button's own)."""
    settings, options = context.scene.talking_head, preferences.engine_options(context)
    return jobs.AnimateJob(audio=line.audio, fps=scene_timing.scene_fps(context.scene), driver=settings.driver or None,
                           seed=settings.seed, start_frame=line.start_frame,
                           style_items=properties.style_items(settings), device=options.device,
                           models_dir=options.models_dir)


class BatchRun:
    """The lines of one batch, each an engine job in its own child process, one at a time; the clips (or
    failure sentences) kept until every line has ended. `job` is the running line's job."""

    BOOK = RUNS

    def __init__(self, context, lines: list) -> None:
        self.scene_name, self.target_name = context.scene.name, context.scene.talking_head.target.name
        self.lines, self.results, self.cancelled = lines, [], False
        self.aliases = preferences.engine_options(context).aliases
        self._context_job = lambda line: line_job(context, line)
        self.job: Optional[jobs.Job] = None
        fitting.ensure_mapping(context.scene.talking_head.target)  # a FLAME head is fitted once, up front

    def start(self) -> "BatchRun":
        self.BOOK.add(self)
        self._next()
        return self

    def _next(self) -> None:
        """Start the next line's job (a line whose job cannot be built or started fails alone)."""
        while len(self.results) < len(self.lines) and not self.cancelled:
            line = self.lines[len(self.results)]
            try:
                spec = self._context_job(line)
                spec.validate()
                self.job = jobs.Job(spec).start()
                return
            except engine.EngineError as error:
                self.results.append((line, None, str(error)))
        self.job = None

    @property
    def finished(self) -> bool:
        return self.job is None

    def tick(self, context=None) -> bool:
        """Take the running line's news; start the next line when it ended. True once every line has."""
        if self.job is not None:
            self.job.poll()
            if self.job.finished:
                self._collect()
        return self.finished

    def wait(self, context=None) -> None:
        """Run every line to its end (scripts and background mode)."""
        while self.job is not None:
            self.job.wait()
            self._collect()

    def cancel(self) -> None:
        """Stop the running line and start no other (Esc)."""
        self.cancelled = True
        if self.job is not None:
            self.job.cancel()

    def _collect(self) -> None:
        line, failure = self.lines[len(self.results)], self.job.failure
        message = "Cancelled before it finished." if self.cancelled else failure.message if failure else None
        self.results.append((line, self.job.clip, message))
        self._next()

    def progress_text(self) -> str:
        line = min(len(self.results) + 1, len(self.lines))
        return f"Line {line} of {len(self.lines)}: " + (operators.progress_text(self.job) if self.job else "")

    def close(self, context) -> None:
        if self.BOOK.runs.get(self.scene_name) is self:
            del self.BOOK.runs[self.scene_name]
        workspace = getattr(context, "workspace", None)
        if workspace is not None:
            workspace.status_text_set(None)

    def finish(self, context, report) -> set:
        """Key every line that worked (main thread, one undo step); report each failed line; the result."""
        self.close(context)
        scene, target = bpy.data.scenes.get(self.scene_name), bpy.data.objects.get(self.target_name)
        if scene is None or target is None:
            report({'ERROR'}, f"The head '{self.target_name}' or its scene was removed while the lines were "
                              "lip-synced; nothing was keyed.")
            return {'CANCELLED'}
        keyed, failed = key_lines(context, scene, target, self.results, self.aliases)
        for line, message in failed:
            report({'WARNING'}, f"Line '{line.name}': {message}")
            print(f"Talking Head: line '{line.name}' failed: {message}", file=sys.stderr)
        summary = (f"Lip-synced {len(keyed)} of {len(self.lines)} lines onto '{target.name}' (one Action each, on "
                   f"the NLA track '{LINE_TRACK}')" + (f"; {len(failed)} failed" if failed else "")
                   + ("; cancelled" if self.cancelled else "") + ".")
        scene.talking_head.status = summary
        if failed:
            self.BOOK.remember_failure(self.scene_name, summary)
        report({'INFO'} if keyed and not failed else {'WARNING'}, summary)
        return {'FINISHED'} if keyed else {'CANCELLED'}


def key_lines(context, scene, target, results: list, aliases=None) -> tuple:
    """Key each line's clip as Actions on the NLA of every keyed ID block; ([keyed Line], [(Line, sentence)])."""
    keyed, failed = [], []
    fps, frame = scene_timing.scene_fps(scene), scene.frame_current
    for line, clip, message in results:
        if clip is None:
            failed.append((line, message or "The engine returned no clip."))
            continue
        clip = clip.resample(fps) if abs(clip.fps - fps) > 1e-6 else clip
        if line.from_folder:
            line = replace(line, start_frame=frame)
            clip.start_frame = frame
            frame += clip.num_frames + GAP_FRAMES
        try:
            result = keying.key_clip(clip, target, aliases=aliases, existing=existing_action.PUSH_TO_NLA)
        except engine.EngineError as error:
            failed.append((line, str(error)))
            continue
        for action in result.actions:
            put_on_nla(action, line)
        scene_timing.extend_frame_range(scene, *result.frames)
        if line.from_folder:
            _line_strip(scene, line)
        keyed.append(line)
    return keyed, failed


def put_on_nla(action, line: Line) -> None:
    """Move `action` (just assigned to its ID block) onto the block's NLA from the line's first frame, named
    after the line, and unassign it; a new track when the line overlaps one already there."""
    id_block = next(user for user in _users(action))
    action.name = f"TH {line.name} ({id_block.name})"
    action.use_fake_user = False
    ad = id_block.animation_data
    slot = getattr(ad, "action_slot", None)
    for track in [t for t in ad.nla_tracks if t.name.startswith(LINE_TRACK)] + [None]:  # tracks hold no tags
        if track is None:
            track = ad.nla_tracks.new()
            track.name = LINE_TRACK
        try:
            strip = track.strips.new(line.name, line.start_frame, action)
            break
        except RuntimeError:  # overlaps a line already on this track
            continue
    if slot is not None and hasattr(strip, "action_slot"):
        strip.action_slot = slot
    ad.action = None


def _users(action):
    """The ID blocks whose active Action is `action` (the one `key_clip` gave it to)."""
    blocks = list(bpy.data.objects) + list(bpy.data.shape_keys)
    return [b for b in blocks if b.animation_data is not None and b.animation_data.action == action]


def _line_strip(scene, line: Line) -> None:
    strips = sequencer.editor_strips(scene.sequence_editor or scene.sequence_editor_create())
    channel = max((s.channel for s in strips), default=0) + 1 if any(
        s.frame_final_end > line.start_frame for s in strips) else 1
    strip = strips.new_sound(line.name, line.audio, min(channel, 128), line.start_frame)
    strip[OWNER_TAG] = LINE_STRIP


class TALKINGHEAD_OT_lipsync_lines(bpy.types.Operator):
    """Lip-sync every sound strip of the sequencer (or every audio file of a folder) onto the head, one Action per line on its NLA; Esc cancels"""

    bl_idname = "talking_head.lipsync_lines"
    bl_label = "Lip-sync All Lines"
    bl_options = {'REGISTER', 'UNDO'}

    source: bpy.props.EnumProperty(name="Lines", items=SOURCES, default='STRIPS')
    folder: bpy.props.StringProperty(name="Folder", subtype='DIR_PATH', default="")

    @classmethod
    def poll(cls, context):
        settings = getattr(context.scene, "talking_head", None)
        reason = (NOT_REGISTERED if settings is None else NO_HEAD if settings.target is None else
                  "The lines are being lip-synced; wait for them, or press Esc to cancel."
                  if RUNS.running(context.scene) is not None else "")
        return allowed(cls, reason)

    def _start(self, context) -> BatchRun:
        lines = folder_lines(self.folder) if self.source == 'FOLDER' else strip_lines(context)
        return BatchRun(context, lines).start()

    def execute(self, context):
        """Scripts and background mode: every line, waited for. After the folder browser of `invoke`: modal."""
        if getattr(self, "_browsed", False):
            return self._start_modal(context)
        try:
            run = self._start(context)
        except engine.EngineError as error:
            self.report({'ERROR'}, str(error))
            return {'CANCELLED'}
        try:
            run.wait(context)
        except BaseException:  # Ctrl+C in a script: stop the child too
            run.cancel()
            run.close(context)
            raise
        return run.finish(context, self.report)

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        if self.source == 'FOLDER' and not self.folder:
            self._browsed = True  # Blender calls execute once a folder is chosen
            context.window_manager.fileselect_add(self)
            return {'RUNNING_MODAL'}
        return self._start_modal(context)

    def _start_modal(self, context):
        """Start the lines with a window timer polling them; the panel and status bar show their progress."""
        try:
            self._run = self._start(context)
        except engine.EngineError as error:
            self.report({'ERROR'}, str(error))
            return {'CANCELLED'}
        self._timer = context.window_manager.event_timer_add(operators.TICK_S, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {'RUNNING_MODAL'}

    def modal(self, context, event):
        if event.type == 'ESC' and event.value == 'PRESS':
            self._run.cancel()
        elif event.type != 'TIMER':
            return {'PASS_THROUGH'}
        if not self._run.tick(context):
            if context.workspace is not None:
                context.workspace.status_text_set(f"Talking Head: {self._run.progress_text()} (Esc to cancel)")
            operators.redraw_sidebars(context)
            return {'PASS_THROUGH'}
        context.window_manager.event_timer_remove(self._timer)
        result = self._run.finish(context, self.report)
        operators.redraw_sidebars(context)
        return result

    def cancel(self, context):
        """Blender ends the operator (a file is loaded, the window closes): stop the engine."""
        context.window_manager.event_timer_remove(self._timer)
        self._run.cancel()
        self._run.close(context)


def cancel_all() -> None:
    """Stop every batch's running line (the add-on is being disabled)."""
    for run in list(RUNS.runs.values()):
        run.cancel()
    RUNS.runs.clear()


CLASSES = (TALKINGHEAD_OT_lipsync_lines,)
