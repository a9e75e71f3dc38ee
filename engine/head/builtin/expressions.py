"""The built-in head's named expression basis (ARKit names; "Left" is the subject's left, +x).

Every component is a rest-frame displacement [V, 3] added before skinning
(FLAME semantics), at full strength for the value 1. Lid components are
exact: they are the template rebuilt with the lids moved (`surface`), so a
blink puts the upper lid's boundary on the lower lid's. Mouth components
are independent of the jaw (a joint); `mouthClose` is meant for an opened
jaw (~0.25 rad) and brings the lips together from there.
"""

from __future__ import annotations

import numpy as np

from . import surface
from .features import MOUTH_Y
from .fields import FieldContext
from .layout import MOUTH_HALF_WIDTH
from .rig import JAW

W, M = MOUTH_HALF_WIDTH, MOUTH_Y
BROW_Y = 0.046
# (upper, lower) lid opening of the moving eye for each lid component; 1 is the rest opening
LIDS = {"eyeBlink": (0.0, 0.0), "eyeSquint": (0.62, -0.4), "eyeWide": (1.38, 1.12)}
# components whose cavity displacement is already right (not made to follow the lips)
EXACT = {"jawForward"} | {stem + side for stem in LIDS for side in ("Left", "Right")}


def _lids(ctx: FieldContext, up: float, low: float) -> np.ndarray:
    """The left-eye lid field [V, 3] for an (upper, lower) opening."""
    moved = surface.positions(ctx.layout, ((up, low), (1.0, 1.0)))
    return moved - ctx.rest


def _left_fields(ctx: FieldContext) -> dict:
    """The left-side member of every Left/Right pair, keyed by the name without "Left"."""
    b, mv = ctx.bump, ctx.move
    corner = (W, M)
    up, low = ctx.side(1), ctx.side(-1)
    vermilion = np.clip(np.abs(ctx.rest[:, 1] - M) / 0.007, 0.0, 1.0)
    fields = {name: _lids(ctx, *opening) for name, opening in LIDS.items()}
    fields.update({
        "mouthSmile": mv(b(corner, (0.03, 0.03)), (0.006, 0.008, -0.003))
        + mv(b((0.037, -0.028), (0.024, 0.022)), (0.001, 0.003, 0.003)),
        "mouthFrown": mv(b(corner, (0.024, 0.028)), (0.001, -0.007, -0.001)),
        "mouthDimple": mv(b(corner, (0.02, 0.022)), (0.003, 0.001, -0.005)),
        "mouthStretch": mv(b(corner, (0.03, 0.03)), (0.007, -0.004, -0.002))
        + mv(b((0.012, M - 0.006), (0.02, 0.012)) * low, (0.0, -0.002, 0.0)),
        "mouthPress": mv(b((0.012, M), (0.028, 0.02)) * vermilion * (low - up), (0.0, 0.0035, 0.0))
        + mv(b((0.012, M), (0.028, 0.02)), (0.0, 0.0, -0.0025)),
        "mouthLowerDown": mv(b((0.011, M - 0.004), (0.022, 0.02)) * low, (0.0, -0.007, 0.001)),
        "mouthUpperUp": mv(b((0.011, M + 0.004), (0.022, 0.02)) * up, (0.0, 0.006, 0.001)),
        "cheekSquint": mv(b((0.036, -0.001), (0.024, 0.018)), (0.0, 0.004, 0.002)),
        "noseSneer": mv(b((0.012, -0.014), (0.016, 0.022)), (0.001, 0.004, 0.0))
        + mv(b((0.012, 0.036), (0.014, 0.01)), (0.0, -0.002, 0.0)),
        "browDown": mv(b((0.022, BROW_Y - 0.002), (0.03, 0.02)), (-0.002, -0.005, 0.0)),
        "browOuterUp": mv(b((0.046, BROW_Y), (0.028, 0.024)), (0.0, 0.006, 0.0)),
    })
    fields["mouthLeft"] = mv(b((0.0, M), (0.048, 0.032)), (0.008, 0.0, -0.001))
    return fields


def _central_fields(ctx: FieldContext, jaw_weight: np.ndarray) -> dict:
    """Components without a side."""
    b, mv = ctx.bump, ctx.move
    x = ctx.rest[:, 0]
    up, low = ctx.side(1), ctx.side(-1)
    lips = b((0.0, M), (0.042, 0.03))
    opening = b((0.0, M), (0.024, 0.014)) * (up - low)
    outward = np.stack([np.sign(x), np.zeros_like(x), np.ones_like(x)], axis=1)
    puff = b((0.042, M + 0.012), (0.03, 0.03)) + b((-0.042, M + 0.012), (0.03, 0.03))
    return {
        "jawForward": mv(jaw_weight, (0.0, 0.0, 0.008)),
        "mouthClose": mv(b((0.0, M), (0.06, 0.035)) * up, (0.0, -0.008, 0.0))
        + mv(b((0.0, M), (0.06, 0.035)) * low, (0.0, 0.019, 0.011)),
        "mouthFunnel": mv(lips, (0.0, 0.0, 0.008)) + mv(lips * -0.3 * x, (1.0, 0.0, 0.0))
        + mv(opening, (0.0, 0.0045, 0.0)),
        "mouthPucker": mv(lips, (0.0, 0.0, 0.01)) + mv(lips * -0.45 * x, (1.0, 0.0, 0.0)),
        "mouthRollLower": mv(b((0.0, M - 0.004), (0.032, 0.013)) * low, (0.0, 0.002, -0.006)),
        "mouthRollUpper": mv(b((0.0, M + 0.004), (0.032, 0.013)) * up, (0.0, -0.002, -0.005)),
        "mouthShrugLower": mv(b((0.0, M - 0.015), (0.036, 0.03)) * low, (0.0, 0.004, 0.003)),
        "mouthShrugUpper": mv(b((0.0, M + 0.008), (0.03, 0.02)) * up, (0.0, 0.003, 0.002)),
        "browInnerUp": mv(b((0.0, BROW_Y), (0.036, 0.026)), (0.0, 0.006, 0.0)),
        "cheekPuff": mv(puff, 0.007 * outward / np.sqrt(2.0)),
    }


def expression_basis(ctx: FieldContext, weights: np.ndarray):
    """The expression basis: exprdirs [V, 3, E] and its names [E] (ARKit order of the issue)."""
    left = _left_fields(ctx)
    fields = _central_fields(ctx, weights[:, JAW])
    for stem, field in left.items():
        if stem == "mouthLeft":
            fields["mouthLeft"], fields["mouthRight"] = field, ctx.mirrored(field)
            continue
        fields[stem + "Left"], fields[stem + "Right"] = field, ctx.mirrored(field)
    names = [n for n in EXPRESSION_NAMES if n in fields]
    dirs = np.stack([fields[n] if n in EXACT else ctx.finish(fields[n]) for n in names], axis=2)
    return dirs, names


EXPRESSION_NAMES = (
    "eyeBlinkLeft", "eyeBlinkRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight",
    "jawForward", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp",
    "browOuterUpLeft", "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight",
)
