"""The 3D View sidebar panel, tab "Talking Head"."""

from __future__ import annotations

import bpy


class TALKINGHEAD_PT_main(bpy.types.Panel):
    bl_label = "Talking Head"
    bl_idname = "TALKINGHEAD_PT_main"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "Talking Head"

    def draw(self, context):
        settings = context.scene.talking_head
        layout = self.layout
        layout.operator("talking_head.add_builtin_head", icon='USER')
        col = layout.column(align=True)
        col.prop(settings, "target")
        col.prop(settings, "audio_path")
        col.prop(settings, "driver")
        row = col.row(align=True)
        row.prop(settings, "seed")
        row.prop(settings, "start_frame")
        layout.operator("talking_head.animate", icon='PLAY_SOUND')
        if settings.status:
            layout.label(text=settings.status)


CLASSES = (TALKINGHEAD_PT_main,)
