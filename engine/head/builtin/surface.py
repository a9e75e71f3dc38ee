"""Vertex positions of the built-in head for a given lid opening and feature scales.

The same function makes the rest template (eyes open, features at 1) and
the targets of the lid expressions and feature-based shape components, so
that e.g. a blink is exactly "the template with the lids at the slit".
"""

from __future__ import annotations

import numpy as np

from . import features, profile
from .layout import EYEBALL_LONGITUDES, EYEBALL_POLAR, Layout

EYE_UPPER_OPEN = 0.0072     # metres the upper lid's slit copies rise at the middle of the eye
EYE_LOWER_OPEN = 0.0026     # metres the lower lid drops
UPPER_LID_REACH = 0.019     # metres above the slit over which the opening fades out
LOWER_LID_REACH = 0.012
CAVITY_SCALE_X = np.array([0.97, 0.92, 0.82, 0.62, 0.35])
CAVITY_HEIGHT = np.array([0.0035, 0.011, 0.016, 0.015, 0.009])
CAVITY_DEPTH = np.array([0.005, 0.013, 0.025, 0.037, 0.045])
CAVITY_BACK_DEPTH = 0.049
OPEN = ((1.0, 1.0), (1.0, 1.0))   # (upper, lower) opening of the left and right eye


def positions(layout: Layout, openings=OPEN, scales=None) -> np.ndarray:
    """All vertex positions [V, 3]: skin, cavity and eyeballs.

    openings ((up, low) left, (up, low) right): 1 is the rest opening, 0 a
    closed lid; scales: feature name -> factor (see `features.FEATURES`).
    """
    skin = skin_positions(layout, openings, scales or {})
    out = np.zeros((layout.num_vertices, 3))
    out[: layout.num_skin] = skin
    out[layout.cavity] = cavity_positions(layout, skin)
    for eyeball, centre in zip(layout.eyeballs, features.eye_centers()):
        out[eyeball] = centre + features.EYE_RADIUS * unit_eyeball()
    return out


def skin_positions(layout: Layout, openings, scales: dict) -> np.ndarray:
    """Skin vertex positions [G, 3]."""
    pole = layout.grid_col < 0
    theta = np.where(pole, 0.0, layout.theta[layout.grid_col])
    u = np.where(pole, profile.pole_param(), layout.rows[np.minimum(layout.grid_row, layout.rows.size - 1)])
    u = _open_eyes(layout, u, openings)
    base = profile.loft(theta, u)
    offset = np.where(pole, 0.0, features.offsets(base, theta, scales))
    on_slit = np.zeros(u.size, dtype=bool)
    for slit in layout.eyes:
        on_slit[np.concatenate([slit.loop()])] = True
    skin = features.hug_eyes(base + profile.outward(theta) * offset[:, None], on_slit)
    return _round_crown(layout, skin, pole)


def _round_crown(layout: Layout, skin: np.ndarray, pole: np.ndarray) -> np.ndarray:
    """Put the crown pole on the dome of its last two rings (y = a - b r^2), so it makes no nub."""
    last = layout.grid_row.max(where=~pole, initial=0)
    rings = [skin[(layout.grid_row == row) & ~pole] for row in (last, last - 1)]
    centre = rings[0].mean(axis=0)
    r2 = [np.mean(np.sum((ring[:, [0, 2]] - centre[[0, 2]]) ** 2, axis=1)) for ring in rings]
    heights = [ring[:, 1].mean() for ring in rings]
    curvature = (heights[0] - heights[1]) / max(r2[1] - r2[0], 1e-12)
    skin = skin.copy()
    skin[pole] = [centre[0], heights[0] + curvature * r2[0], centre[2]]
    return skin


def _smooth_fade(s: np.ndarray) -> np.ndarray:
    """1 at s = 0 falling smoothly (zero slope at both ends) to 0 at s >= 1."""
    s = np.clip(s, 0.0, 1.0)
    return (1.0 - s) ** 2 * (1.0 + 2.0 * s)


def lid_profile(across: np.ndarray, power: float) -> np.ndarray:
    """Opening along the eye [N] for across [N] in [0, 1] (inner to outer corner), 0 at the corners."""
    inside = (across > 0) & (across < 1)
    a = np.clip(across, 0.0, 1.0)
    return np.where(inside, np.sin(np.pi * a ** power) ** 0.7, 0.0)


def eye_across(layout: Layout, eye: int) -> np.ndarray:
    """Position across eye `eye` (0 left, 1 right) [G]: 0 at the inner corner, 1 at the outer."""
    slit = layout.eyes[eye]
    theta = layout.theta
    xs = np.abs(profile.loft(theta, np.full_like(theta, profile.EYE_KEY))[:, 0])
    inner, outer = (slit.corners[0], slit.corners[1]) if eye == 0 else (slit.corners[1], slit.corners[0])
    C = theta.size
    x_in, x_out = xs[inner % C], xs[outer % C]
    side = np.sign(np.sin(theta)) == (1 if eye == 0 else -1)
    across = np.where(side & (np.cos(theta) > 0), (xs - x_in) / (x_out - x_in), -1.0)
    return np.where(layout.grid_col < 0, -1.0, across[layout.grid_col])


def _open_eyes(layout: Layout, u: np.ndarray, openings) -> np.ndarray:
    """Row parameters [G] with the skin around each eye slit pushed open (up above, down below)."""
    y0 = profile.front_height(u)
    shift = np.zeros_like(u)
    for eye, (up, low) in enumerate(openings):
        slit = layout.eyes[eye]
        across = eye_across(layout, eye)
        above = (layout.grid_row > slit.row) | np.isin(np.arange(u.size), slit.upper)
        dy = np.abs(y0 - y0[slit.lower[0]])
        rise = up * EYE_UPPER_OPEN * lid_profile(across, 0.85) * _smooth_fade(dy / UPPER_LID_REACH)
        drop = low * EYE_LOWER_OPEN * lid_profile(across, 1.2) * _smooth_fade(dy / LOWER_LID_REACH)
        shift += np.where(above, rise, -drop)
    moved = shift != 0
    u = u.copy()
    u[moved] = profile.param_at_front_height(y0[moved] + shift[moved])
    return u


def cavity_positions(layout: Layout, skin: np.ndarray) -> np.ndarray:
    """Cavity vertex positions [Vc, 3]: rings that open into a pocket behind the lips."""
    loop = layout.mouth.loop()
    lip = skin[loop]
    n = loop.size
    side = np.zeros(n)
    side[1: n // 2] = 1.0
    side[n // 2 + 1:] = -1.0
    half_width = np.max(np.abs(lip[:, 0]))
    arch = np.sqrt(np.clip(1.0 - (lip[:, 0] / half_width) ** 2, 0.0, 1.0))
    rings = []
    for sx, h, d in zip(CAVITY_SCALE_X, CAVITY_HEIGHT, CAVITY_DEPTH):
        ring = np.stack([lip[:, 0] * sx, features.MOUTH_Y + side * h * arch ** 0.5, lip[:, 2] - d], axis=1)
        rings.append(ring)
    back = np.array([[0.0, features.MOUTH_Y, lip[:, 2].max() - CAVITY_BACK_DEPTH]])
    return np.concatenate(rings + [back])


def unit_eyeball() -> np.ndarray:
    """Eyeball vertices on the unit sphere [Ve, 3], gaze along +Z (front pole first, back pole last)."""
    lon = 2.0 * np.pi * np.arange(EYEBALL_LONGITUDES) / EYEBALL_LONGITUDES
    polar = EYEBALL_POLAR[1:-1]
    s = np.sin(polar)[:, None]
    ring = np.stack([s * np.cos(lon), s * np.sin(lon), np.cos(polar)[:, None] + 0 * lon], axis=2)
    return np.concatenate([[[0.0, 0.0, 1.0]], ring.reshape(-1, 3), [[0.0, 0.0, -1.0]]])
