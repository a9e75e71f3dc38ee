"""What Animate asks of the engine: the panel's settings, the voice's source and the preferences, as one job.

Everything is read here, on the main thread, and checked before the engine
starts: a setting that cannot work is one sentence, and the scene is not
touched. What the job itself must satisfy (the frame rate, the driver, what a
reference clip needs, the style, the models folder) is checked by the engine
job's own `validate()`, the same rules the CLI meets; this module checks only
what is Blender's (the voice's sound strip, the preferences).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import bpy

from ..settings import audio_source, preferences, properties
from ..blender import existing_action, scene_timing
from ..engine_link import jobs


@dataclass(frozen=True)
class AnimateRequest:
    """One Animate: the engine's job, where the voice comes from, the aliases to key by name
    (None: the engine's own), and what becomes of an artist's Action (`existing_action` mode)."""

    spec: jobs.AnimateJob
    source: audio_source.AudioSource
    aliases: Optional[dict] = None
    existing: str = existing_action.PUSH_TO_NLA


def build(context) -> AnimateRequest:
    """The request for the context's scene; engine.InputError with one sentence when a setting or
    a preference cannot work."""
    settings = context.scene.talking_head
    options = preferences.engine_options(context)
    source = audio_source.resolve(context, settings)
    clip = bpy.path.abspath(settings.style_clip) if settings.style_clip.strip() else None
    spec = jobs.AnimateJob(audio=source.path, fps=scene_timing.scene_fps(context.scene), driver=settings.driver or None,
                           seed=settings.seed, start_frame=source.start_frame,
                           style_items=properties.style_items(settings), style_clip=clip,
                           device=options.device, models_dir=options.models_dir,
                           tracker_python=preferences.tracker_python(context) if clip else None)
    spec.validate()
    return AnimateRequest(spec, source, options.aliases, settings.existing_action)
