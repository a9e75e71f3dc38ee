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


class _UnitPchip:
    """Monotone piecewise-cubic Hermite interpolation (PCHIP, Fritsch-Butland slopes as in scipy's
    PchipInterpolator) of rows values [N, C] at the knots 0, 1, ..., N - 1; outside them the end
    cubics go on. Our own few lines: importing scipy.interpolate cost 0.8 CPU s per head build."""

    def __init__(self, values: np.ndarray) -> None:
        self.y = np.asarray(values, np.float64)
        m = np.diff(self.y, axis=0)                                    # secant slopes [N - 1, C]
        d = np.zeros_like(self.y)
        same = (m[:-1] * m[1:]) > 0                                    # a monotone interior knot
        with np.errstate(divide="ignore", invalid="ignore"):
            d[1:-1] = np.where(same, 2.0 / np.where(same, 1.0 / m[:-1] + 1.0 / m[1:], 1.0), 0.0)
        d[0], d[-1] = self._end(m[0], m[1]), self._end(m[-1], m[-2])
        self.d = d

    @staticmethod
    def _end(m0: np.ndarray, m1: np.ndarray) -> np.ndarray:
        """The slope at an end knot [C]: a one-sided three-point estimate kept shape-preserving."""
        d = (3.0 * m0 - m1) / 2.0
        d = np.where(np.sign(d) != np.sign(m0), 0.0, d)
        return np.where((np.sign(m0) != np.sign(m1)) & (np.abs(d) > 3.0 * np.abs(m0)), 3.0 * m0, d)

    def __call__(self, u) -> np.ndarray:
        """Values [..., C] at parameters u [...]."""
        u = np.asarray(u, np.float64)
        k = np.clip(np.floor(u).astype(np.int64), 0, len(self.y) - 2)
        t = (u - k)[..., None]
        y0, y1, d0, d1 = self.y[k], self.y[k + 1], self.d[k], self.d[k + 1]
        h00, h10, h01, h11 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
        return h00 * y0 + h10 * d0 + h01 * y1 + h11 * d1


_SECTION = _UnitPchip(KEYS[:, :8])


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
