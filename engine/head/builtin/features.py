"""Facial features of the built-in head as smooth displacements of the base loft.

Every feature is an outward offset in metres, a function of the base
point's (x, y) on the face; the eye region is then wrapped onto a shell
just in front of each eyeball so the lids hug the eyes. Scales (a dict of
feature name -> factor, default 1) let the shape basis vary them.
"""

from __future__ import annotations

import numpy as np

MOUTH_Y = -0.058            # the mouth slit's height (profile key MOUTH_KEY)
NOSE_TOP_Y, NOSE_TIP_Y, NOSE_BASE_Y = 0.030, -0.016, -0.034
NOSE_TIP_OUT = 0.026        # how far the nose tip stands out of the face
EYE_CENTER = np.array([0.0318, 0.0215, 0.0705])   # left eyeball (+x); the right one mirrors it
EYE_RADIUS = 0.0135
LID_GAP = 0.0004            # skin thickness over the eyeball
LID_THICKNESS = 0.0011      # and away from the lid margins
EYE_GUARD = 0.0035          # clearance of the skin around the eyeball's sides
FEATURES = ("nose", "lips", "chin", "brow", "cheek", "socket", "ear")


def _gauss(v, centre, width):
    return np.exp(-(((v - centre) / width) ** 2))


def nose(x, y):
    """Outward offset [N] of the nose: a ridge from the nasion to the tip, a rounded base, two alae."""
    down = np.clip((NOSE_TOP_Y - y) / (NOSE_TOP_Y - NOSE_TIP_Y), 0.0, 1.0)
    under = np.clip((NOSE_TIP_Y - y) / (NOSE_TIP_Y - NOSE_BASE_Y), 0.0, 1.0)
    height = np.where(y >= NOSE_TIP_Y, down ** 1.2, np.sqrt(1.0 - under ** 2)) * NOSE_TIP_OUT
    height = height + 0.003 * _gauss(y, NOSE_TIP_Y - 0.001, 0.006)
    width = 0.0065 + 0.0045 * np.clip(down, 0, 1) ** 2
    ridge = height * np.exp(-np.abs(x / width) ** 2.2)
    alae = 0.0085 * _gauss(np.abs(x), 0.0125, 0.0055) * _gauss(y, NOSE_BASE_Y + 0.008, 0.0065)
    return ridge + alae - 0.002 * _gauss(y, NOSE_TOP_Y + 0.004, 0.006) * _gauss(x, 0, 0.012)


def vermilion(x, y):
    """Outward offset [N] of the red of the lips: two bulges meeting at the slit, tapering to the corners."""
    taper = np.cos(0.5 * np.pi * np.clip(np.abs(x) / 0.028, 0, 1)) ** 0.7
    upper = 0.0066 * _gauss(y, MOUTH_Y + 0.0045, 0.0052)
    lower = 0.0082 * _gauss(y, MOUTH_Y - 0.0058, 0.0056)
    return (upper + lower) * taper


def lips(x, y):
    """Outward offset [N] of the lips: the vermilion, a philtrum, recessed mouth corners."""
    philtrum = 0.003 * _gauss(y, MOUTH_Y + 0.014, 0.009) * _gauss(x, 0, 0.02)
    corners = -0.003 * _gauss(np.abs(x), 0.027, 0.006) * _gauss(y, MOUTH_Y, 0.007)
    return vermilion(x, y) + philtrum + corners


def chin(x, y):
    """Outward offset [N] of the chin and the groove above it."""
    return 0.009 * _gauss(x, 0, 0.021) * _gauss(y, -0.089, 0.011) - 0.004 * _gauss(x, 0, 0.02) * _gauss(y, -0.074, 0.005)


def brow(x, y):
    """Outward offset [N] of the brow ridge."""
    return 0.005 * _gauss(y, 0.044, 0.008) * np.exp(-((x / 0.05) ** 4))


def cheek(x, y):
    """Outward offset [N] of the cheekbones and the cheeks beside the mouth."""
    bone = 0.007 * _gauss(np.abs(x), 0.05, 0.018) * _gauss(y, -0.004, 0.014)
    return bone + 0.004 * _gauss(np.abs(x), 0.036, 0.01) * _gauss(y, -0.045, 0.012)


def socket(x, y):
    """Outward offset [N] (negative) of the eye sockets."""
    return -0.012 * _gauss(np.abs(x), EYE_CENTER[0], 0.016) * _gauss(y, EYE_CENTER[1], 0.013)


def ear(y, z, side):
    """Outward offset [N] of a simple ear on the sides of the head; `side` [N] is |sin(theta)|."""
    shape = np.exp(-(((y - 0.006) / 0.026) ** 4)) * _gauss(z, -0.024, 0.013)
    return 0.011 * shape * np.clip((side - 0.75) / 0.2, 0, 1)


def offsets(points: np.ndarray, theta: np.ndarray, scales: dict) -> np.ndarray:
    """Total outward offset [N] at base points [N, 3] with column angles theta [N]."""
    x, y, z = points.T
    front = np.clip(np.cos(theta) / 0.3, 0.0, 1.0)
    face = {"nose": nose(x, y), "lips": lips(x, y), "chin": chin(x, y), "brow": brow(x, y),
            "cheek": cheek(x, y), "socket": socket(x, y)}
    total = sum(scales.get(name, 1.0) * value for name, value in face.items()) * front
    return total + scales.get("ear", 1.0) * ear(y, z, np.abs(np.sin(theta)))


def eye_centers() -> np.ndarray:
    """Rest eyeball centres [2, 3]: left (+x), right (-x)."""
    return np.stack([EYE_CENTER, EYE_CENTER * np.array([-1.0, 1.0, 1.0])])


def hug_eyes(points: np.ndarray, on_slit: np.ndarray) -> np.ndarray:
    """Skin points [N, 3] with the eye region wrapped onto a shell over each eyeball.

    Inside 0.8 shell radii the skin lies on the shell (the lids: LID_GAP over the
    eyeball at the lid margins, where on_slit [N] is true, LID_THICKNESS elsewhere,
    so flat triangles of a closed lid clear the eyeball); further out it
    is blended back to the face and kept in front of a guard sphere a little
    larger than the eyeball, so the eyeball never shows through the skin.
    """
    out = points.copy()
    shell = EYE_RADIUS + np.where(on_slit, LID_GAP, LID_THICKNESS)
    for centre in eye_centers():
        r2 = np.sum((out[:, :2] - centre[:2]) ** 2, axis=1)
        near = (r2 < (1.6 * shell) ** 2) & (out[:, 2] > centre[2] - 0.01)
        lid = _smoothstep((np.sqrt(r2) - 0.8 * shell) / (0.3 * shell))
        on_shell = centre[2] + np.sqrt(np.maximum(shell ** 2 - r2, 0.0))
        z = out[:, 2] + (1.0 - lid) * (on_shell - out[:, 2])
        guard_radius = shell + lid * (EYE_RADIUS + EYE_GUARD - shell)
        guard = centre[2] + np.sqrt(np.maximum(guard_radius ** 2 - r2, 0.0))
        out[:, 2] = np.where(near, np.maximum(z, guard), out[:, 2])
    return out


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
