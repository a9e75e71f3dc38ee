"""Where Animate's voice comes from: a sound file, or a sound strip the user already has in the sequencer.

A user's strip is only read (its sound file and its first frame), never moved,
renamed or replaced, and no strip of ours is added beside it. For a file, the
add-on places its own voice strip (`sequencer.place_sound`). The sequencer is the
one Blender 5.0 shows (`context.sequencer_scene`), else the scene's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import bpy

from ..blender import sequencer
from ..engine_link import engine
from .strip_choice import StripChoice

SOURCES = (
    ('FILE', "File", "A sound file; the add-on puts it in the sequencer as its own voice strip"),
    ('STRIP', "Sound Strip", "A sound strip already in the sequencer: the head follows it, the strip is left as it is"),
)


@dataclass(frozen=True)
class AudioSource:
    """The voice to animate: an absolute file path, the scene frame of its first sample, and the
    user's strip it comes from (None: a file, for which we place our own voice strip)."""

    path: str
    start_frame: int
    strip: Optional[str] = None


SOUND = StripChoice('SOUND', sequencer.VOICE_STRIP, "sound_strip_name", 'SOUND', "sound strip",
                    "The sound strip whose voice animates the head")
sound_strips, strip_items, get_strip, set_strip = SOUND.strips, SOUND.items, SOUND.get, SOUND.set
chosen_strip = SOUND.chosen  # the user's sound strip the settings name, or None


def missing(context, settings) -> str:
    """Why the voice cannot be taken yet (for the Animate button's poll), or "" when it can."""
    if settings.audio_source == 'FILE':
        return "" if settings.audio_path else "Choose a voice clip first."
    return SOUND.missing(context, settings)


def resolve(context, settings) -> AudioSource:
    """The voice to animate; engine.InputError with one sentence when it cannot be used."""
    if settings.audio_source == 'FILE':
        return AudioSource(bpy.path.abspath(settings.audio_path), settings.start_frame)
    reason = missing(context, settings)
    if reason:
        raise engine.InputError(reason)
    strip = chosen_strip(context, settings)
    sound = strip.sound
    path = bpy.path.abspath(sound.filepath, library=sound.library) if sound is not None else ""
    if not path or not os.path.isfile(path):
        raise engine.InputError(f"The sound of strip '{strip.name}' is not a file on disk (packed or missing: "
                                f"'{path}'); unpack it with File > External Data, or choose a sound file.")
    start = round(strip.frame_start) if settings.use_strip_start else settings.start_frame
    return AudioSource(path, start, strip.name)
