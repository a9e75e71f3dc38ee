"""Small meshes the tests build themselves."""

from __future__ import annotations

import numpy as np


def uv_sphere(rings: int, segments: int, radius: float = 0.1):
    """A UV sphere (poles on the Y axis, each pole repeated per segment): vertices [(rings+1)*segments, 3],
    outward-wound triangles [2*rings*segments, 3]."""
    theta, phi = np.meshgrid(np.linspace(0, np.pi, rings + 1), np.linspace(0, 2 * np.pi, segments, endpoint=False),
                             indexing="ij")
    verts = radius * np.stack([np.sin(theta) * np.sin(phi), np.cos(theta), np.sin(theta) * np.cos(phi)], -1)
    i, j = np.meshgrid(np.arange(rings), np.arange(segments), indexing="ij")
    a, b = i * segments + j, i * segments + (j + 1) % segments
    faces = np.concatenate([np.stack([a, a + segments, b], -1), np.stack([b, a + segments, b + segments], -1)])
    return verts.reshape(-1, 3), faces.reshape(-1, 3)
