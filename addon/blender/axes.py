"""The one place FLAME's Y-up frame meets Blender's Z-up frame.

FLAME: Y up, +Z out of the face, metres. Blender: Z up, the face looks down
-Y (towards the Front view). A point p_flame maps to C @ p_flame.
"""

from __future__ import annotations

import numpy as np

# Columns: where FLAME's x, y, z axes go in Blender.
FLAME_TO_BLENDER = np.array([[1.0, 0.0, 0.0],
                             [0.0, 0.0, -1.0],
                             [0.0, 1.0, 0.0]])


def to_blender(points: np.ndarray) -> np.ndarray:
    """FLAME points [..., 3] -> Blender points [..., 3]."""
    return np.asarray(points) @ FLAME_TO_BLENDER.T


def to_flame(points: np.ndarray) -> np.ndarray:
    """Blender points [..., 3] -> FLAME points [..., 3]."""
    return np.asarray(points) @ FLAME_TO_BLENDER
