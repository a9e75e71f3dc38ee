"""A vectorised numpy triangle rasterizer with a z-buffer.

Coverage is sampled at pixel centres (see `camera` for the conventions): a
pixel belongs to a triangle when its centre lies inside or on the triangle's
projection. Every (triangle, pixel-in-bounding-box) pair is tested at once,
in chunks of at most `CHUNK_CANDIDATES`; the nearest sample per pixel wins.
Barycentrics are perspective-correct: they interpolate any vertex attribute
as it would vary on the 3D triangle. Triangles with a vertex closer than
`near` to the camera plane are dropped (no clipping; fine for framed heads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .camera import Camera

CHUNK_CANDIDATES = 1 << 20  # (triangle, pixel) pairs tested per vectorised step
DEFAULT_NEAR = 1e-3  # metres
EDGE_TOLERANCE = 1e-9  # barycentric slack so shared edges never leave cracks


@dataclass
class Fragments:
    """What the rasterizer saw at each pixel centre.

    triangle_id [H, W] int32, -1 where no triangle covers the pixel;
    barycentrics [H, W, 3] float32, perspective-correct weights of the
    triangle's three vertices (zeros on the background);
    depth [H, W] float32, camera-space z of the visible surface (inf on the
    background).
    """

    triangle_id: np.ndarray
    barycentrics: np.ndarray
    depth: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """Covered pixels [H, W] bool."""
        return self.triangle_id >= 0


@dataclass
class _Triangles:
    """Screen-space setup of the triangles that survive culling (T of them).

    ids [T] original face index; coeffs [T, 3, 3] rows (a, b, c) such that
    a*u + b*v + c gives the screen-space barycentrics l0, l1 and the inverse
    depth 1/z at pixel (u, v); inv_z [T, 3] 1/z at the vertices; x0, y0 [T]
    top-left pixel of the bounding box; bw, bh [T] its size in pixels.
    """

    ids: np.ndarray
    coeffs: np.ndarray
    inv_z: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    bw: np.ndarray
    bh: np.ndarray


def rasterize(camera: Camera, vertices: np.ndarray, faces: np.ndarray,
              cull_backfaces: bool = False, near: float = DEFAULT_NEAR) -> Fragments:
    """Rasterize a triangle mesh: vertices [V, 3] (world), faces [F, 3] -> Fragments.

    With `cull_backfaces`, triangles whose vertices appear clockwise when seen
    from the camera's side of their counter-clockwise (right-hand) normal are
    skipped, i.e. faces pointing away from the camera.
    """
    vertices, faces = _checked_mesh(vertices, faces)
    tris = _setup(camera, vertices, faces, cull_backfaces, near)
    pixel, tri = _visible_samples(tris, camera.width, camera.height)
    return _fragments(tris, pixel, tri, camera.width, camera.height)


def _checked_mesh(vertices, faces):
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3:
        raise InputError(f"A mesh needs vertices [V, 3] and faces [F, 3], not {vertices.shape} and {faces.shape}.")
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise InputError("The mesh has faces that index missing vertices.")
    return vertices, faces


def _setup(camera: Camera, vertices, faces, cull_backfaces: bool, near: float) -> _Triangles:
    """Project, cull and compute per-triangle interpolation planes and boxes."""
    pixels, depth = camera.project(vertices)
    xy, z = pixels[faces], depth[faces]  # [F, 3, 2], [F, 3]
    (xa, ya), (xb, yb), (xc, yc) = (xy[:, k].T for k in range(3))
    det = (yb - yc) * (xa - xc) + (xc - xb) * (ya - yc)  # twice the signed screen area
    keep = np.all(z > near, axis=1) & np.all(np.isfinite(xy), axis=(1, 2)) & (np.abs(det) > 1e-12)
    if cull_backfaces:
        keep &= det < 0  # counter-clockwise in the world appears clockwise with image y down
    lo = np.ceil(xy.min(axis=1) - 0.5)  # first pixel whose centre is >= the minimum
    hi = np.floor(xy.max(axis=1) - 0.5)  # last pixel whose centre is <= the maximum
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [camera.width - 1, camera.height - 1])
    keep &= np.all(hi >= lo, axis=1)
    ids = np.nonzero(keep)[0]
    return _Triangles(ids, _planes(xy[ids], z[ids], det[ids]), 1.0 / z[ids], lo[ids, 0].astype(np.int64),
                      lo[ids, 1].astype(np.int64), (hi[ids, 0] - lo[ids, 0] + 1).astype(np.int64),
                      (hi[ids, 1] - lo[ids, 1] + 1).astype(np.int64))


def _planes(xy: np.ndarray, z: np.ndarray, det: np.ndarray) -> np.ndarray:
    """Affine planes [T, 3, 3] over (u, v, 1) for l0, l1 (screen barycentrics) and 1/z."""
    (xa, ya), (xb, yb), (xc, yc) = (xy[:, k].T for k in range(3))
    a0, b0 = (yb - yc) / det, (xc - xb) / det
    a1, b1 = (yc - ya) / det, (xa - xc) / det
    c0, c1 = -(a0 * xc + b0 * yc), -(a1 * xc + b1 * yc)
    iz = 1.0 / z
    a2, b2 = -a0 - a1, -b0 - b1
    c2 = 1.0 - c0 - c1
    az = a0 * iz[:, 0] + a1 * iz[:, 1] + a2 * iz[:, 2]
    bz = b0 * iz[:, 0] + b1 * iz[:, 1] + b2 * iz[:, 2]
    cz = c0 * iz[:, 0] + c1 * iz[:, 1] + c2 * iz[:, 2]
    return np.stack([np.stack([a0, b0, c0], 1), np.stack([a1, b1, c1], 1), np.stack([az, bz, cz], 1)], 1)


def _visible_samples(tris: _Triangles, width: int, height: int):
    """Pixel index [P] and winning triangle (index into `tris`) [P] of every covered pixel."""
    zbuf = np.full(width * height, -np.inf)  # stores 1/z: larger is nearer
    samples = [_covered(tris, group, box, width) for group, box in _groups(tris)]
    if not samples:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pixel, tri, inv_z = (np.concatenate(a) for a in zip(*samples))
    np.maximum.at(zbuf, pixel, inv_z)
    win = inv_z == zbuf[pixel]
    tbuf = np.full(width * height, -1, dtype=np.int64)
    tbuf[pixel[win]] = tri[win]  # ties (shared edges at equal depth): any one of them
    covered = np.nonzero(tbuf >= 0)[0]
    return covered, tbuf[covered]


def _size_classes(largest: int) -> np.ndarray:
    """Box sizes 1, 2, .., 8, then steps of about 1.25x, up to `largest`."""
    sizes, s = list(range(1, 9)), 8
    while s < largest:
        s = int(np.ceil(s * 1.25))
        sizes.append(s)
    return np.array(sizes)


def _groups(tris: _Triangles):
    """Triangles with similar boxes, in chunks: yields (indices [G], (box height, box width))."""
    if len(tris.ids) == 0:
        return
    classes = _size_classes(int(max(tris.bw.max(initial=1), tris.bh.max(initial=1))))
    cw = classes[np.searchsorted(classes, tris.bw)]
    ch = classes[np.searchsorted(classes, tris.bh)]
    key = ch * (classes[-1] + 1) + cw
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    for group in np.split(order, bounds):
        box = (int(ch[group[0]]), int(cw[group[0]]))
        step = max(1, CHUNK_CANDIDATES // (box[0] * box[1]))
        for start in range(0, len(group), step):
            yield group[start:start + step], box


def _covered(tris: _Triangles, group: np.ndarray, box: tuple, width: int):
    """Pixels inside the triangles `group` [G], all with boxes within `box` (rows, columns).

    Returns pixel index [K], triangle (index into `tris`) [K] and 1/z [K].
    """
    c = tris.coeffs[group][:, :, :, None, None]  # [G, 3, 3, 1, 1]
    x0, y0 = tris.x0[group][:, None, None], tris.y0[group][:, None, None]
    ox, oy = np.arange(box[1])[None, None, :], np.arange(box[0])[None, :, None]
    u, v = x0 + ox + 0.5, y0 + oy + 0.5  # [G, 1, BW], [G, BH, 1]
    l0 = c[:, 0, 0] * u + c[:, 0, 1] * v + c[:, 0, 2]
    l1 = c[:, 1, 0] * u + c[:, 1, 1] * v + c[:, 1, 2]
    inside = (l0 >= -EDGE_TOLERANCE) & (l1 >= -EDGE_TOLERANCE) & (l0 + l1 <= 1 + EDGE_TOLERANCE)
    inside &= (ox < tris.bw[group][:, None, None]) & (oy < tris.bh[group][:, None, None])
    g, iy, ix = np.nonzero(inside)
    px, py = tris.x0[group][g] + ix, tris.y0[group][g] + iy
    cz = tris.coeffs[group[g], 2]
    inv_z = cz[:, 0] * (px + 0.5) + cz[:, 1] * (py + 0.5) + cz[:, 2]
    return py * width + px, group[g], inv_z


def _fragments(tris: _Triangles, pixel, tri, width: int, height: int) -> Fragments:
    """Fill the per-pixel arrays from the winning samples."""
    v, u = np.divmod(pixel, width)
    u, v = u + 0.5, v + 0.5
    c = tris.coeffs[tri]
    l0 = c[:, 0, 0] * u + c[:, 0, 1] * v + c[:, 0, 2]
    l1 = c[:, 1, 0] * u + c[:, 1, 1] * v + c[:, 1, 2]
    inv_z = c[:, 2, 0] * u + c[:, 2, 1] * v + c[:, 2, 2]
    screen = np.stack([l0, l1, 1.0 - l0 - l1], axis=1)
    bary = screen * tris.inv_z[tri] / inv_z[:, None]  # perspective-correct
    ids = np.full(width * height, -1, dtype=np.int32)
    ids[pixel] = tris.ids[tri]
    barycentrics = np.zeros((width * height, 3), dtype=np.float32)
    barycentrics[pixel] = bary
    depth = np.full(width * height, np.inf, dtype=np.float32)
    depth[pixel] = 1.0 / inv_z
    return Fragments(ids.reshape(height, width), barycentrics.reshape(height, width, 3),
                     depth.reshape(height, width))
