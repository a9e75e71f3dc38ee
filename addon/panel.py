"""The 3D View sidebar panel, tab "Talking Head"."""

from __future__ import annotations

import bpy

from . import operators


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
        draw_animate(layout, context.scene)
        failure = operators.last_failure(context.scene)
        if failure:
            layout.label(text=failure, icon='ERROR')
        elif settings.status:
            layout.label(text=settings.status)


def draw_animate(layout, scene) -> None:
    """The Animate button, or, while the engine works, its progress bar and a Cancel button."""
    run = operators.running(scene)
    if run is None:
        layout.operator("talking_head.animate", icon='PLAY_SOUND')
        return
    row = layout.row(align=True)
    row.progress(factor=run.job.fraction, type='BAR', text=operators.progress_text(run.job))
    row.operator("talking_head.cancel_animate", text="", icon='CANCEL')


CLASSES = (TALKINGHEAD_PT_main,)
