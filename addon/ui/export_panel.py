"""The "Export" subpanel: the latest clip as a motion file, the keyed head as glTF or FBX (`export_ops`)."""

from __future__ import annotations

import bpy

from .panel import SidebarPanel


def draw_export(layout) -> None:
    """The export buttons, for a panel section."""
    col = layout.column(align=True)
    col.operator("talking_head.export_clip", icon='EXPORT')
    row = col.row(align=True)
    row.operator("talking_head.export_gltf", text="glTF")
    row.operator("talking_head.export_fbx", text="FBX")


class TALKINGHEAD_PT_export(SidebarPanel, bpy.types.Panel):
    bl_label = "Export"
    bl_idname = "TALKINGHEAD_PT_export"
    bl_parent_id = "TALKINGHEAD_PT_main"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, _context):
        draw_export(self.layout)


CLASSES = (TALKINGHEAD_PT_export,)
