"""The built-in head's identity (shape) basis: named, one unit = a clearly different but plausible person.

Geometric components are displacement functions of the rest position; the
eyeballs move rigidly with the displacement of their centres, so the eye
joints (regressed from the eyeballs) stay at the eyeball centres. Feature
components rebuild the template with one facial feature scaled.
"""

from __future__ import annotations

import numpy as np

from . import surface
from .features import EYE_CENTER, MOUTH_Y
from .fields import FieldContext

HEAD_CENTRE_Z = -0.015


def _smoothstep(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _zeros_but(p, axis, values):
    out = np.zeros_like(p)
    out[:, axis] = values
    return out


def head_width(p):
    """Wider head [N, 3] for points [N, 3]."""
    return _zeros_but(p, 0, 0.06 * p[:, 0])


def head_depth(p):
    """Deeper head front to back."""
    return _zeros_but(p, 2, 0.05 * (p[:, 2] - HEAD_CENTRE_Z) * _smoothstep((p[:, 1] + 0.14) / 0.04))


def face_length(p):
    """Longer face: everything below the eyes moves down."""
    return _zeros_but(p, 1, -0.07 * np.clip(0.02 - p[:, 1], 0.0, 0.14))


def cranium_height(p):
    """Taller skull above the brows."""
    return _zeros_but(p, 1, 0.08 * np.maximum(p[:, 1] - 0.03, 0.0))


def jaw_width(p):
    """Wider lower face."""
    return _zeros_but(p, 0, 0.12 * p[:, 0] * _smoothstep((-0.03 - p[:, 1]) / 0.04))


def chin_length(p):
    """Longer chin: the chin and the neck below it move down."""
    return _zeros_but(p, 1, -0.008 * _smoothstep((MOUTH_Y - 0.008 - p[:, 1]) / 0.02))


def eye_spacing(p):
    """Eyes (and the lids around them) further apart."""
    r = np.hypot(np.abs(p[:, 0]) - EYE_CENTER[0], p[:, 1] - EYE_CENTER[1])
    flat = 1.0 - _smoothstep((r - 0.017) / 0.018)
    return _zeros_but(p, 0, 0.003 * np.sign(p[:, 0]) * flat * (p[:, 2] > 0.02))


def brow_height(p):
    """Brows higher above the eyes."""
    r = np.hypot((np.abs(p[:, 0]) - 0.03) / 0.04, (p[:, 1] - 0.046) / 0.02)
    return _zeros_but(p, 1, 0.004 * np.clip(1.0 - r * r, 0.0, 1.0) ** 3 * (p[:, 2] > 0.03))


GEOMETRIC = {"headWidth": head_width, "headDepth": head_depth, "faceLength": face_length,
             "craniumHeight": cranium_height, "jawWidth": jaw_width, "chinLength": chin_length,
             "eyeSpacing": eye_spacing, "browHeight": brow_height}
FEATURE_SCALES = {"noseSize": {"nose": 1.35}, "lipFullness": {"lips": 1.5},
                  "cheekFullness": {"cheek": 1.8}, "browRidge": {"brow": 2.0}}
SHAPE_NAMES = ("headWidth", "headDepth", "faceLength", "craniumHeight", "jawWidth", "chinLength",
               "eyeSpacing", "browHeight", "noseSize", "lipFullness", "cheekFullness", "browRidge")


def _geometric(ctx: FieldContext, fn) -> np.ndarray:
    field = fn(ctx.rest)
    for eyeball in ctx.layout.eyeballs:
        centre = ctx.rest[[eyeball[0], eyeball[-1]]].mean(axis=0, keepdims=True)
        field[eyeball] = fn(centre)[0]
    return field


def shape_basis(ctx: FieldContext):
    """The shape basis: shapedirs [V, 3, S] and its names [S]."""
    fields = {name: _geometric(ctx, fn) for name, fn in GEOMETRIC.items()}
    for name, scales in FEATURE_SCALES.items():
        fields[name] = surface.positions(ctx.layout, scales=scales) - ctx.rest
    return np.stack([fields[n] for n in SHAPE_NAMES], axis=2), list(SHAPE_NAMES)
