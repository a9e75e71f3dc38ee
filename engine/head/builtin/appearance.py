"""Vertex colours and named vertex regions of the built-in head."""

from __future__ import annotations

import numpy as np

from . import features
from .fields import FieldContext
from .layout import EYEBALL_LONGITUDES, EYEBALL_POLAR

SKIN = np.array([0.86, 0.67, 0.56])
LIPS = np.array([0.74, 0.40, 0.39])
BROWS = np.array([0.33, 0.22, 0.15])
CAVITY = np.array([0.36, 0.07, 0.08])
CAVITY_DEEP = np.array([0.14, 0.02, 0.03])
TEETH = np.array([0.93, 0.91, 0.85])
SCLERA = np.array([0.96, 0.95, 0.93])
IRIS = np.array([0.30, 0.44, 0.58])
LIMBUS = np.array([0.16, 0.22, 0.30])
PUPIL = np.array([0.03, 0.03, 0.04])
LASHES = np.array([0.22, 0.15, 0.12])
BROW_INNER_X, BROW_OUTER_X = 0.012, 0.056
LIP_THRESHOLD = 0.0025       # metres of lip bulge where the red starts


def brow_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """How much of an eyebrow covers the points [N] (0..1): an arch over each eye, thinning outwards."""
    a = (np.abs(x) - BROW_INNER_X) / (BROW_OUTER_X - BROW_INNER_X)
    centre = 0.041 + 0.006 * np.sin(np.pi * np.clip(a, 0, 1) ** 0.8)
    half = 0.0036 * (1.0 - 0.55 * np.clip(a, 0, 1))
    inside = np.clip((half - np.abs(y - centre)) / 0.0015, 0.0, 1.0)
    ends = np.clip(a / 0.08, 0, 1) * np.clip((1.0 - a) / 0.15, 0, 1)
    return inside * ends


def lip_mask(ctx: FieldContext) -> np.ndarray:
    """Lip red [V] (0..1) on the skin."""
    x, y, _ = ctx.rest.T
    bulge = features.vermilion(x, y)
    red = np.clip((bulge - LIP_THRESHOLD) / 0.0012, 0.0, 1.0)
    return red * (np.abs(y - features.MOUTH_Y) < 0.014) * ctx.face


def vertex_colors(ctx: FieldContext) -> np.ndarray:
    """Colours [V, 3] in [0, 1]: skin, lips, brows, mouth cavity, eyeballs."""
    x, y, _ = ctx.rest.T
    colors = np.tile(SKIN, (ctx.rest.shape[0], 1))
    lips = lip_mask(ctx)[:, None]
    colors = colors * (1 - lips) + LIPS * lips
    brows = (brow_mask(x, y) * (ctx.face > 0))[:, None]
    colors = colors * (1 - brows) + BROWS * brows
    lay = ctx.layout
    depth = np.clip((lay.cavity_ring - 1) / 3.0, 0.0, 1.0)[:, None]
    colors[lay.cavity] = CAVITY * (1 - depth) + CAVITY_DEEP * depth
    colors[lay.cavity[lay.cavity_ring == 1]] = TEETH
    for slit in lay.eyes:
        colors[slit.upper] = LASHES
        colors[list(slit.corners)] = 0.5 * (LASHES + SKIN)
    for eyeball in lay.eyeballs:
        colors[eyeball] = eyeball_colors()
    return colors


def eyeball_colors() -> np.ndarray:
    """Colours [Ve, 3] of one eyeball's vertices by their angle from the gaze axis."""
    polar = np.concatenate([[0.0], np.repeat(EYEBALL_POLAR[1:-1], EYEBALL_LONGITUDES), [np.pi]])
    table = np.array([PUPIL, PUPIL, IRIS, IRIS, LIMBUS, SCLERA])
    angles = EYEBALL_POLAR[:6]
    return np.stack([np.interp(polar, angles, table[:, c], right=SCLERA[c]) for c in range(3)], axis=1)


def regions(ctx: FieldContext) -> dict:
    """Named vertex-index arrays: lips, mouth, cavity, brows, eyes, eyeball_left/right, face."""
    lay = ctx.layout
    x, y, _ = ctx.rest.T
    skin = np.arange(ctx.rest.shape[0]) < lay.num_skin
    front = skin & (ctx.face > 0.5)
    lips = np.nonzero(front & (lip_mask(ctx) > 0) | np.isin(np.arange(x.size), lay.mouth.loop()))[0]
    around_mouth = front & (ctx.bump((0.0, features.MOUTH_Y), (0.045, 0.032)) > 0)
    eye_r = np.hypot(np.abs(x) - features.EYE_CENTER[0], y - features.EYE_CENTER[1])
    return {
        "lips": lips,
        "mouth": np.union1d(np.union1d(lips, lay.cavity), np.nonzero(around_mouth)[0]),
        "cavity": lay.cavity.copy(),
        "brows": np.nonzero(front & (brow_mask(x, y) > 0))[0],
        "eyes": np.nonzero(front & (eye_r < 0.021))[0],
        "eyeball_left": lay.eyeballs[0].copy(),
        "eyeball_right": lay.eyeballs[1].copy(),
        "face": np.nonzero(front & (y > -0.11) & (y < 0.09) & (np.abs(x) < 0.068))[0],
    }
