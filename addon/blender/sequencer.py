"""Our strips in the Video Sequencer: the voice's sound strip and the rendered frames' image strip, placed
beside the user's strips and replaced without touching them; the strips of a scene (4.2 to 5.3 names)."""

from __future__ import annotations

from pathlib import Path

import bpy

from .action_compat import OWNER_TAG
from ..engine_link import engine

VOICE_STRIP = "voice"
FRAMES_STRIP = "frames"  # the OWNER_TAG value of our image strip of rendered frames
MAX_CHANNEL = 128


def sequencer_scene(context):
    """The scene the Video Sequencer shows (5.0's `context.sequencer_scene`, the workspace's), else the
    context scene."""
    shown = getattr(context, "sequencer_scene", None)
    workspace = getattr(context, "workspace", None)
    return shown or getattr(workspace, "sequencer_scene", None) or getattr(context, "scene", None)

def editor_strips(editor):
    """The editor's top-level strips: `strips` since 4.4, `sequences` before."""
    return editor.strips if hasattr(editor, "strips") else editor.sequences

def all_strips(scene) -> list:
    """Every strip of `scene`'s sequencer, those inside meta strips too (none without a sequencer)."""
    editor = scene.sequence_editor if scene is not None else None
    if editor is None:
        return []
    return list(editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all)

def remove_ours(scene, tag: str) -> None:
    """Remove our strip(s) tagged `tag` (VOICE_STRIP, FRAMES_STRIP) from `scene`'s sequencer; the user's stay."""
    editor = scene.sequence_editor
    if editor is None:
        return
    strips = editor_strips(editor)
    for strip in list(strips):
        if strip.get(OWNER_TAG) == tag:
            strips.remove(strip)

def remove_voice(scene) -> None:
    """Remove our previous voice strip(s) from `scene`'s sequencer; the user's strips stay."""
    remove_ours(scene, VOICE_STRIP)

def place_sound(scene, filepath: str, frame_start: int, name: str = "TalkingHead Voice"):
    """Put the voice as a sound strip at `frame_start`, replacing our previous voice strip only."""
    remove_voice(scene)
    strips = editor_strips(scene.sequence_editor or scene.sequence_editor_create())
    channel = free_channel(strips, frame_start)
    strip = strips.new_sound(name, filepath, channel, frame_start)
    strip[OWNER_TAG] = VOICE_STRIP
    return strip

def voice_channel(scene, user_strip: str = "") -> int:
    """The channel of our voice strip in `scene`'s sequencer, else of the user's strip named `user_strip`,
    else 0."""
    strips = all_strips(scene)
    ours = next((s for s in strips if s.get(OWNER_TAG) == VOICE_STRIP), None)
    theirs = next((s for s in strips if user_strip and s.name == user_strip), None)
    voice = ours or theirs
    return voice.channel if voice is not None else 0

def remove_frames(scene) -> None:
    """Remove our previous image strip(s) of rendered frames; the user's strips stay."""
    remove_ours(scene, FRAMES_STRIP)

def place_frames(scene, paths: list, frame_start: int, below: int = 0, name: str = "TalkingHead Frames"):
    """Put rendered frames (files of one folder, in frame order) as an image strip from `frame_start`, in
    the first channel above channel `below` free over its frames, replacing our previous frames strip only."""
    remove_frames(scene)
    strips = editor_strips(scene.sequence_editor or scene.sequence_editor_create())
    end = frame_start + len(paths)
    busy = {s.channel for s in strips if s.frame_final_start < end and s.frame_final_end > frame_start}
    channel = next((c for c in range(below + 1, MAX_CHANNEL + 1) if c not in busy), None)
    if channel is None:
        raise engine.InputError(f"Every sequencer channel above {below} is taken over frames {frame_start}-"
                                f"{end - 1}; free one for the rendered frames.")
    strip = strips.new_image(name, str(paths[0]), channel, frame_start, fit_method='FIT')
    for path in paths[1:]:
        strip.elements.append(Path(path).name)
    if bpy.data.filepath:  # relative to the saved .blend, so the file and its frames folder move together
        strip.directory = bpy.path.relpath(strip.directory)
    strip.blend_type = 'ALPHA_OVER'
    strip[OWNER_TAG] = FRAMES_STRIP
    return strip

def free_channel(strips, frame_start: int) -> int:
    """The lowest channel no strip of `strips` occupies from `frame_start` on."""
    used = {s.channel for s in strips if s.frame_final_end > frame_start}
    return next(c for c in range(1, MAX_CHANNEL + 1) if c not in used)
