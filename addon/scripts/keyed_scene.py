"""The scene the Blender benches measure (`bench_preview.py`, `bench_sequencer.py`): the built-in head keyed
with the shipped sample voice's clip, square frames in a look. Run inside Blender's Python (bpy) with the
checkout on sys.path, as those scripts are."""

from __future__ import annotations

import bpy

from addon.blender import head_object, keying
from addon.engine_link import results
from engine import animate, load_head
from engine.bench.measure import SAMPLE_VOICE


def keyed_head_scene(fps: float, look: str, size: int):
    """(scene, head mesh, clip): the built-in head added to the current scene and keyed with the sample voice
    (energy driver) at `fps`, which the scene takes; the render's look and size, square `size` frames at
    100%, and the scene's frame range the clip's."""
    context = bpy.context
    mesh_obj, rig = head_object.add_head(context, load_head())
    head_object.make_target(context, mesh_obj, rig)
    clip = animate(str(SAMPLE_VOICE), fps=fps, driver="energy")
    keying.key_clip(clip, mesh_obj)
    results.remember(mesh_obj, clip)
    scene = context.scene
    scene.render.fps, scene.render.fps_base = round(fps), 1.0
    scene.talking_head.render.look, scene.talking_head.render.size = look, str(size)
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.frame_start, scene.frame_end = clip.start_frame, clip.end_frame
    return scene, mesh_obj, clip
