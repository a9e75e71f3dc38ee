"""The Render settings (`scene.talking_head.render`): the look, the frame size, Follow Frame, the status line.

Switching Follow Frame calls each of SWITCH_LISTENERS: the live preview adds itself when the add-on
registers (`render_ops.register`: on, the current frame at once; off, its child stops), so these settings
never import the operators' side. The looks to choose from are `render_settings`.
"""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty

from . import render_settings

SIZES = (('128', "128", "128 pixels on the longer side: quick previews"),
         ('256', "256", "256 pixels on the longer side, the size looks are usually distilled at"),
         ('512', "512", "512 pixels on the longer side: slower, sharper only if the look was distilled at it"))


SWITCH_LISTENERS: list = []  # functions (settings, context) called when Follow Frame is switched on or off


def follow_frame_changed(settings, context) -> None:
    """Follow Frame was switched: tell every listener (the live preview)."""
    for listener in list(SWITCH_LISTENERS):
        listener(settings, context)


class TalkingHeadRenderSettings(bpy.types.PropertyGroup):
    look: EnumProperty(name="Look", items=render_settings.look_items, get=render_settings.get_look,
                       set=render_settings.set_look,
                       description="The trained NLDF look the head is rendered in")
    look_name: StringProperty(name="Look Name", default="", options={'HIDDEN'})
    size: EnumProperty(name="Size", items=SIZES, default='256',
                       description="Frame size in pixels on the longer side (the scene camera's shape)")
    follow_frame: BoolProperty(name="Follow Frame", default=False, update=follow_frame_changed,
                               description="Keep the preview on the current frame while you scrub or play "
                                           "(a render engine stays ready while this is on; never while the "
                                           "head is being animated or rendered)")
    status: StringProperty(name="Render Status", default="")
    status_alert: BoolProperty(name="Status Warns", default=False, options={'HIDDEN'},
                               description="The status line carries a warning")


CLASSES = (TalkingHeadRenderSettings,)
