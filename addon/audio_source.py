"""Where Animate's voice comes from: a sound file, or a sound strip the user already has in the sequencer.

A user's strip is only read (its sound file and its first frame), never moved,
renamed or replaced, and no strip of ours is added beside it. For a file, the
add-on places its own voice strip (`bridge.place_sound`). The sequencer is the
one Blender 5.0 shows (`context.sequencer_scene`), else the scene's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import bpy

from . import bridge
from .action_compat import OWNER_TAG
from .engine_link import engine

SOURCES = (
    ('FILE', "File", "A sound file; the add-on puts it in the sequencer as its own voice strip"),
    ('STRIP', "Sound Strip", "A sound strip already in the sequencer: the head follows it, the strip is left as it is"),
)
NO_STRIP = "NONE"
_ITEMS: list = []  # the strip enum's items: Blender needs Python to keep the strings alive


@dataclass(frozen=True)
class AudioSource:
    """The voice to animate: an absolute file path, the scene frame of its first sample, and the
    user's strip it comes from (None: a file, for which we place our own voice strip)."""

    path: str
    start_frame: int
    strip: Optional[str] = None


def sound_strips(scene) -> list:
    """The user's sound strips of `scene`'s sequencer (ours left out), by channel then start frame."""
    strips = [s for s in bridge.all_strips(scene) if s.type == 'SOUND' and s.get(OWNER_TAG) != bridge.VOICE_STRIP]
    return sorted(strips, key=lambda s: (s.channel, s.frame_start, s.name))


def strip_items(_settings, context) -> list:
    """Enum items of the sequencer's sound strips, numbered from 1 (0: none chosen)."""
    strips = sound_strips(bridge.sequencer_scene(context or bpy.context))
    none = "Choose a sound strip" if strips else "No sound strips in the sequencer"
    _ITEMS[:] = [(NO_STRIP, none, "The sound strip whose voice animates the head", 'SOUND', 0)]
    _ITEMS.extend((s.name, s.name, f"Channel {s.channel}, from frame {s.frame_start:g}", 'SOUND', k + 1)
                  for k, s in enumerate(strips))
    return _ITEMS


def _strip_names() -> list:
    """The names of the items of `strip_items` 1, 2, ... (not rebuilding the items Blender may be showing)."""
    return [s.name for s in sound_strips(bridge.sequencer_scene(bpy.context))]


def get_strip(settings) -> int:
    """The enum's value: the number of the strip named `settings.sound_strip_name` (0 when gone)."""
    names = _strip_names()
    return names.index(settings.sound_strip_name) + 1 if settings.sound_strip_name in names else 0


def set_strip(settings, value: int) -> None:
    """Keep the chosen strip by name, so adding or removing other strips does not change the choice."""
    names = _strip_names()
    settings.sound_strip_name = names[value - 1] if 1 <= value <= len(names) else ""


def chosen_strip(context, settings):
    """The user's sound strip the settings name, or None."""
    name = settings.sound_strip_name
    return next((s for s in sound_strips(bridge.sequencer_scene(context)) if s.name == name), None) if name else None


def missing(context, settings) -> str:
    """Why the voice cannot be taken yet (for the Animate button's poll), or "" when it can."""
    if settings.audio_source == 'FILE':
        return "" if settings.audio_path else "Choose a voice clip first."
    if not settings.sound_strip_name:
        return "Choose a sound strip of the sequencer first."
    if chosen_strip(context, settings) is None:
        return f"The sound strip '{settings.sound_strip_name}' is not in the sequencer any more; choose another."
    return ""


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
