"""Displacement fields on the built-in head: the toolkit the expression and shape bases are written with.

A field is a displacement per vertex [V, 3] in the rest frame. Fields are
built from compact bumps on the face (functions of the rest x, y, zero on
the back of the head and on the eyeballs), restricted to the upper or lower
lip side where needed; the mouth cavity then follows the lips it hangs
from, fading with depth. A right-side component is the mirror image of its
left-side twin, so the pair is exactly symmetric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import CAVITY_RINGS, Layout

CAVITY_FOLLOW = np.array([0.0, 0.85, 0.55, 0.3, 0.12, 0.0, 0.0])  # per ring (0 = the lips themselves)


@dataclass
class FieldContext:
    """What fields need to know about the head.

    rest [V, 3] template; lip_side [V] +1 above the mouth slit (upper lip,
    upper half of the cavity), -1 below, 0 on the slit's line outside the
    mouth; face [V] 0..1 how much a skin vertex faces forward (0 on the
    eyeballs, the cavity and the back of the head).
    """

    layout: Layout
    rest: np.ndarray
    lip_side: np.ndarray
    face: np.ndarray

    def bump(self, centre, radii) -> np.ndarray:
        """A smooth compact bump [V] on the face: (1 - d^2)^3 inside the ellipse centre [2] +- radii [2]."""
        d2 = ((self.rest[:, 0] - centre[0]) / radii[0]) ** 2 + ((self.rest[:, 1] - centre[1]) / radii[1]) ** 2
        return np.clip(1.0 - d2, 0.0, 1.0) ** 3 * self.face

    def side(self, which: int) -> np.ndarray:
        """1 on the upper (which=+1) or lower (-1) lip side, 0.5 on the slit line outside the mouth [V]."""
        return np.where(self.lip_side == which, 1.0, np.where(self.lip_side == 0, 0.5, 0.0))

    def move(self, weight: np.ndarray, delta) -> np.ndarray:
        """The field [V, 3] that moves each vertex by weight [V] times delta [3] (or [V, 3])."""
        return weight[:, None] * np.asarray(delta, dtype=np.float64)

    def finish(self, field: np.ndarray) -> np.ndarray:
        """Let the mouth cavity follow the lips: each cavity vertex takes its loop vertex's displacement, faded."""
        out = field.copy()
        lay = self.layout
        loop = lay.mouth.loop()
        fade = CAVITY_FOLLOW[np.minimum(lay.cavity_ring, CAVITY_RINGS + 1)]
        out[lay.cavity] = field[loop[lay.cavity_loop]] * fade[:, None]
        return out

    def mirrored(self, field: np.ndarray) -> np.ndarray:
        """The mirror image [V, 3] of a field in X."""
        return field[self.layout.mirror] * np.array([-1.0, 1.0, 1.0])


def make_context(layout: Layout, rest: np.ndarray) -> FieldContext:
    """The field context of a layout and its rest positions [V, 3]."""
    return FieldContext(layout, rest, lip_sides(layout), facing(layout))


def lip_sides(layout: Layout) -> np.ndarray:
    """+1 / -1 / 0 per vertex [V]: above / below / on the mouth slit's row (see FieldContext)."""
    side = np.zeros(layout.num_vertices)
    row = layout.mouth.row
    G = layout.num_skin
    side[:G] = np.sign(layout.grid_row - row)
    side[layout.mouth.upper] = 1.0
    side[layout.mouth.lower] = -1.0
    loop = layout.mouth.loop()
    n = loop.size
    loop_side = np.concatenate([[0.0], np.ones(n // 2 - 1), [0.0], -np.ones(n // 2 - 1)])
    side[layout.cavity] = np.where(layout.cavity_ring <= CAVITY_RINGS, loop_side[layout.cavity_loop], 0.0)
    return side


def facing(layout: Layout) -> np.ndarray:
    """How much each skin vertex faces forward [V]: 1 over the face, 0 behind the ears."""
    face = np.zeros(layout.num_vertices)
    G = layout.num_skin
    col = np.maximum(layout.grid_col, 0)
    face[:G] = np.clip(np.cos(layout.theta[col]) / 0.3, 0.0, 1.0)
    face[:G][layout.grid_col < 0] = 0.0
    return face
