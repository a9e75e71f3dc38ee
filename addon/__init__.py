"""Talking Head for Blender: voice clip in, lip-synced head performance out.

The add-on is a translator: it reads its properties, calls the bundled engine
(never torch, never heavy work on the main thread in the UI), and writes the
results back through the bpy<->numpy seam: `keying` (keys on the rig, with
`target_rig`, `mapping_store`, `bone_rotations`), `sequencer` (strips),
`image_editor` (images) and `scene_timing` (fps and frame range).
"""

bl_info = {  # read only when loaded as a legacy add-on folder (development); no version: engine.__version__ has it
    "name": "Talking Head",
    "author": "The Talking Head authors",
    "blender": (4, 2, 0),
    "location": "3D View > Sidebar > Talking Head",
    "description": "Voice clip to lip-synced, styled head performance keyed on your rig",
    "category": "Animation",
}

import bpy

from .ops import batch_ops, export_ops, flame_heads, mapping_ops, operators, render_ops, track_ops
from .ui import batch_panel, export_panel, mapping_panel, panel, render_panel, track_panel
from .settings import preferences, properties, storage, video_source

CLASSES = (operators.CLASSES + flame_heads.CLASSES + render_ops.CLASSES + panel.CLASSES + render_panel.CLASSES
           + mapping_ops.CLASSES + mapping_panel.CLASSES + export_ops.CLASSES + export_panel.CLASSES + track_ops.CLASSES
           + track_panel.CLASSES + batch_ops.CLASSES + batch_panel.CLASSES)


def register() -> None:
    storage.register(__package__)  # the engine's disk cache in the extension's user folder
    preferences.register()
    properties.register()
    video_source.register()
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    render_ops.register()  # Follow Frame: the frame-change handler, the switch's listener


def unregister() -> None:
    operators.cancel_all()  # no engine child process outlives the add-on
    track_ops.cancel_all()
    batch_ops.cancel_all()
    render_ops.unregister()  # nor a render, nor the frame-change handler
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    video_source.unregister()
    properties.unregister()
    preferences.unregister()
    storage.unregister()
