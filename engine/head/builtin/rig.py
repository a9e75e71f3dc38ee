"""The built-in head's rig: skinning weights, joint regressor, pose correctives, joint limits.

Joints in FLAME order (global, neck, jaw, eye_left, eye_right). The jaw
takes the lower lip, the chin and the lower half of the mouth cavity,
fading across the cheeks towards the hinges and down the throat; the
eyeballs are bound rigidly to their eye joints; the neck base blends from
the neck joint to the global joint.
"""

from __future__ import annotations

import numpy as np

from ..model import JOINT_NAMES, NUM_JOINTS, POSE_FEATURES
from .features import MOUTH_Y
from .fields import FieldContext
from .layout import MOUTH_HALF_WIDTH

GLOBAL, NECK, JAW, EYE_LEFT, EYE_RIGHT = range(NUM_JOINTS)
NECK_BLEND_Y = (-0.165, -0.125)      # global below the first height, neck above the second
THROAT_BLEND_Y = (-0.128, -0.104)    # jaw influence fades down the throat between these heights
JAW_BACK_Z = (-0.02, 0.045)          # and towards the hinges between these depths
JAW_CHEEK_SPREAD = 0.9               # height of the jaw/head blend per metre beyond the mouth corner
HINGE = np.array([0.068, -0.006, -0.004])  # surface point near the left jaw hinge
HINGE_VERTICES = 3                   # vertices per side averaged into the jaw joint
JAW_SLIDE = 0.012                    # metres the chin slides forward per unit sin(jaw angle)
JAW_SLIDE_FEATURE = 9 + 3 * 2 + 1    # the jaw block's (R - I)[2, 1] entry in FLAME's pose features
LIMITS = {
    "global": ((-0.7, -1.3, -0.7), (0.7, 1.3, 0.7)),
    "neck": ((-0.8, -0.8, -0.6), (0.8, 0.8, 0.6)),
    "jaw": ((0.0, -0.1, -0.1), (0.5, 0.1, 0.1)),
    "eye_left": ((-0.5, -0.5, -0.05), (0.5, 0.5, 0.05)),
    "eye_right": ((-0.5, -0.5, -0.05), (0.5, 0.5, 0.05)),
}


def _smoothstep(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def jaw_weight(ctx: FieldContext) -> np.ndarray:
    """How much each vertex follows the jaw [V], before the neck base takes its share."""
    x, y, z = ctx.rest.T
    beyond = np.maximum(np.abs(x) - MOUTH_HALF_WIDTH, 0.0)
    height = np.maximum(0.004, JAW_CHEEK_SPREAD * beyond)
    below = _smoothstep((MOUTH_Y - y + 0.5 * height) / height)
    below = np.where(ctx.lip_side > 0, np.where(beyond > 0, below, 0.0), below)
    below = np.where((ctx.lip_side < 0) & (beyond == 0), 1.0, below)
    back = _smoothstep((z - JAW_BACK_Z[0]) / (JAW_BACK_Z[1] - JAW_BACK_Z[0]))
    throat = _smoothstep((y - THROAT_BLEND_Y[0]) / (THROAT_BLEND_Y[1] - THROAT_BLEND_Y[0]))
    weight = below * back * throat
    lay = ctx.layout
    cavity_side = ctx.lip_side[lay.cavity]
    weight[lay.cavity] = np.where(cavity_side < 0, 1.0, np.where(cavity_side > 0, 0.0, 0.5))
    for eyeball in lay.eyeballs:
        weight[eyeball] = 0.0
    return weight


def skinning_weights(ctx: FieldContext) -> np.ndarray:
    """Skinning weights [V, 5], rows summing to 1."""
    V = ctx.rest.shape[0]
    weights = np.zeros((V, NUM_JOINTS))
    base = 1.0 - _smoothstep((ctx.rest[:, 1] - NECK_BLEND_Y[0]) / (NECK_BLEND_Y[1] - NECK_BLEND_Y[0]))
    jaw = jaw_weight(ctx) * (1.0 - base)
    weights[:, GLOBAL] = base
    weights[:, JAW] = jaw
    weights[:, NECK] = 1.0 - base - jaw
    for joint, eyeball in zip((EYE_LEFT, EYE_RIGHT), ctx.layout.eyeballs):
        weights[eyeball] = 0.0
        weights[eyeball, joint] = 1.0
    return weights


def joint_regressor(ctx: FieldContext, exprdirs: np.ndarray) -> np.ndarray:
    """Joint regressor [5, V]: each joint a convex combination of vertices.

    Eyes: the two poles of the eyeball (its exact centre). Jaw: symmetric
    pairs of skin vertices around the two hinges. Neck: half the jaw's
    vertices, half a ring of the neck at the throat. Global: a ring lower down.
    Only vertices that no expression (exprdirs [V, 3, E]) moves take part, so
    expressions never move the joints: Blender's bones sit at fixed rest
    positions, and this keeps the add-on's rig equal to the engine's skinning.
    """
    lay = ctx.layout
    still = np.abs(exprdirs).max(axis=(1, 2)) == 0.0
    regressor = np.zeros((NUM_JOINTS, ctx.rest.shape[0]))
    for joint, eyeball in zip((EYE_LEFT, EYE_RIGHT), lay.eyeballs):
        regressor[joint, [eyeball[0], eyeball[-1]]] = 0.5
    hinge = _still(_hinge_vertices(ctx), still)
    regressor[JAW, hinge] = 1.0 / hinge.size
    regressor[NECK, hinge] = 0.5 / hinge.size
    throat = _still(_ring(lay, np.argmin(np.abs(lay.rows - 2.0))), still)
    regressor[NECK, throat] += 0.5 / throat.size
    low = _still(_ring(lay, np.argmin(np.abs(lay.rows - 1.0))), still)
    regressor[GLOBAL, low] = 1.0 / low.size
    return regressor


def _still(vertices: np.ndarray, still: np.ndarray) -> np.ndarray:
    """The vertices [n] that no expression moves (the sets are mirror-symmetric, so this keeps symmetry)."""
    kept = vertices[still[vertices]]
    if kept.size == 0:
        raise AssertionError("every regressor vertex moves with some expression")  # a build bug, not user input
    return kept


def _hinge_vertices(ctx: FieldContext) -> np.ndarray:
    """HINGE_VERTICES skin vertices nearest the left hinge and their mirror images [2 * n]."""
    G = ctx.layout.num_skin
    distance = np.linalg.norm(ctx.rest[:G] - HINGE, axis=1)
    left = np.argsort(distance, kind="stable")[:HINGE_VERTICES]
    return np.concatenate([left, ctx.layout.mirror[left]])


def _ring(layout, row: int) -> np.ndarray:
    """The grid vertices of one skin row [C]."""
    C = layout.theta.size
    return row * C + np.arange(C)


def pose_correctives(weights: np.ndarray) -> np.ndarray:
    """Pose correctives [V, 3, 36]: the jaw slides forward as it opens (FLAME's feature layout)."""
    posedirs = np.zeros((weights.shape[0], 3, POSE_FEATURES))
    posedirs[:, 2, JAW_SLIDE_FEATURE] = JAW_SLIDE * weights[:, JAW]
    return posedirs


def joint_limits() -> dict:
    """Joint name -> (low [3], high [3]) axis-angle limits in radians."""
    return {name: (np.array(LIMITS[name][0]), np.array(LIMITS[name][1])) for name in JOINT_NAMES}
