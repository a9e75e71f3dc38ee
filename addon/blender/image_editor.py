"""Rendered frames into Blender images (the one place numpy pixels become an Image) and the Image Editors."""

from __future__ import annotations

import bpy
import numpy as np

PREVIEW_IMAGE = "Talking Head Preview"


def preview_image(rgba: np.ndarray, name: str = PREVIEW_IMAGE, pack: bool = True):
    """Write a straight-alpha RGBA uint8 frame [H, W, 4] (row 0 at the top) into the image `name`, made,
    or resized, to fit it, and packed (saved with the .blend, never an unsaved image); returns the image.
    `pack` False: not packed yet (packing takes ~10-20 ms a frame: the live preview packs before a save)."""
    height, width = rgba.shape[:2]
    image = bpy.data.images.get(name)
    if image is None:
        image = bpy.data.images.new(name, width, height, alpha=True)
    elif tuple(image.size) != (width, height):
        image.scale(width, height)
    image.alpha_mode = 'STRAIGHT'
    image.pixels.foreach_set((np.ascontiguousarray(rgba[::-1], np.float32) / 255.0).ravel())  # rows bottom-up
    image.update()
    if pack:
        image.pack()
    return image

def show_image(context, image) -> int:
    """Show `image` in every Image Editor that is not pinned to another; returns how many show it."""
    shown = 0
    wm = getattr(context, "window_manager", None)
    for window in (wm.windows if wm is not None else ()):
        for area in window.screen.areas:
            space = area.spaces.active if area.type == 'IMAGE_EDITOR' else None
            if space is not None and not space.use_image_pin:
                space.image = image
                area.tag_redraw()
                shown += 1
    return shown
