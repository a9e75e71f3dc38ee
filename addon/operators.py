"""Operators: add the built-in head, animate a head from a voice clip."""

from __future__ import annotations

from pathlib import Path

import bpy

from . import bridge, head_object, results
from .engine_link import engine


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
        mesh_obj, armature = head_object.add_head(context, head)
        armature.location = context.scene.cursor.location
        context.scene.talking_head.target = mesh_obj
        for obj in context.selected_objects:
            obj.select_set(False)
        mesh_obj.select_set(True)
        context.view_layer.objects.active = mesh_obj
        self.report({'INFO'}, f"Added the built-in head ({len(head.expression_names)} expression shape keys).")
        return {'FINISHED'}


class TALKINGHEAD_OT_animate(bpy.types.Operator):
    """Animate the head from the voice clip: keys on a new Action, the voice in the sequencer"""

    bl_idname = "talking_head.animate"
    bl_label = "Animate"
    bl_options = {'REGISTER', 'UNDO'}

    @classmethod
    def poll(cls, context):
        settings = context.scene.talking_head
        if settings.target is None:
            cls.poll_message_set("Choose a head (or add the built-in head) first.")
            return False
        if not settings.audio_path:
            cls.poll_message_set("Choose a voice clip first.")
            return False
        return True

    def execute(self, context):
        settings = context.scene.talking_head
        scene = context.scene
        audio = bpy.path.abspath(settings.audio_path)
        try:
            clip = engine.animate(audio, fps=bridge.scene_fps(scene), driver=settings.driver,
                                  seed=settings.seed, start_frame=settings.start_frame)
        except engine.EngineError as error:
            self.report({'ERROR'}, str(error))
            return {'CANCELLED'}
        result = bridge.key_clip(clip, settings.target)
        results.remember(settings.target, clip)
        bridge.extend_frame_range(scene, *result.frames)
        bridge.place_sound(bridge.sequencer_scene(context), audio, settings.start_frame)
        settings.status = _summary(result, Path(audio).name)
        self.report({'WARNING'} if result.unmapped else {'INFO'}, settings.status)
        return {'FINISHED'}


def _summary(result, audio_name: str) -> str:
    text = (f"Keyed {len(result.keyed)} channels over frames {result.frames[0]}-{result.frames[1]} "
            f"from {audio_name}")
    if result.unmapped:
        text += f"; no target for: {', '.join(result.unmapped)}"
    return text + "."


CLASSES = (TALKINGHEAD_OT_add_builtin_head, TALKINGHEAD_OT_animate)
