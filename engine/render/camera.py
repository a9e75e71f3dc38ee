"""A pinhole camera: intrinsics, world-to-camera extrinsics, projection and rays.

Conventions:
- Camera space is OpenCV's: +x right, +y down, +z forward (into the scene);
  a point in front of the camera has positive depth z.
- Extrinsics map world to camera: `x_cam = rotation @ x_world + translation`.
- Pixel coordinates are continuous: (u, v) = (column, row) with image row 0 at
  the top; the centre of pixel (row i, column j) is at (j + 0.5, i + 0.5), so
  the image spans [0, width] x [0, height].
- The world is the head's (FLAME's): Y up, +Z out of the face, metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError

PORTRAIT_FOV_Y = 18.0  # degrees: about an 85 mm lens on a full-frame portrait camera
FRAMING_MARGIN = 1.12  # the head fills 1 / FRAMING_MARGIN of the frame


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera.

    width, height: image size in pixels; fx, fy: focal lengths in pixels;
    cx, cy: principal point in pixels (width / 2, height / 2 for a centred lens);
    rotation [3, 3] and translation [3]: world to camera, `x_cam = R x + t`.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    rotation: np.ndarray
    translation: np.ndarray

    @classmethod
    def from_fov(cls, fov_y_deg: float, width: int, height: int,
                 rotation=None, translation=None) -> "Camera":
        """A centred camera with square pixels and a vertical field of view in degrees."""
        if not 0.0 < fov_y_deg < 180.0:
            raise InputError(f"The field of view must be between 0 and 180 degrees, not {fov_y_deg}.")
        focal = 0.5 * height / math.tan(math.radians(fov_y_deg) / 2.0)
        return cls.from_focal(focal, width, height, rotation, translation)

    @classmethod
    def from_focal(cls, focal_px: float, width: int, height: int,
                   rotation=None, translation=None) -> "Camera":
        """A centred camera with square pixels and a focal length in pixels."""
        if width < 1 or height < 1 or focal_px <= 0:
            raise InputError("A camera needs a positive image size and focal length.")
        rotation = np.eye(3) if rotation is None else np.asarray(rotation, dtype=np.float64)
        translation = np.zeros(3) if translation is None else np.asarray(translation, dtype=np.float64)
        return cls(int(width), int(height), float(focal_px), float(focal_px),
                   width / 2.0, height / 2.0, rotation, translation)

    @property
    def position(self) -> np.ndarray:
        """The camera centre in world coordinates [3]."""
        return -self.rotation.T @ self.translation

    @property
    def fov_y(self) -> float:
        """Vertical field of view in degrees."""
        return math.degrees(2.0 * math.atan(0.5 * self.height / self.fy))

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points [N, 3] -> camera-space points [N, 3]."""
        return np.asarray(points, dtype=np.float64) @ self.rotation.T + self.translation

    def project(self, points: np.ndarray):
        """World points [N, 3] -> pixels [N, 2] (u, v) and depth [N] (camera z).

        Points at or behind the camera plane get non-finite or meaningless
        pixels; check `depth > 0`.
        """
        cam = self.to_camera(points)
        z = cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = self.fx * cam[:, 0] / z + self.cx
            v = self.fy * cam[:, 1] / z + self.cy
        return np.stack([u, v], axis=1), z

    def scaled(self, factor: int) -> "Camera":
        """The same view at `factor` times the resolution (for supersampling)."""
        f = int(factor)
        return replace(self, width=self.width * f, height=self.height * f,
                       fx=self.fx * f, fy=self.fy * f, cx=self.cx * f, cy=self.cy * f)

    def resized(self, width: int, height: int) -> "Camera":
        """The same view on an image of another size (fields of view kept)."""
        sx, sy = width / self.width, height / self.height
        return replace(self, width=int(width), height=int(height), fx=self.fx * sx,
                       fy=self.fy * sy, cx=self.cx * sx, cy=self.cy * sy)


def look_at_rotation(eye, target, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    """World-to-camera rotation [3, 3] whose rows are the camera's right, down, forward."""
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    forward = target - eye
    norm = np.linalg.norm(forward)
    if norm < 1e-12:
        raise InputError("The camera's eye and target are the same point.")
    forward /= norm
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:
        raise InputError("The camera's up vector is parallel to its viewing direction.")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def look_at(eye, target, up=(0.0, 1.0, 0.0), fov_y: float = PORTRAIT_FOV_Y,
            width: int = 256, height: int = 256) -> Camera:
    """A camera at `eye` [3] looking at `target` [3] with `up` [3] pointing up in the image."""
    rotation = look_at_rotation(eye, target, up)
    translation = -rotation @ np.asarray(eye, dtype=np.float64)
    return Camera.from_fov(fov_y, width, height, rotation, translation)


def orbit_direction(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """Unit vector [3] from the target to the camera.

    yaw 0, pitch 0 looks at the face from the front (+Z); positive yaw moves
    the camera towards +X (the subject's left), positive pitch moves it up.
    """
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    return np.array([math.sin(yaw) * math.cos(pitch), math.sin(pitch), math.cos(yaw) * math.cos(pitch)])


def default_framing(head_vertices: np.ndarray, size: int = 256, yaw: float = 0.0, pitch: float = 0.0,
                    fov_y: float = PORTRAIT_FOV_Y, margin: float = FRAMING_MARGIN) -> Camera:
    """A square portrait camera that frames a head [V, 3] (Y up, face towards +Z).

    The camera orbits the head's bounding-box centre by `yaw` and `pitch`
    (degrees, see `orbit_direction`) and stands back just far enough that the
    whole head fits with a small margin.
    """
    verts = np.asarray(head_vertices, dtype=np.float64).reshape(-1, 3)
    if verts.size == 0 or not np.all(np.isfinite(verts)):
        raise InputError("Cannot frame an empty head or one with NaN vertices.")
    direction = orbit_direction(yaw, pitch)
    rotation = look_at_rotation(direction, np.zeros(3))
    centred = (verts - 0.5 * (verts.min(0) + verts.max(0))) @ rotation.T
    lo, hi = centred.min(0), centred.max(0)
    target = 0.5 * (lo + hi) * np.array([1.0, 1.0, 0.0]) @ rotation + 0.5 * (verts.min(0) + verts.max(0))
    half = 0.5 * max(hi[0] - lo[0], hi[1] - lo[1], 1e-6)
    nearest = -lo[2]  # how far the head reaches towards the camera from its centre
    distance = half * margin / math.tan(math.radians(fov_y) / 2.0) + nearest
    return look_at(target + distance * direction, target, fov_y=fov_y, width=size, height=size)


def pixel_directions(camera: Camera, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unit world-space directions [..., 3] of the rays through pixel coordinates u, v [...]."""
    x = (np.asarray(u, dtype=np.float64) - camera.cx) / camera.fx
    y = (np.asarray(v, dtype=np.float64) - camera.cy) / camera.fy
    inv_len = 1.0 / np.sqrt(x * x + y * y + 1.0)
    cam = np.stack([x * inv_len, y * inv_len, inv_len], axis=-1)
    return cam @ camera.rotation  # row-vector form of R^T d


def rays(camera: Camera):
    """World-space rays through every pixel centre.

    Returns origins [H, W, 3] (the camera centre) and unit directions [H, W, 3];
    the ray of pixel (row i, column j) passes through pixel (j + 0.5, i + 0.5).
    """
    u = np.arange(camera.width) + 0.5
    v = np.arange(camera.height) + 0.5
    directions = pixel_directions(camera, u[None, :], v[:, None])
    origins = np.broadcast_to(camera.position, directions.shape).copy()
    return origins, directions
