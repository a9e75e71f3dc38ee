"""Shading rasterized fragments into RGBA images: a soft three-light portrait look.

Images are float32 RGBA in [0, 1] with straight (not premultiplied) alpha, as
PNG stores them; alpha is pixel coverage. Vertex colours are display (sRGB)
values: they are lit in linear light and converted back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .camera import Camera, pixel_directions
from .raster import Fragments, rasterize

DEFAULT_GREY = (0.72, 0.70, 0.68)  # a neutral clay colour for meshes without colours
GAMMA = 2.2


@dataclass(frozen=True)
class Light:
    """A directional light: `direction` [3] points from the surface towards the light."""

    direction: tuple
    intensity: float
    color: tuple = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Look:
    """How `shade` lights a surface.

    Light directions are in world space (Y up, +Z towards a front camera),
    or in the camera's space seen as world-from-front when `follow_camera`.
    key: the main light, upper left of a front camera; fill: a weak light
    from the other side; rim: a light behind the head that outlines it;
    `wrap` softens the diffuse terminator (0 = Lambert); `ambient` is a
    sky/ground hemisphere term; `specular`, `shininess`: a Blinn-Phong sheen
    from the key light.
    """

    key: Light = Light((-0.5, 0.5, 0.7), 0.95, (1.0, 0.97, 0.92))
    fill: Light = Light((0.7, 0.0, 0.7), 0.3, (0.9, 0.95, 1.0))
    rim: Light = Light((0.55, 0.5, -0.65), 0.7, (1.0, 1.0, 1.0))
    ambient: float = 0.22
    wrap: float = 0.35
    specular: float = 0.08
    shininess: float = 24.0
    follow_camera: bool = False


PORTRAIT = Look()


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted smooth vertex normals [V, 3] (unit; zero for unused vertices)."""
    v = np.asarray(vertices, dtype=np.float64)
    tri = v[faces]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # length = 2 * area
    normals = np.stack([np.bincount(faces.ravel(), np.repeat(face_n[:, k], 3), minlength=len(v))
                        for k in range(3)], axis=1)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.where(length > 0, length, 1.0)


def shade(fragments: Fragments, camera: Camera, vertices: np.ndarray, faces: np.ndarray,
          colors=None, look: Look = PORTRAIT, supersample: int = 1) -> np.ndarray:
    """Light the visible surface: RGBA [H / s, W / s, 4] float32 with s = `supersample`.

    fragments come from `rasterize(camera, vertices, faces)`; colors [V, 3]
    in [0, 1] (None: clay grey). With `supersample` s > 1 the fragments must
    be s times the output size (rasterize with `camera.scaled(s)`); s x s
    blocks are averaged, which antialiases edges and gives fractional alpha.
    """
    faces = np.asarray(faces, dtype=np.int64)
    colors = _vertex_colors(colors, len(vertices))
    H, W = fragments.triangle_id.shape
    pixel = np.flatnonzero(fragments.triangle_id >= 0)
    rgba = np.zeros((H * W, 4), dtype=np.float32)
    if pixel.size:
        tri = faces[fragments.triangle_id.ravel()[pixel]]  # [P, 3]
        bary = fragments.barycentrics.reshape(-1, 3)[pixel].astype(np.float32)  # [P, 3]
        normals = _unit(interpolate(vertex_normals(vertices, faces).astype(np.float32), tri, bary))
        albedo = interpolate(colors.astype(np.float32), tri, bary)
        row, col = np.divmod(pixel, W)
        view = -pixel_directions(camera, col + 0.5, row + 0.5).astype(np.float32)
        normals = facing_view(normals, face_normals(vertices, tri), view)
        rgba[pixel, :3] = _lit(albedo, normals, view, look, camera)
        rgba[pixel, 3] = 1.0
    rgba = rgba.reshape(H, W, 4)
    return downsample(rgba, supersample)


def render_mesh(camera: Camera, vertices: np.ndarray, faces: np.ndarray, colors=None,
                supersample: int = 2, look: Look = PORTRAIT, cull_backfaces: bool = False) -> np.ndarray:
    """Rasterize and shade a mesh: RGBA [H, W, 4] float32 at the camera's resolution."""
    if supersample < 1:
        raise InputError(f"The supersampling factor must be 1 or more, not {supersample}.")
    big = camera.scaled(supersample)
    fragments = rasterize(big, vertices, faces, cull_backfaces=cull_backfaces)
    return shade(fragments, big, vertices, faces, colors, look, supersample)


def _vertex_colors(colors, num_vertices: int) -> np.ndarray:
    if colors is None:
        return np.broadcast_to(np.asarray(DEFAULT_GREY), (num_vertices, 3))
    colors = np.asarray(colors, dtype=np.float64)
    if colors.shape != (num_vertices, 3):
        raise InputError(f"Vertex colours must be [{num_vertices}, 3], not {colors.shape}.")
    return colors


def interpolate(values: np.ndarray, tri: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """Per-vertex values [V, C] at points with triangles [P, 3] and barycentrics [P, 3] -> [P, C]."""
    return (values[tri[:, 0]] * bary[:, 0:1] + values[tri[:, 1]] * bary[:, 1:2]
            + values[tri[:, 2]] * bary[:, 2:3])


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of [P, 3] arrays -> [P, 1]."""
    return a[:, 0:1] * b[:, 0:1] + a[:, 1:2] * b[:, 1:2] + a[:, 2:3] * b[:, 2:3]


def _unit(x: np.ndarray) -> np.ndarray:
    if x.ndim == 1:
        return x / max(float(np.sqrt(x @ x)), 1e-12)
    return x / np.maximum(np.sqrt(_dot(x, x)), 1e-12)


def _light_dir(light: Light, look: Look, camera: Camera) -> np.ndarray:
    """The light's unit direction [3] in world space."""
    d = _unit(np.asarray(light.direction, dtype=np.float64))
    if look.follow_camera:  # camera-space with the front camera's axes: x right, y up, z back
        d = np.array([d[0], -d[1], -d[2]]) @ camera.rotation
    return d


def face_normals(vertices: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Geometric (unnormalised) normals [P, 3] of the triangles [P, 3] seen at each pixel."""
    v = np.asarray(vertices, dtype=np.float32)
    return np.cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]])


def facing_view(normals: np.ndarray, face_normals: np.ndarray, view: np.ndarray) -> np.ndarray:
    """Two-sided shading normals [P, 3]: flipped where the *triangle* faces away (an inside seen
    through an opening); where only the smooth normal tips away (grazing silhouettes), bent onto
    the plane facing the view instead of flipped, which would light an upward surface from below."""
    normals = np.where(_dot(face_normals, view) < 0, -normals, normals)
    away = np.minimum(_dot(normals, view), 0.0)
    return _unit(normals - away * view)


def _lit(albedo: np.ndarray, normals: np.ndarray, view: np.ndarray, look: Look, camera: Camera) -> np.ndarray:
    """Colours [P, 3] of surface points with albedo, unit normals facing the view and unit view vectors [P, 3]."""
    facing = np.clip(_dot(normals, view), 0.0, 1.0)
    key, fill, rim = (_light_dir(light, look, camera).astype(np.float32)
                      for light in (look.key, look.fill, look.rim))
    sky = 0.5 + 0.5 * normals[:, 1:2]  # hemisphere ambient: brighter from above
    light = look.ambient * (0.6 + 0.4 * sky)
    for d, src in ((key, look.key), (fill, look.fill)):
        wrapped = np.clip((normals @ d + look.wrap) / (1.0 + look.wrap), 0.0, 1.0)[:, None]
        light = light + src.intensity * wrapped * np.asarray(src.color, np.float32)
    color = (albedo ** GAMMA) * light
    ndoth = np.clip(_dot(normals, _unit(key + view)), 0.0, 1.0)
    color += look.specular * look.key.intensity * ndoth ** look.shininess
    edge = (1.0 - np.minimum(facing, 1.0)) ** 2
    facing_rim = np.clip(normals @ rim + 0.3, 0.0, 1.3)[:, None]
    color += (0.5 * look.rim.intensity) * edge * facing_rim * np.asarray(look.rim.color, np.float32)
    return np.clip(color, 0.0, 1.0) ** (1.0 / GAMMA)


def downsample(rgba: np.ndarray, factor: int) -> np.ndarray:
    """Box-filter straight-alpha RGBA [H, W, 4] by an integer factor -> [H / f, W / f, 4]."""
    f = int(factor)
    if f == 1:
        return rgba
    H, W = rgba.shape[0] // f, rgba.shape[1] // f
    premul = np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], axis=-1)
    small = sum(premul[i:H * f:f, j:W * f:f] for i in range(f) for j in range(f)) / (f * f)
    alpha = small[..., 3:]
    small[..., :3] = np.where(alpha > 0, small[..., :3] / np.maximum(alpha, 1e-12), 0.0)
    return small.astype(np.float32)


def composite_over(rgba: np.ndarray, background=(1.0, 1.0, 1.0)) -> np.ndarray:
    """Straight-alpha RGBA [..., 4] over a flat colour -> RGB [..., 3] float32."""
    alpha = rgba[..., 3:]
    return (rgba[..., :3] * alpha + np.asarray(background, dtype=np.float32) * (1.0 - alpha)).astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] -> uint8 (rounded, clipped)."""
    return np.clip(np.rint(np.asarray(image) * 255.0), 0, 255).astype(np.uint8)
