"""F-Curves on a new Action, on every Blender from 4.2 to 5.0.

4.4 introduced slotted, layered Actions and 5.0 removed `Action.fcurves`;
everything version-specific about creating F-Curves lives here.
"""

from __future__ import annotations

import bpy

OWNER_TAG = "talking_head"  # custom property marking Actions and strips this add-on made


def slotted_actions() -> bool:
    """True on Blender 4.4+ (Actions have slots, layers and channelbags)."""
    return "slots" in bpy.types.Action.bl_rna.properties


class ActionWriter:
    """A new Action for one ID block, handing out F-Curves for data paths."""

    def __init__(self, id_block, name: str, id_type: str) -> None:
        self.id_block = id_block
        self.action = bpy.data.actions.new(name)
        self.action[OWNER_TAG] = True
        self._channels = None
        self.slot = None
        if slotted_actions():
            self.slot = self.action.slots.new(id_type=id_type, name=id_block.name)
            layer = self.action.layers.new("Layer")
            strip = layer.strips.new(type='KEYFRAME')
            self._channels = strip.channelbag(self.slot, ensure=True)

    def fcurve(self, data_path: str, index: int = 0, group: str = ""):
        """A new F-Curve on this Action for `data_path[index]`."""
        if self._channels is not None:
            fc = self._channels.fcurves.new(data_path, index=index)
            if group:
                fc.group = self._channels.groups.get(group) or self._channels.groups.new(group)
            return fc
        return self.action.fcurves.new(data_path, index=index, action_group=group)

    def assign(self) -> None:
        """Make this Action the ID block's active Action (and slot)."""
        ad = self.id_block.animation_data or self.id_block.animation_data_create()
        ad.action = self.action
        if self.slot is not None:
            ad.action_slot = self.slot


def fcurves_of(action):
    """Every F-Curve of an Action, slotted or legacy."""
    if not slotted_actions():
        return list(action.fcurves)
    return [fc for layer in action.layers for strip in layer.strips
            for bag in strip.channelbags for fc in bag.fcurves]


def write_keys(fcurve, frames, values) -> None:
    """Key `values` [T] at `frames` [T] in bulk (never a keyframe_insert loop)."""
    import numpy as np

    co = np.empty((len(frames), 2), dtype=np.float32)
    co[:, 0], co[:, 1] = frames, values
    fcurve.keyframe_points.add(len(frames))
    fcurve.keyframe_points.foreach_set("co", co.ravel())
    fcurve.keyframe_points.foreach_set("interpolation", np.full(len(frames), LINEAR, dtype=np.int32))
    fcurve.update()


LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value
