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
