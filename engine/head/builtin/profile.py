"""The built-in head's base shape: a loft of superellipse cross-sections.

Each row of the loft is one cross-section, given by a key table
interpolated along a continuous row parameter u (key index + fraction):
the front profile point (y_f, z_f), the back profile point (y_b, z_b), the
half-width w, the depth z_w of the widest point, and the superellipse
exponents of the front and back halves. A point of the section at angle
theta (0 faces +Z, positive towards +X) is
    x = w * sign(s) |s|^(2/n),  z = z_w + (z_f - z_w) |c|^(2/n) (front half),
    y = y_b + (y_f - y_b) (1 + c) / 2,
with c = cos(theta), s = sin(theta). Facial features are added on top in
`features`.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

# y_f, z_f, y_b, z_b, w, z_w, n_front, n_back, rows to the next key
KEYS = np.array([
    [-0.175, 0.040, -0.165, -0.066, 0.052, -0.014, 2.0, 2.0, 3],   # neck, open boundary
    [-0.135, 0.043, -0.128, -0.070, 0.053, -0.014, 2.0, 2.0, 3],
    [-0.112, 0.048, -0.100, -0.076, 0.055, -0.014, 2.0, 2.0, 2],   # throat
    [-0.108, 0.066, -0.088, -0.082, 0.054, -0.016, 1.7, 2.0, 2],   # under the chin
    [-0.100, 0.082, -0.075, -0.087, 0.053, -0.018, 1.6, 2.1, 2],   # chin bottom
    [-0.088, 0.089, -0.062, -0.092, 0.056, -0.016, 1.7, 2.1, 3],   # chin
    [-0.074, 0.090, -0.050, -0.096, 0.060, -0.014, 1.9, 2.1, 4],   # below the lower lip
    [-0.058, 0.092, -0.036, -0.101, 0.064, -0.013, 2.1, 2.1, 5],   # mouth slit
    [-0.036, 0.093, -0.018, -0.105, 0.067, -0.013, 2.3, 2.2, 4],   # below the nose
    [-0.018, 0.094, -0.003, -0.107, 0.070, -0.014, 2.5, 2.2, 8],   # nose tip
    [0.019, 0.095, 0.028, -0.109, 0.0745, -0.015, 2.6, 2.3, 6],    # eye slit
    [0.046, 0.094, 0.052, -0.106, 0.0765, -0.016, 2.5, 2.3, 3],    # brows
    [0.072, 0.088, 0.075, -0.098, 0.0765, -0.016, 2.3, 2.3, 3],    # forehead
    [0.095, 0.074, 0.096, -0.085, 0.070, -0.015, 2.2, 2.2, 2],
    [0.115, 0.048, 0.114, -0.062, 0.055, -0.012, 2.1, 2.1, 2],
    [0.128, 0.020, 0.127, -0.034, 0.033, -0.008, 2.0, 2.0, 1],
    [0.134, -0.007, 0.134, -0.007, 0.000, -0.007, 2.0, 2.0, 0],   # crown pole
])
MOUTH_KEY = 7
EYE_KEY = 10
_SECTION = PchipInterpolator(np.arange(len(KEYS)), KEYS[:, :8], axis=0)


def row_params() -> np.ndarray:
    """Row parameters u [R] of the skin grid, bottom (neck) to just below the crown pole."""
    rows = [i + j / n for i, n in enumerate(KEYS[:-1, 8].astype(int)) for j in range(n)]
    return np.array(rows)


def pole_param() -> float:
    """The row parameter of the crown pole."""
    return float(len(KEYS) - 1)


def loft(theta: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Base surface points [N, 3] at angles theta [N] and row parameters u [N]."""
    yf, zf, yb, zb, w, zw, nf, nb = _SECTION(u).T
    c, s = np.cos(theta), np.sin(theta)
    front = c >= 0
    n = np.where(front, nf, nb)
    x = w * np.sign(s) * np.abs(s) ** (2.0 / n)
    depth = np.where(front, zf - zw, zb - zw)
    z = zw + depth * np.abs(c) ** (2.0 / n)
    y = yb + (yf - yb) * (1.0 + c) / 2.0
    return np.stack([x, y, z], axis=1)


def outward(theta: np.ndarray) -> np.ndarray:
    """Horizontal outward directions [N, 3] of the cross-sections at angles theta [N]."""
    return np.stack([np.sin(theta), np.zeros_like(theta), np.cos(theta)], axis=1)


def front_height(u: np.ndarray) -> np.ndarray:
    """y of the front profile [N] at row parameters u [N]."""
    return _SECTION(u)[..., 0]


def param_at_front_height(y: np.ndarray) -> np.ndarray:
    """Inverse of `front_height` on the face (between the chin and the forehead)."""
    u = np.linspace(4.0, 13.0, 2000)
    return np.interp(y, front_height(u), u)
