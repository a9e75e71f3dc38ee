"""Small Blender-free fixtures shared by the add-on tests."""

from __future__ import annotations

import numpy as np


def tiny_head():
    """A 5-joint FLAME-structured head of 8 vertices: 2 expressions, a jaw corrective, known weights."""
    from engine.head.model import HeadModel

    v = np.array([[0, 0.10, 0.05], [0.02, 0.10, 0.05], [0, 0.12, 0.05],        # head: 0-2
                  [0, 0.0, 0.06], [0.02, 0.0, 0.06], [0, -0.02, 0.05],         # jaw: 3-5
                  [0.03, 0.05, 0.06], [0.035, 0.05, 0.06]], dtype=np.float32)  # left eye: 6-7
    faces = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 2]], dtype=np.int32)
    weights = np.zeros((8, 5), np.float32)
    weights[0:3, 1] = 1.0
    weights[3:6, 2] = 1.0
    weights[6:8, 3] = 1.0
    weights[2] = [0.0, 0.5, 0.5, 0.0, 0.0]
    exprdirs = np.zeros((8, 3, 2), np.float32)
    # Expressions leave the regressor's vertices (0, 2, 3, 4, 6, 7) alone: Blender bones are fixed
    # at rest, so Blender matches FLAME only when expressions do not move the joints.
    exprdirs[5, 1, 0] = 0.01        # "mouthClose": the chin vertex up 1 cm
    exprdirs[1, 2, 1] = -0.005      # "browDownLeft"
    posedirs = np.zeros((8, 3, 36), np.float32)
    posedirs[3:6, 2, 9 + 7] = 0.01  # jaw corrective on (R - I)[2, 1]
    regressor = np.zeros((5, 8), np.float32)
    regressor[0, [0, 2]] = 0.5
    regressor[1, [0, 2]] = 0.5
    regressor[2, [3, 4]] = 0.5
    regressor[3, [6, 7]] = 0.5
    regressor[4, [6, 7]] = 0.5
    return HeadModel(name="tiny", v_template=v, faces=faces, shapedirs=np.zeros((8, 3, 1), np.float32),
                     shape_names=["width"], exprdirs=exprdirs, expression_names=["mouthClose", "browDownLeft"],
                     posedirs=posedirs, j_regressor=regressor, weights=weights)
