"""Rendering: a pinhole camera, a numpy mesh rasterizer, a portrait shading look, light-field rays.

The mesh renderer makes preview frames and the training frames of the neural
light field (`engine.training.teachers`); `rays` is the light field's input:
rays in the head's own frame, their segments through the head's box and
their encoding, which NLDF inference (`engine.nldf`) feeds its looks. (The world-space camera rays
are `camera.rays`; the name `rays` here is the module.)
"""

from . import rays
from .camera import Camera, default_framing, look_at
from .raster import Fragments, rasterize
from .shading import PORTRAIT, Light, Look, composite_over, render_mesh, shade, to_uint8, vertex_normals
