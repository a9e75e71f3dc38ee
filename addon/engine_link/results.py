"""The latest MotionClip made for each head in this Blender session (for export and previews)."""

from __future__ import annotations

_LATEST: dict = {}


def remember(obj, clip) -> None:
    """Keep `clip` as the latest result for object `obj`."""
    _LATEST[obj.name_full] = clip


def latest(obj):
    """The latest MotionClip made for `obj` in this session, or None."""
    return _LATEST.get(obj.name_full) if obj is not None else None

