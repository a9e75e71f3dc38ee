"""A property's choice of one of the user's own strips of one type (the voice's sound strip, Track Video's
movie strip): the strips listed as enum items, and the choice kept by name in a string property, so adding
or removing other strips does not change it. The sequencer is the one Blender 5.0 shows
(`context.sequencer_scene`), else the scene's own; strips the add-on placed itself are left out.
"""

from __future__ import annotations

import bpy

from ..blender import sequencer
from ..blender.action_compat import OWNER_TAG

NO_STRIP = "NONE"  # the enum item 0: no strip chosen


class StripChoice:
    """The user's strips of `strip_type` ('SOUND', 'MOVIE') but ours (OWNER_TAG `ours`), chosen by name in
    the settings' string property `name_property`; `icon`, `noun` ("sound strip") and `purpose` (item 0's
    description) word the enum. `items`, `get` and `set` are the EnumProperty's callbacks: plain functions,
    as Blender refuses bound methods there."""

    def __init__(self, strip_type: str, ours: str, name_property: str, icon: str, noun: str, purpose: str):
        self.strip_type, self.ours, self.name_property = strip_type, ours, name_property
        self.icon, self.noun, self.purpose = icon, noun, purpose
        self._items: list = []  # Blender needs Python to keep the enum's strings alive
        self.items = lambda settings, context: self._enum_items(context)
        self.get = lambda settings: self._number(settings)
        self.set = lambda settings, value: self._choose(settings, value)

    def strips(self, scene) -> list:
        """The user's strips of this type in `scene`'s sequencer, by channel then start frame."""
        strips = [s for s in sequencer.all_strips(scene) if s.type == self.strip_type and s.get(OWNER_TAG) != self.ours]
        return sorted(strips, key=lambda s: (s.channel, s.frame_start, s.name))

    def _enum_items(self, context) -> list:
        """Enum items of the sequencer's strips, numbered from 1 (0: none chosen)."""
        strips = self.strips(sequencer.sequencer_scene(context or bpy.context))
        none = f"Choose a {self.noun}" if strips else f"No {self.noun}s in the sequencer"
        self._items[:] = [(NO_STRIP, none, self.purpose, self.icon, 0)]
        self._items.extend((s.name, s.name, f"Channel {s.channel}, from frame {s.frame_start:g}", self.icon, k + 1)
                           for k, s in enumerate(strips))
        return self._items

    def _number(self, settings) -> int:
        """The enum's value: the number of the strip the settings name (0 when gone)."""
        names, chosen = self._names(), getattr(settings, self.name_property)
        return names.index(chosen) + 1 if chosen in names else 0

    def _choose(self, settings, value: int) -> None:
        """Keep the chosen strip by name."""
        names = self._names()
        setattr(settings, self.name_property, names[value - 1] if 1 <= value <= len(names) else "")

    def chosen(self, context, settings):
        """The user's strip the settings name, or None."""
        name = getattr(settings, self.name_property)
        return next((s for s in self.strips(sequencer.sequencer_scene(context)) if s.name == name), None) if name else None

    def missing(self, context, settings) -> str:
        """Why the chosen strip cannot be taken (none chosen, or gone from the sequencer), or "" when it can."""
        name = getattr(settings, self.name_property)
        if not name:
            return f"Choose a {self.noun} of the sequencer first."
        if self.chosen(context, settings) is None:
            return f"The {self.noun} '{name}' is not in the sequencer any more; choose another."
        return ""

    def _names(self) -> list:
        """The names of items 1, 2, ... (not rebuilding the items Blender may be showing)."""
        return [s.name for s in self.strips(sequencer.sequencer_scene(bpy.context))]
