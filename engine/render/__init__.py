"""Rendering: a pinhole camera, a numpy mesh rasterizer and a portrait shading look.

The mesh renderer makes preview frames now and, later, the training frames of
the neural light field ("mesh style teacher"); NLDF inference joins it here.
"""

from .camera import Camera, default_framing, look_at, rays
from .raster import Fragments, rasterize
from .shading import PORTRAIT, Light, Look, composite_over, render_mesh, shade, to_uint8, vertex_normals
