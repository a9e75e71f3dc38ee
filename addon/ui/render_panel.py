"""The "Render" subpanel of the Talking Head tab: look, size, Preview with Follow Frame, Render to Sequencer."""

from __future__ import annotations

import bpy

from ..ops import operators, render_ops
from ..settings import preferences, render_settings
from ..blender import render_camera
from ..engine_link import engine
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
    advice = camera_advice(context)
    if advice:
        row = layout.row(align=True)
        row.label(text=advice, icon='CAMERA_DATA')
        row.operator("talking_head.add_head_camera", text="", icon='ADD')
    failure = render_ops.last_failure(context.scene)
    if not has_looks:
        layout.label(text="No look installed: hover over Preview to see how to make one.", icon='INFO')
    elif failure:
        layout.label(text=failure, icon='ERROR')
    elif settings.status:
        layout.label(text=settings.status, icon='ERROR' if settings.status_alert else 'INFO')


def camera_advice(context) -> str:
    """A few words when the scene camera will not show the head as the chosen look was trained to see it
    (the panel then offers Add Head Camera), else ""."""
    scene = context.scene
    settings = scene.talking_head
    look = render_settings.chosen_look(settings.render, context)
    if settings.target is None or not look:
        return ""
    if scene.camera is None:
        return "No scene camera: the look's own framing"
    try:
        options = preferences.engine_options(context)
        camera = render_camera.scene_camera(scene, settings.target, int(settings.render.size))
        outside = render_camera.range_warning(camera, render_settings.look_sidecar(look, options.models_dir), look)
    except engine.EngineError as error:
        return str(error)
    return "The camera is outside the look's trained views" if outside else ""


CLASSES = (TALKINGHEAD_PT_render,)
