"""The "Render" subpanel of the Talking Head tab: look, size, Preview with Follow Frame, Render to Sequencer."""

from __future__ import annotations

import bpy

from . import operators, render_ops, render_settings
from .panel import SidebarPanel


class TALKINGHEAD_PT_render(SidebarPanel, bpy.types.Panel):
    bl_label = "Render"
    bl_idname = "TALKINGHEAD_PT_render"
    bl_parent_id = "TALKINGHEAD_PT_main"

    def draw(self, context):
        draw_render(self.layout, context)


def draw_render(layout, context) -> None:
    """The look and size, then the buttons, or, while a render runs, its progress bar and a Cancel button."""
    settings = context.scene.talking_head.render
    has_looks = bool(render_settings.installed_looks(context))
    col = layout.column(align=True)
    col.enabled = has_looks
    col.prop(settings, "look")
    col.row(align=True).prop(settings, "size", expand=True)
    run = render_ops.running(context.scene)
    if run is not None:
        row = layout.row(align=True)
        row.progress(factor=run.job.fraction, type='BAR', text=operators.progress_text(run.job))
        row.operator("talking_head.cancel_render", text="", icon='CANCEL')
    else:
        row = layout.row(align=True)
        row.operator("talking_head.render_preview", icon='IMAGE_DATA')
        row.prop(settings, "follow_frame")
        layout.operator("talking_head.render_sequence", icon='SEQUENCE')
    failure = render_ops.last_failure(context.scene)
    if not has_looks:
        layout.label(text="No look installed: hover over Preview to see how to make one.", icon='INFO')
    elif failure:
        layout.label(text=failure, icon='ERROR')
    elif settings.status:
        layout.label(text=settings.status, icon='ERROR' if settings.status_alert else 'INFO')


CLASSES = (TALKINGHEAD_PT_render,)
