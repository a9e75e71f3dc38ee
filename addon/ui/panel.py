"""The 3D View sidebar panel, tab "Talking Head": head, voice, driver, style, Animate."""

from __future__ import annotations

import bpy

from ..ops import operators
from ..settings import properties


class SidebarPanel:
    """Where every panel of the add-on lives: the 3D View's sidebar, tab "Talking Head"."""

    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "Talking Head"


class TALKINGHEAD_PT_main(SidebarPanel, bpy.types.Panel):
    bl_label = "Talking Head"
    bl_idname = "TALKINGHEAD_PT_main"

    def draw(self, context):
        settings = context.scene.talking_head
        layout = self.layout
        row = layout.row(align=True)
        row.operator("talking_head.add_builtin_head", icon='USER')
        row.operator("talking_head.add_flame_head", icon='IMPORT')
        layout.prop(settings, "target")
        draw_voice(layout.column(align=True), settings)
        col = layout.column(align=True)
        col.prop(settings, "driver")
        col.prop(settings, "seed")
        draw_style(layout.box(), settings)
        layout.prop(settings, "existing_action")
        draw_animate(layout, context.scene)
        failure = operators.last_failure(context.scene)
        if failure:
            layout.label(text=failure, icon='ERROR')
        elif settings.status:
            layout.label(text=settings.status)


def draw_voice(layout, settings) -> None:
    """Where the voice comes from (a file, or a sound strip of the sequencer) and its start frame."""
    layout.row(align=True).prop(settings, "audio_source", expand=True)
    from_strip = settings.audio_source == 'STRIP'
    if from_strip:
        layout.prop(settings, "sound_strip")
        layout.prop(settings, "use_strip_start")
    else:
        layout.prop(settings, "audio_path")
    row = layout.row(align=True)
    row.enabled = not (from_strip and settings.use_strip_start)  # the strip says where the voice starts
    row.prop(settings, "start_frame")


def draw_style(layout, settings) -> None:
    """The speaking style: preset or reference clip, then the intensities that override it."""
    layout.label(text="Style")
    reference = properties.uses_reference_clip(settings)
    row = layout.row()
    row.active = not reference  # a reference clip replaces the preset
    row.prop(settings, "style_preset")
    row = layout.row()
    row.active = settings.driver == "adf"
    row.prop(settings, "style_clip")
    if settings.style_clip.strip() and settings.driver != "adf":
        layout.label(text="Reference clips need the ADF driver.", icon='INFO')
    col = layout.column(align=True)
    for name in properties.INTENSITIES:
        row = col.row(align=True)
        row.prop(settings, "use_" + name, text="")
        sub = row.row(align=True)
        sub.active = getattr(settings, "use_" + name)
        sub.prop(settings, name)


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
