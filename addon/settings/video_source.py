"""Where Track Video's video comes from: a video file, or one of the user's movie strips (only read); and
Track Video's settings (`scene.talking_head_track`), the video's source and what the last tracking said."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, PointerProperty, StringProperty

from ..blender import scene_timing
from ..engine_link import engine
from .properties import PATH_OPTIONS
from .strip_choice import StripChoice

VIDEO_STRIP = "video"   # the OWNER_TAG value of our movie strip
SOURCES = (
    ('FILE', "File", "A video file; the add-on puts it and its sound in the sequencer as its own strips"),
    ('STRIP', "Movie Strip", "A movie strip already in the sequencer: the keys follow it, the strip is left as it is"),
)


MOVIE = StripChoice('MOVIE', VIDEO_STRIP, "movie_strip_name", 'FILE_MOVIE', "movie strip",
                    "The movie strip whose face is tracked")
movie_strips, strip_items = MOVIE.strips, MOVIE.items


class TalkingHeadTrackSettings(bpy.types.PropertyGroup):
    video_source: EnumProperty(name="Video From", items=SOURCES, default='FILE',
                               description="Where the video comes from")
    video_path: StringProperty(name="Video", subtype='FILE_PATH', options=PATH_OPTIONS,
                               description="A video of a talking face (mp4, mov, mkv, webm, avi)")
    movie_strip: EnumProperty(name="Strip", items=strip_items, get=MOVIE.get, set=MOVIE.set,
                              description="The sequencer's movie strip to track; it is left as it is")
    movie_strip_name: StringProperty(name="Strip Name", default="", options={'HIDDEN'})
    start_frame: IntProperty(name="Start Frame", default=1, description="Scene frame of the video's first frame")
    match_frame_rate: BoolProperty(name="Use Video Frame Rate", default=True,
                                   description="Set the scene's frame rate to the video's, so each video frame is "
                                               "one scene frame and the movie strip plays in step with the keys")
    status: StringProperty(name="Status", default="")
    quality: StringProperty(name="Fit Quality", default="")
    worst: StringProperty(name="Worst Frames", default="")
    bridged: StringProperty(name="Bridged Frames", default="")


@dataclass(frozen=True)
class VideoSource:
    """The video to track: an absolute path, the scene frame of its first tracked frame, the stretch of it
    in seconds, and the user's strip it comes from (None: a file, for which we place our own strips)."""

    path: str
    start_frame: int
    start_s: float = 0.0
    end_s: Optional[float] = None
    strip: Optional[str] = None


chosen_strip = MOVIE.chosen  # the user's movie strip the settings name, or None


def missing(context, settings) -> str:
    """Why the video cannot be taken yet (the button's poll message), or "" when it can."""
    if settings.video_source == 'FILE':
        return "" if settings.video_path.strip() else "Choose a video file first."
    return MOVIE.missing(context, settings)


def resolve(context, settings) -> VideoSource:
    """The video to track; engine.InputError with one sentence when it cannot be used. A user's strip is
    tracked over the part of the movie it shows (its trims), keyed from its first visible frame."""
    reason = missing(context, settings)
    if reason:
        raise engine.InputError(reason)
    if settings.video_source == 'FILE':
        path = bpy.path.abspath(settings.video_path)
        if not os.path.isfile(path):
            raise engine.InputError(f"The video '{path}' does not exist; choose a video file.")
        return VideoSource(path, settings.start_frame)
    strip = chosen_strip(context, settings)
    path = bpy.path.abspath(strip.filepath)
    if not os.path.isfile(path):
        raise engine.InputError(f"The movie of strip '{strip.name}' is not a file on disk ('{path}'); "
                                "choose another strip or a video file.")
    rate = strip.fps or scene_timing.scene_fps(context.scene)
    start_s = strip.frame_offset_start / rate
    end_s = (strip.frame_offset_start + strip.frame_final_duration) / rate
    return VideoSource(path, round(strip.frame_final_start), start_s, end_s, strip.name)


def register() -> None:
    bpy.utils.register_class(TalkingHeadTrackSettings)
    bpy.types.Scene.talking_head_track = PointerProperty(type=TalkingHeadTrackSettings)


def unregister() -> None:
    del bpy.types.Scene.talking_head_track
    bpy.utils.unregister_class(TalkingHeadTrackSettings)
