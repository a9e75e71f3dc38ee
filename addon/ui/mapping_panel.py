"""The Mapping subpanel: which shape keys and bones of the chosen head each channel drives, the character's
other meshes keyed with it (each with its tick), and the buttons of `mapping_ops`."""

from __future__ import annotations

import bpy

from ..blender import mapping_store, target_rig
from ..engine_link import engine
from ..ops.mapping_ops import check_on_rig, current_mapping, target_of
from .panel import SidebarPanel

JOINT_LABELS = (("jaw", "Jaw"), ("neck", "Head turn (neck)"), ("global", "Head root (global)"),
                ("eye_left", "Left eye"), ("eye_right", "Right eye"))
SHOWN_TARGETS = 3  # a channel on more keys (a FLAME head's components) shows its largest weights, then a count


class TALKINGHEAD_PT_mapping(SidebarPanel, bpy.types.Panel):
    bl_label = "Mapping"
    bl_idname = "TALKINGHEAD_PT_mapping"
    bl_parent_id = "TALKINGHEAD_PT_main"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        layout = self.layout
        obj = target_of(context)
        if obj is None:
            layout.label(text="Choose a head mesh first.", icon='INFO')
            return
        row = layout.row(align=True)
        row.operator("talking_head.mapping_by_name", icon='SORTALPHA')
        row.operator("talking_head.mapping_fit", icon='MOD_SHRINKWRAP')
        row = layout.row(align=True)
        row.operator("talking_head.find_landmarks", icon='PIVOT_INDIVIDUAL')
        row.operator("talking_head.mapping_clear", icon='X', text="")
        row = layout.row(align=True)
        row.operator("talking_head.mapping_edit_text", icon='TEXT')
        row.operator("talking_head.mapping_apply_text", icon='CHECKMARK')
        try:
            mapping, stored = current_mapping(obj)
            check_on_rig(obj, mapping)
        except engine.EngineError as error:
            layout.label(text=str(error), icon='ERROR')
            return
        source = f"Stored ({mapping.method})" if stored else "By name (default, not stored)"
        layout.label(text=source, icon='LINKED' if stored else 'UNLINKED')
        draw_bones(layout, obj, mapping)
        draw_meshes(layout, obj, mapping)
        draw_targets(layout, mapping)


def draw_bones(layout, obj, mapping) -> None:
    """Joint -> bone rows, each with a button to choose another bone."""
    armature = target_rig.find_armature(obj)
    if armature is None:
        return
    found = target_rig.bones_for_joints(armature, mapping)
    box = layout.box()
    for joint, label in JOINT_LABELS:
        split = box.split(factor=0.45)
        split.label(text=label)
        row = split.row(align=True)
        bone = found.get(joint)
        row.label(text=bone if joint in mapping.bones else (f"{bone} (by name)" if bone else "-"))
        row.operator("talking_head.mapping_choose_bone", text="", icon='BONE_DATA').joint = joint


def draw_meshes(layout, obj, mapping) -> None:
    """The character's other meshes with keys the mapping drives, each with its tick (keyed or not)."""
    meshes = target_rig.mapped_meshes(obj, mapping)
    if not meshes:
        return
    skipped = mapping_store.skipped_meshes(obj)
    box = layout.box()
    box.label(text=f"Also keyed with '{obj.name}':", icon='OUTLINER_OB_MESH')
    for other in meshes:
        keyed = other.name not in skipped
        row = box.row(align=True)
        row.operator("talking_head.mapping_toggle_mesh", text="", emboss=False,
                     icon='CHECKBOX_HLT' if keyed else 'CHECKBOX_DEHLT').mesh = other.name
        row.label(text=other.name if keyed else f"{other.name} (not keyed)")


def draw_targets(layout, mapping) -> None:
    """Channel -> shape keys (with weights other than 1) rows, then the channels with no target."""
    box = layout.box()
    if not mapping.targets:
        box.label(text="No channel drives a shape key.", icon='INFO')
    for channel, pairs in mapping.targets.items():
        split = box.split(factor=0.45)
        split.label(text=channel)
        shown = sorted(pairs, key=lambda p: -abs(p[1]))[:SHOWN_TARGETS] if len(pairs) > SHOWN_TARGETS else pairs
        text = ", ".join(t if w == 1.0 else f"{t} \u00d7{w:.3g}" for t, w in shown)
        split.label(text=text if shown is pairs else f"{text}, ... ({len(pairs)} keys)")
    if mapping.unmapped:
        col = layout.column(align=True)
        col.label(text=f"No target ({len(mapping.unmapped)}):", icon='ERROR')
        for start in range(0, len(mapping.unmapped), 3):
            col.label(text=", ".join(mapping.unmapped[start:start + 3]))


CLASSES = (TALKINGHEAD_PT_mapping,)
