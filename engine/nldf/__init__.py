"""NLDF looks at run time (numpy + onnxruntime): load a distilled look, render a MotionClip's frames.

    look = load_look("toon")                      # engine/models/nldf_toon.onnx + .json, checked
    for rgba in render_clip(clip, look, size=256):  # straight-alpha RGBA uint8 [H, W, 4] per frame
        ...

The networks are distilled and exported by `engine.training.nldf`; the ray
inputs come from the numpy reference `engine.render.rays`.
"""

from .condition import condition_names, condition_vectors
from .look import Look, installed_looks, load_look
from .render import default_camera, render_clip, render_frame

__all__ = ["Look", "condition_names", "condition_vectors", "default_camera", "installed_looks", "load_look",
           "render_clip", "render_frame"]
