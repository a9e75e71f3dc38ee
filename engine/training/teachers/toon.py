"""The "toon" look: cel shading in a few flat light bands per face region, with dark ink outlines.

Colours are flat per region (skin, lips, brows, sclera, iris, pupil, mouth,
teeth) and take one of `levels` brightnesses by where the key light falls.
Ink lines are found in the supersampled fragment buffer: the silhouette,
occluding contours (a depth step, drawn on the near side), creases (a sharp
turn of the normal) and seams (neighbouring pixels whose triangles share no
vertex: the closed lips, the eyelid rims), then thickened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import regions as R
from .surface import Surface

TOON_PALETTE = {  # display (sRGB) colours per region, lit band
    R.SKIN: (0.99, 0.82, 0.70), R.LIPS: (0.86, 0.42, 0.43), R.BROWS: (0.36, 0.23, 0.16),
    R.SCLERA: (0.98, 0.98, 0.97), R.IRIS: (0.24, 0.52, 0.78), R.PUPIL: (0.05, 0.05, 0.08),
    R.MOUTH: (0.42, 0.09, 0.13), R.TEETH: (0.98, 0.97, 0.92),
}


@dataclass(frozen=True)
class ToonLook:
    """Cel shading and outlines.

    light: key light direction in the head's frame (towards the light);
    thresholds: n.l values between the bands (darkest first); levels: the
    bands' brightness; shadow_tint: colour multiplied into the darker bands;
    palette: region -> colour; ink: outline colour; line_px: interior line
    width and silhouette_px: silhouette line width, both in output pixels;
    depth_step: a depth jump (metres, second difference) that draws a
    contour; crease_cosine: normals of neighbouring pixels closer than this
    draw a crease; smoothing: neighbour-averaging rounds of the normals
    that place the bands; region_bias: region -> factor on its interpolated
    weight before the strongest region wins a pixel (above 1 widens it).
    """

    light: tuple = (-0.35, 0.45, 0.85)
    thresholds: tuple = (0.0, 0.45)
    levels: tuple = (0.70, 0.86, 1.0)
    shadow_tint: tuple = (0.98, 0.88, 0.90)
    palette: dict = field(default_factory=lambda: dict(TOON_PALETTE))
    ink: tuple = (0.10, 0.06, 0.06)
    line_px: float = 1.5
    silhouette_px: float = 2.0
    depth_step: float = 0.004
    crease_cosine: float = 0.45
    smoothing: int = 2
    region_bias: dict = field(default_factory=lambda: {R.BROWS: 2.0})

    def shade(self, surface: Surface, supersample: int) -> np.ndarray:
        """RGB [H, W, 3] (display values, 0 on the background) of the surface at the render resolution."""
        weights = surface.interpolate(surface.prepared.region_onehot)
        for r, bias in self.region_bias.items():
            weights[:, r] *= bias
        region = np.argmax(weights, axis=1)
        palette = np.array([self.palette[r] for r in range(len(R.REGION_NAMES))], dtype=np.float32)
        rgb = palette[region] * self._bands(surface)
        image = surface.image(rgb)
        lines = self.outlines(surface, supersample)
        image[lines] = self.ink
        return image

    def _bands(self, surface: Surface) -> np.ndarray:
        """Per-pixel band colour [P, 3]: level times the shadow tint below the top band.

        The bands follow normals smoothed over `smoothing` rings of the mesh:
        broad, simple shapes of light, as a cel painter would simplify them.
        """
        normals = surface.vertex_normals
        for _ in range(self.smoothing):
            normals = surface.prepared.adjacency @ normals
        normal = surface.interpolate(normals)
        normal *= np.sign(np.sum(normal * surface.normal, axis=1, keepdims=True) + 1e-12)  # facing the viewer
        lambert = normal @ surface.to_world(self.light) / np.maximum(np.linalg.norm(normal, axis=1), 1e-12)
        band = np.searchsorted(np.asarray(self.thresholds), lambert)
        level = np.asarray(self.levels, dtype=np.float32)[band][:, None]
        tint = np.where(band[:, None] < len(self.levels) - 1, np.asarray(self.shadow_tint, np.float32), 1.0)
        return (level * tint).astype(np.float32)

    def outlines(self, surface: Surface, supersample: int) -> np.ndarray:
        """Ink pixels [H, W] bool at the render resolution (all on the covered side)."""
        mask = surface.mask
        interior = _dilate(self._contours(surface) | _seams(surface) | self._creases(surface),
                           _radius(self.line_px, supersample))
        silhouette = _dilate(~mask, max(1, int(round(self.silhouette_px * supersample))))
        return mask & (interior | silhouette)

    def _contours(self, surface: Surface) -> np.ndarray:
        """Near sides of depth steps [H, W] (positive second difference along x or y)."""
        depth = np.where(surface.mask, surface.depth, np.float32(1e3))
        out = np.zeros(depth.shape, dtype=bool)
        for axis in (0, 1):
            second = np.zeros_like(depth)
            middle = [slice(None)] * 2
            middle[axis] = slice(1, -1)
            second[tuple(middle)] = (np.roll(depth, 1, axis) + np.roll(depth, -1, axis) - 2 * depth)[tuple(middle)]
            out |= second > self.depth_step
        return out

    def _creases(self, surface: Surface) -> np.ndarray:
        """Pixels [H, W] whose right or lower neighbour's normal turns by more than `crease_cosine`."""
        normal = surface.image(surface.normal)
        mask = surface.mask
        out = np.zeros(mask.shape, dtype=bool)
        right = np.sum(normal[:, :-1] * normal[:, 1:], axis=-1) < self.crease_cosine
        down = np.sum(normal[:-1] * normal[1:], axis=-1) < self.crease_cosine
        out[:, :-1] |= right & mask[:, :-1] & mask[:, 1:]
        out[:-1] |= down & mask[:-1] & mask[1:]
        return out


def _seams(surface: Surface) -> np.ndarray:
    """Pixels [H, W] beside a neighbour whose triangle shares no vertex with theirs (mesh seams)."""
    face = np.full(surface.height * surface.width, -1, dtype=np.int64)
    face[surface.pixel] = surface.face
    face = face.reshape(surface.height, surface.width)
    faces = surface.prepared.head.faces
    out = np.zeros(face.shape, dtype=bool)
    for a, b in ((face[:, :-1], face[:, 1:]), (face[:-1], face[1:])):
        rows, cols = np.nonzero((a != b) & (a >= 0) & (b >= 0))
        fa, fb = faces[a[rows, cols]], faces[b[rows, cols]]
        apart = ~np.any(fa[:, :, None] == fb[:, None, :], axis=(1, 2))
        out[rows[apart], cols[apart]] = True
    return out


def _radius(width_px: float, supersample: int) -> int:
    """Dilation radius at the render resolution for a line `width_px` output pixels wide."""
    return max(0, int(round((width_px * supersample - 1) / 2)))


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation [H, W] by a (2 radius + 1)-wide disc (square corners cut), zero-padded."""
    out = mask.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dx * dx + dy * dy > radius * radius + radius:
                continue
            out |= _shifted(mask, dy, dx)
    return out


def _shifted(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """mask moved by (dy, dx) pixels, zero-filled."""
    H, W = mask.shape
    out = np.zeros_like(mask)
    out[max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = mask[max(-dy, 0):H + min(-dy, 0),
                                                                     max(-dx, 0):W + min(-dx, 0)]
    return out
