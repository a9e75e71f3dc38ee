"""Fixtures for add-on tests: a fresh empty Blender file with the add-on registered, and a tiny head."""

from __future__ import annotations

import pytest

bpy = pytest.importorskip("bpy")


@pytest.fixture
def blender():
    """An empty factory-settings scene with the add-on registered; unregistered afterwards."""
    import addon

    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon.register()
    try:
        yield bpy.context
    finally:
        addon.unregister()


@pytest.fixture
def prefs(blender):
    """The add-on's preferences, as when it is enabled (its entry in Blender's add-on list)."""
    from addon.settings import preferences

    entry = blender.preferences.addons.new()
    entry.module = preferences.TalkingHeadPreferences.bl_idname
    try:
        yield entry.preferences
    finally:
        blender.preferences.addons.remove(entry)
