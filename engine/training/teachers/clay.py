"""The "clay" look: a sculpted, hand-made clay head under soft studio light.

Warm albedo with gentle per-region tints (rosier lips, darker brows, carved
irises and pupils), wrap lighting that never goes black, cavity darkening
from the posed mesh's concavity at a few scales (so creases deepen as the
face moves), and a subtle surface noise evaluated at each pixel's neutral,
canonical position: the grain is painted on the clay and follows it, never
swimming in screen space.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import regions as R
from .surface import Surface

GAMMA = 2.2
NOISE_SEED = 6            # fixed: the grain is part of the look
WAVES_PER_LAYER = 24
CLAY_TINTS = {  # multipliers on the clay albedo per region
    R.SKIN: (1.0, 1.0, 1.0), R.LIPS: (0.95, 0.72, 0.70), R.BROWS: (0.66, 0.58, 0.54),
    R.SCLERA: (1.08, 1.08, 1.06), R.IRIS: (0.62, 0.55, 0.52), R.PUPIL: (0.22, 0.18, 0.17),
    R.MOUTH: (0.38, 0.22, 0.20), R.TEETH: (1.1, 1.08, 1.02),
}


@dataclass(frozen=True)
class ClayLook:
    """Soft-lit clay.

    albedo: the clay's display colour; tints: region -> multiplier; key,
    fill: light directions in the head's frame with `key_color`,
    `fill_color` (linear intensities); wrap: how far light wraps past the
    terminator (0 = Lambert); ambient: sky light; cavity_scales: neighbour
    averaging rounds whose concavity darkens the clay, cavity_gain: darkening
    per metre of concavity at each scale; grain: (wavelength in metres,
    amplitude) of each noise layer; sheen: a broad, faint highlight;
    brow_softening: neighbour-averaging rounds that blur the brows into the
    skin (a smudge of darker clay; lips and eyes keep their edges).
    """

    albedo: tuple = (0.80, 0.56, 0.43)
    tints: dict = field(default_factory=lambda: dict(CLAY_TINTS))
    key: tuple = (-0.5, 0.6, 0.65)
    key_color: tuple = (1.05, 0.98, 0.90)
    fill: tuple = (0.7, -0.1, 0.6)
    fill_color: tuple = (0.25, 0.28, 0.33)
    wrap: float = 0.55
    ambient: float = 0.16
    cavity_scales: tuple = (2, 8, 24)
    cavity_gain: tuple = (100.0, 60.0, 35.0)
    grain: tuple = ((0.002, 0.025), (0.015, 0.025))
    sheen: float = 0.05
    brow_softening: int = 1

    def shade(self, surface: Surface, supersample: int) -> np.ndarray:
        """RGB [H, W, 3] (display values, 0 on the background) of the surface at the render resolution.

        Everything here lives on the surface, so `supersample` (which sizes
        screen-space effects such as the toon's lines) plays no part.
        """
        albedo = self._albedo(surface) ** GAMMA
        occlusion = surface.interpolate(self.vertex_occlusion(surface)[:, None])
        light = self._light(surface, occlusion)
        sheen = self.sheen * np.clip(surface.normal @ surface.to_world(self.key), 0, 1)[:, None] ** 8
        rgb = np.clip(albedo * light + sheen * occlusion, 0.0, 1.0) ** (1.0 / GAMMA)
        return surface.image(rgb.astype(np.float32))

    def _albedo(self, surface: Surface) -> np.ndarray:
        """Display albedo [P, 3]: clay times region tint times grain."""
        tints = np.array([self.tints[r] for r in range(len(R.REGION_NAMES))], dtype=np.float32)
        tint = soft = surface.prepared.region_onehot @ tints
        for _ in range(self.brow_softening):
            soft = surface.prepared.adjacency @ soft
        on_skin = np.isin(surface.prepared.regions, (R.SKIN, R.BROWS))[:, None]
        tint = surface.interpolate(np.where(on_skin, soft, tint))
        rest = surface.interpolate(surface.prepared.rest)
        grain = 1.0 + surface_noise(rest, self.grain)
        return np.clip(np.asarray(self.albedo, np.float32) * tint * grain[:, None], 0.0, 1.0)

    def _light(self, surface: Surface, occlusion: np.ndarray) -> np.ndarray:
        """Linear light [P, 3] reaching each pixel: wrapped key and fill, sky ambient, all occluded."""
        light = np.zeros((len(surface.pixel), 3), dtype=np.float32)
        for direction, color in ((self.key, self.key_color), (self.fill, self.fill_color)):
            n_dot_l = surface.normal @ surface.to_world(direction)
            wrapped = np.clip((n_dot_l + self.wrap) / (1.0 + self.wrap), 0.0, 1.0) ** 1.5
            light += wrapped[:, None] * np.asarray(color, np.float32)
        up = surface.normal @ surface.to_world((0.0, 1.0, 0.0))
        light += self.ambient * (0.75 + 0.25 * up)[:, None]
        return light * occlusion

    def vertex_occlusion(self, surface: Surface) -> np.ndarray:
        """Cavity light factor [V] in (0, 1] of the posed mesh: darker where the surface is concave."""
        vertices = surface.vertices.astype(np.float32)
        smooth, rounds, darkening = vertices, 0, np.zeros(len(vertices), np.float32)
        for scale, gain in zip(self.cavity_scales, self.cavity_gain):
            for _ in range(scale - rounds):
                smooth = surface.prepared.adjacency @ smooth
            rounds = scale
            concave = np.sum((smooth - vertices) * surface.vertex_normals, axis=1)
            darkening += gain * np.maximum(concave, 0.0)
        return np.exp(-darkening).astype(np.float32)


def surface_noise(points: np.ndarray, layers) -> np.ndarray:
    """Deterministic band-limited noise [P] at points [P, 3] (metres): a sum of random plane waves.

    layers: (wavelength, amplitude) pairs; each layer is WAVES_PER_LAYER
    sinusoids of that wavelength in fixed random directions and phases,
    scaled to a standard deviation of `amplitude`.
    """
    rng = np.random.default_rng(NOISE_SEED)
    points = np.asarray(points, dtype=np.float32)
    total = np.zeros(len(points), dtype=np.float32)
    for wavelength, amplitude in layers:
        directions = rng.normal(size=(WAVES_PER_LAYER, 3))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        waves = (2 * np.pi / wavelength) * directions.astype(np.float32)
        phases = rng.uniform(0, 2 * np.pi, WAVES_PER_LAYER).astype(np.float32)
        layer = np.sin(points @ waves.T + phases).sum(axis=1)
        total += (amplitude * np.sqrt(2.0 / WAVES_PER_LAYER)) * layer
    return total
