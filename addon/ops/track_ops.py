"""Track Video (video mocap): a talking video, or one of the user's movie strips, keyed on the target rig.

The tracking runs as Animate's engine job does (`jobs.Job`, kind "track", in
a child process; Esc or Cancel stops it), and its clip is keyed through the
same `operators.write_clip`: the same retargeting, a new Action, one undo
step. MediaPipe itself runs in a third process, of a Python that has
mediapipe 0.10.14 (the Tracker Python preference, else the engine's search:
TALKING_HEAD_TRACKER_PYTHON, the child's own Python, the checkout's
.venv-video). Blender 5.1+ embeds Python 3.13, for which MediaPipe 0.10.14 has
no wheel: without a Tracker Python there, Track Video reports that in one
sentence and leaves the scene unchanged.

For a video file the movie and its sound go into the sequencer as strips of
our own, from the start frame (earlier ones of ours replaced, the user's
untouched); a user's movie strip is only read, and the keys follow it.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Optional

import bpy

from ..blender import fitting, scene_timing, sequencer
from ..engine_link import jobs, results, run_book
from . import operators
from .poll import ANIMATING, NO_HEAD, NOT_REGISTERED, TRACKING, allowed
from ..settings import preferences
from ..blender.action_compat import OWNER_TAG
from ..engine_link import engine
from ..settings.video_source import VIDEO_STRIP, VideoSource, missing, resolve

MOVEMENT = ("global_tx", "global_ty", "global_tz")  # the head's movement in the picture: in the take, not keyed
RUNS = run_book.TRACK  # the TrackRun working for each scene, and each scene's last failed tracking
NO_TRACKER = ("Track Video needs a Python 3.11 or 3.12 with mediapipe 0.10.14 (Blender 5.1 and later embed "
              "Python 3.13, which has none): set Tracker Python in the Talking Head preferences; your scene "
              "is unchanged.")


class TrackRun(operators.EngineRun):
    """One tracking of a video: the engine's job in its child process, then (main thread only) the take keyed
    on the head through Animate's `write_clip`, the movie and its sound in the sequencer, the fit's quality
    in the panel. Holds names, not Blender data."""

    def __init__(self, context) -> None:
        settings = context.scene.talking_head
        if settings.target is None:
            raise engine.InputError(NO_HEAD)
        track = context.scene.talking_head_track
        self.source = resolve(context, track)
        options = preferences.engine_options(context)
        self.aliases, self.existing = options.aliases, settings.existing_action
        self.match_rate = track.match_frame_rate
        self.scene_name, self.target_name = context.scene.name, settings.target.name
        fitting.ensure_mapping(settings.target)
        spec = jobs.TrackJob(video=self.source.path, start_frame=self.source.start_frame,
                             start_s=self.source.start_s, end_s=self.source.end_s,
                             tracker_python=preferences.tracker_python(context))
        self.job = jobs.Job(spec)

    BOOK, CHILD = RUNS, "tracker"

    @classmethod
    def start(cls, context) -> "TrackRun":
        return cls(context)._started()

    def finish(self, context, report) -> set:
        """Key the finished take, or `report` why there is none; the operator's result."""
        self.close(context)
        if self.job.failure is not None:
            return self._report_failure(report)
        scene, target = self._scene_and_head(report, "the video was being tracked")
        if scene is None:
            return {'CANCELLED'}
        clip, rate = self.job.clip, (scene.render.fps, scene.render.fps_base)
        try:
            drift = _match_rate(scene, clip.fps) if self.match_rate and self.source.strip is None else ""
            drift = drift or _drift(scene, clip.fps)
            with_sound = bool(clip.metadata.get("has_audio", True)) and self.source.strip is None
            moves = [n for n in clip.names if n in MOVEMENT]  # no rig joint takes them: kept for export only
            result = operators.write_clip(context, scene, target, clip.without_channels(moves), self.source.path,
                                          self.source.start_frame, user_strip=self.source.strip,
                                          aliases=self.aliases, existing=self.existing, with_sound=with_sound)
            results.remember(target, clip.resample(scene_timing.scene_fps(scene)) if abs(
                clip.fps - scene_timing.scene_fps(scene)) > 1e-6 else clip)
        except engine.EngineError as error:  # e.g. a stored mapping naming keys the head lost: nothing keyed
            scene.render.fps, scene.render.fps_base = rate
            report({'ERROR'}, str(error))
            return {'CANCELLED'}
        if self.source.strip is None:
            drift = " ".join(filter(None, (drift, _placed_movie(context, scene, self.source))))
        show_quality(scene.talking_head_track, clip, scene_timing.scene_fps(scene), self.source.start_frame)
        warnings = list(clip.metadata.get("warnings", ())) + ([drift] if drift else [])
        status = scene.talking_head.status + (" " + " ".join(warnings) if warnings else "")
        scene.talking_head_track.status = status
        report({'WARNING'} if result.unmapped or warnings else {'INFO'}, status)
        return {'FINISHED'}

    def _report_failure(self, report) -> set:
        failure = self.job.failure
        message = NO_TRACKER if failure.kind == "TrackerMissingError" else failure.message
        return self._report_failure_message(report, message, failure is jobs.TRACK_CANCELLED)


def _match_rate(scene, fps: float) -> str:
    """Set the scene's frame rate to `fps` (30000/1001 as 30 / 1.001); "" or the sentence saying the rate is
    left as it was because it cannot be written exactly."""
    rate = Fraction(fps).limit_denominator(1001)
    whole = math.ceil(rate)
    if whole > 1000 or whole < 1:
        return (f"The scene keeps its frame rate ({scene_timing.scene_fps(scene):g} fps): the video's {fps:g} fps "
                "is out of Blender's range.")
    scene.render.fps, scene.render.fps_base = int(whole), float(whole / rate)
    return ""


def _drift(scene, fps: float) -> str:
    """"" when the scene plays the video's frames in step, else the sentence saying its picture drifts."""
    rate = scene_timing.scene_fps(scene)
    if abs(rate - fps) < 1e-3:
        return ""
    return (f"The sequencer plays the {fps:g} fps video at the scene's {rate:g} fps, so its picture drifts from "
            f"the keys (they follow the video's time and sound); set the scene to {fps:g} fps to line them up.")


def _placed_movie(context, scene, source: VideoSource) -> str:
    """Put the tracked file in the sequencer; "" or the sentence saying why it is not there (the keys are)."""
    try:
        place_movie(sequencer.sequencer_scene(context) if scene == context.scene else scene, source.path,
                    source.start_frame)
    except (engine.EngineError, RuntimeError) as error:  # no free channel; a Blender that cannot read the movie
        return f"The movie was not put in the sequencer ({str(error).rstrip('.')})."
    return ""


def place_movie(scene, filepath: str, frame_start: int, name: str = "TalkingHead Video"):
    """Put the video as a movie strip at `frame_start`, above our sound strip, replacing our previous movie strip
    only (the user's strips are untouched)."""
    sequencer.remove_ours(scene, VIDEO_STRIP)
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strips = sequencer.editor_strips(editor)
    below = sequencer.voice_channel(scene)
    busy = {s.channel for s in strips if s.frame_final_end > frame_start}
    channel = next((c for c in range(below + 1, sequencer.MAX_CHANNEL + 1) if c not in busy), None)
    if channel is None:
        raise engine.InputError(f"Every sequencer channel above {below} is taken from frame {frame_start}; "
                                "free one for the video.")
    strip = strips.new_movie(name, filepath, channel, frame_start)
    strip[OWNER_TAG] = VIDEO_STRIP
    return strip


def show_quality(track, clip, scene_fps: float, start_frame: int) -> None:
    """The fit's quality in the panel's words: landmark error (% of the eye distance), the worst frames and the
    bridged frames as scene frames."""
    quality = clip.metadata.get("fit_quality") or {}
    video_fps = float(clip.metadata.get("video_fps", clip.fps))

    def scene_frame(t: int) -> int:
        return start_frame + round(t * scene_fps / video_fps)

    if quality.get("median") is None:
        track.quality, track.worst = "No frame could be fitted.", ""
    else:
        track.quality = (f"Landmark error: median {100 * quality['median']:.1f}%, 95th percentile "
                         f"{100 * quality['p95']:.1f}% of the eye distance")
        track.worst = "Worst frames: " + ", ".join(f"{scene_frame(t)} ({100 * e:.1f}%)" for t, e in quality["worst"])
    bridged = [f for t in clip.metadata.get("bridged_frames", ())  # each video frame's span of scene frames
               for f in range(scene_frame(t), max(scene_frame(t + 1), scene_frame(t) + 1))]
    track.bridged = (f"Bridged (face lost): {frame_ranges(bridged)}" if bridged else "No frames bridged.")


def frame_ranges(frames) -> str:
    """'12-15, 30': sorted frames as runs."""
    runs: list = []
    for f in sorted(set(frames)):
        if runs and f == runs[-1][1] + 1:
            runs[-1][1] = f
        else:
            runs.append([f, f])
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)


def why_not_track(context) -> str:
    """Why Track Video cannot start now (its poll message), or "" when it can."""
    scene = context.scene
    settings, track = getattr(scene, "talking_head", None), getattr(scene, "talking_head_track", None)
    if settings is None or track is None:
        return NOT_REGISTERED
    if tracking(scene) is not None:
        return TRACKING
    if operators.running(scene) is not None:
        return ANIMATING
    if settings.target is None:
        return NO_HEAD
    return missing(context, track)


def tracking(scene) -> Optional[TrackRun]:
    """The run tracking a video for `scene`, or None."""
    return RUNS.running(scene)


last_failure = RUNS.last_failure
cancel_all = RUNS.cancel_all  # stop every tracking (the add-on is being disabled)


class TALKINGHEAD_OT_track_video(operators.EngineJobOperator, bpy.types.Operator):
    """Track the face in a video (a file or your movie strip) and key it on the head as a new Action; Esc cancels"""

    bl_idname = "talking_head.track_video"
    bl_label = "Track Video"
    bl_options = {'REGISTER', 'UNDO'}

    @classmethod
    def poll(cls, context):
        return allowed(cls, why_not_track(context))

    def start_run(self, context):
        return TrackRun.start(context)


class TALKINGHEAD_OT_cancel_track(operators.CancelJobOperator, bpy.types.Operator):
    """Stop tracking: the tracker stops and the scene stays exactly as it was"""

    bl_idname = "talking_head.cancel_track"
    IDLE = "No video is being tracked."

    @staticmethod
    def find_run(scene):
        return tracking(scene)


CLASSES = (TALKINGHEAD_OT_track_video, TALKINGHEAD_OT_cancel_track)
