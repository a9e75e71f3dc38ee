"""What a teacher look sees: the head's per-vertex data, prepared once, and the visible surface of one frame.

Looks light the head in its own frame (`Surface.to_world` turns a canonical
direction into a world one): the light rides with the head like paint, so a
frame's colours depend on the surface point and the view direction only, which
is what a light field over rays in the head's frame can learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ...head.model import HeadModel
from ...render.camera import Camera, pixel_directions
from ...render.raster import Fragments
from ...render.shading import face_normals, facing_view, interpolate, vertex_normals
from .regions import REGION_NAMES, vertex_regions

CACHE_SIZE = 4  # prepared heads kept per process


@dataclass
class PreparedHead:
    """Per-vertex data of a head that no frame changes.

    regions [V] int (see `regions`), region_onehot [V, R] float32,
    rest [V, 3] float32 neutral canonical positions (the texture space),
    adjacency [V, V] sparse row-normalised neighbour averaging.
    """

    head: HeadModel
    regions: np.ndarray
    region_onehot: np.ndarray
    rest: np.ndarray
    adjacency: sparse.csr_matrix


_PREPARED: list = []


def prepare(head: HeadModel) -> PreparedHead:
    """The PreparedHead of `head` (built once per head object and cached)."""
    for prepared in _PREPARED:
        if prepared.head is head:
            return prepared
    regions = vertex_regions(head)
    onehot = np.eye(len(REGION_NAMES), dtype=np.float32)[regions]
    prepared = PreparedHead(head, regions, onehot, head.v_template.astype(np.float32),
                            neighbour_average(head.faces, head.num_vertices))
    _PREPARED.insert(0, prepared)
    del _PREPARED[CACHE_SIZE:]
    return prepared


def neighbour_average(faces: np.ndarray, num_vertices: int) -> sparse.csr_matrix:
    """Sparse [V, V] matrix whose product with per-vertex values averages each vertex's edge neighbours."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.unique(np.sort(np.concatenate([edges, edges[:, ::-1]]), axis=1), axis=0)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    matrix = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(num_vertices, num_vertices))
    degree = np.asarray(matrix.sum(axis=1)).ravel()
    return sparse.diags(1.0 / np.maximum(degree, 1.0)).astype(np.float32) @ matrix


@dataclass
class Surface:
    """The visible surface of one frame at the (supersampled) render resolution H x W.

    pixel [P] flat indices of covered pixels; face [P] the triangle seen
    there, tri [P, 3] its vertices and bary [P, 3] its barycentrics; normal [P, 3]
    unit world normals turned towards the viewer; view [P, 3] unit vectors
    towards the camera; depth [H, W] camera depth (inf on the background);
    vertices [V, 3] posed, vertex_normals [V, 3]; rotation [3, 3] the head's
    canonical-to-world rotation; prepared the head's per-vertex data.
    """

    height: int
    width: int
    pixel: np.ndarray
    face: np.ndarray
    tri: np.ndarray
    bary: np.ndarray
    normal: np.ndarray
    view: np.ndarray
    depth: np.ndarray
    vertices: np.ndarray
    vertex_normals: np.ndarray
    rotation: np.ndarray
    prepared: PreparedHead

    def interpolate(self, values: np.ndarray) -> np.ndarray:
        """Per-vertex values [V, C] at the covered pixels -> [P, C] (perspective-correct)."""
        return interpolate(values, self.tri, self.bary)

    def to_world(self, direction) -> np.ndarray:
        """A unit direction [3] given in the head's canonical frame, in world space (float32)."""
        d = np.asarray(direction, dtype=np.float64)
        return (self.rotation @ (d / np.linalg.norm(d))).astype(np.float32)

    def image(self, values: np.ndarray, background=0.0) -> np.ndarray:
        """Per-pixel values [P, C] -> an image [H, W, C] filled with `background` elsewhere."""
        out = np.full((self.height * self.width, values.shape[1]), background, dtype=np.float32)
        out[self.pixel] = values
        return out.reshape(self.height, self.width, -1)

    @property
    def mask(self) -> np.ndarray:
        """Covered pixels [H, W] bool."""
        return np.isfinite(self.depth)


def visible_surface(fragments: Fragments, camera: Camera, vertices: np.ndarray, transform: np.ndarray,
                    prepared: PreparedHead) -> Surface:
    """The Surface seen in `fragments` (from rasterizing posed `vertices` [V, 3] with `camera`).

    transform [4, 4] is the head's pose (`engine.render.rays.head_transform`).
    """
    faces = prepared.head.faces
    H, W = fragments.triangle_id.shape
    pixel = np.flatnonzero(fragments.triangle_id >= 0)
    face = fragments.triangle_id.ravel()[pixel].astype(np.int64)
    tri = faces[face]
    bary = fragments.barycentrics.reshape(-1, 3)[pixel]
    normals_v = vertex_normals(vertices, faces).astype(np.float32)
    normal = interpolate(normals_v, tri, bary)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    row, col = np.divmod(pixel, W)
    view = -pixel_directions(camera, col + 0.5, row + 0.5).astype(np.float32)
    normal = facing_view(normal, face_normals(vertices, tri), view)
    return Surface(H, W, pixel, face, tri, bary, normal.astype(np.float32), view, fragments.depth, vertices,
                   normals_v, np.asarray(transform, dtype=np.float64)[:3, :3], prepared)
