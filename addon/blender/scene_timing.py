"""The scene's exact frame rate and the frame range a result must fit in."""

from __future__ import annotations


def extend_frame_range(scene, first: int, last: int) -> None:
    """Grow the scene's frame range to cover [first, last]; never shorten it."""
    scene.frame_start = min(scene.frame_start, first)
    scene.frame_end = max(scene.frame_end, last)

def scene_fps(scene) -> float:
    """The scene's exact frame rate (fps / fps_base: 29.97 is 30 / 1.001)."""
    return scene.render.fps / scene.render.fps_base
