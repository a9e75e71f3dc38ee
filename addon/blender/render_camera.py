"""The scene camera as the engine's pinhole camera, in the head's FLAME frame; and whether a look was trained
to be seen from there.

The engine renders a look in the head's own frame (FLAME: Y up, +Z out of the
face, metres): the clip's head pose moves the head inside that frame, as the
rig's bones move it inside the head object. So the Blender camera is taken
relative to the head object (its world matrix undone), its axes converted by
`axes` (Blender's camera looks down its -Z with +Y up; the engine's, OpenCV's,
looks down +z with +y down), and its intrinsics follow Blender's own rules
for the lens, the sensor fit, the lens shift and the render resolution.

Frames keep the render resolution's aspect, their longer side the chosen
size; a look that renders fixed square sizes (super-resolution) gets the
centred square of the camera's view. Render to Sequencer takes camera and
head where they are when it starts (an animated camera or head object is not
followed frame by frame; the clip's own head motion is); Preview and Follow
Frame take them at the frame shown.
"""

from __future__ import annotations

import importlib
import math
from typing import Optional

import numpy as np

from .axes import FLAME_TO_BLENDER, to_flame
from ..engine_link import engine

camera_module = importlib.import_module(engine.__name__ + ".render.camera")
Camera = camera_module.Camera
TRAINED_YAW = 30.0    # degrees: the training default (engine.training.nldf.config yaw_range) ...
TRAINED_PITCH = 15.0  # ... and pitch_range, for looks whose sidecar records neither
_HEAD: dict = {}      # the built-in head's rest framing, computed once: {"pivot": [3], "distance": float}


def scene_camera(scene, head_obj, size: int, look_sizes="any", stride: int = 1) -> Optional[Camera]:
    """The scene camera seen from `head_obj` as an engine Camera, or None when the scene has no camera.

    size: the frame's longer side in pixels; look_sizes: the look's `image_sizes` ("any" or a list of
    square sizes); stride: the look's `ray_stride` (both sides become multiples of it). engine.InputError
    for a camera the engine cannot imitate (orthographic, panoramic).
    """
    camera_obj = scene.camera
    if camera_obj is None or camera_obj.type != 'CAMERA':
        return None
    data = camera_obj.data
    if data.type != 'PERSP':
        raise engine.InputError(f"The scene camera '{camera_obj.name}' is {data.type.lower()}; looks render "
                                "through a perspective lens only: make it Perspective, or clear the scene camera "
                                "for the look's own framing.")
    relative = np.linalg.inv(np.array(head_obj.matrix_world)) @ np.array(camera_obj.matrix_world)
    width, height = frame_size(scene.render, size, square=look_sizes != "any", multiple=stride)
    fx, fy, cx, cy = intrinsics(data, scene.render, width, height)
    return engine_camera(relative, width, height, fx, fy, cx, cy)


def frame_size(render, size: int, square: bool = False, multiple: int = 1) -> tuple:
    """(width, height) of the frames: the render resolution's shape (pixel aspect included), its longer
    side `size`, the shorter one rounded to a multiple of `multiple` (and of 2); `square`: size x size."""
    if square:
        return int(size), int(size)
    shown_w, shown_h = render.resolution_x * render.pixel_aspect_x, render.resolution_y * render.pixel_aspect_y
    step = int(np.lcm(2, max(1, int(multiple))))
    shorter = step * max(1, round(size * min(shown_w, shown_h) / max(shown_w, shown_h) / step))
    return (int(size), shorter) if shown_w >= shown_h else (shorter, int(size))


def intrinsics(data, render, width: int, height: int) -> tuple:
    """(fx, fy, cx, cy) in pixels of a `width` x `height` frame of Blender camera `data` (lens, sensor, fit,
    shift) as the render resolution `render` frames it (Blender's `camera_params_compute_viewplane`).

    The view is scaled to cover the frame across the resolution's shorter side; a frame of another shape
    (a square frame of a wide resolution) shows the middle of the view.
    """
    shown_w, shown_h = render.resolution_x * render.pixel_aspect_x, render.resolution_y * render.pixel_aspect_y
    fit = data.sensor_fit
    if fit == 'AUTO':
        fit, sensor = ('HORIZONTAL' if shown_w >= shown_h else 'VERTICAL'), data.sensor_width
    else:
        sensor = data.sensor_width if fit == 'HORIZONTAL' else data.sensor_height
    scale = max(width / shown_w, height / shown_h)  # frame pixels per shown resolution pixel
    across = (shown_w if fit == 'HORIZONTAL' else shown_h) * scale  # the fitted side, in frame pixels
    focal = data.lens / sensor * across
    return focal, focal, width / 2.0 - data.shift_x * across, height / 2.0 + data.shift_y * across


def engine_camera(relative: np.ndarray, width: int, height: int, fx: float, fy: float, cx: float,
                  cy: float) -> Camera:
    """The engine Camera of a Blender camera whose matrix [4, 4] relative to the head object is `relative`."""
    u, _, vt = np.linalg.svd(relative[:3, :3])  # the rotation of a (possibly scaled) camera matrix
    axes = u @ vt
    right, up, back = (FLAME_TO_BLENDER.T @ axes[:, k] for k in range(3))
    rotation = np.stack([right, -up, -back])  # world to camera: rows right, down, forward
    translation = -rotation @ to_flame(relative[:3, 3])
    return Camera(int(width), int(height), float(fx), float(fy), float(cx), float(cy), rotation, translation)


def camera_fields(camera: Camera) -> dict:
    """An engine Camera as plain JSON values (a render job's `camera`)."""
    return {"width": camera.width, "height": camera.height, "fx": camera.fx, "fy": camera.fy, "cx": camera.cx,
            "cy": camera.cy, "rotation": camera.rotation.ravel().tolist(),
            "translation": camera.translation.ravel().tolist()}


def view_angles(camera: Camera) -> tuple:
    """(yaw, pitch, distance) of the camera seen from the built-in head's framing centre: yaw and pitch in
    degrees as `engine.render.camera.orbit_direction`, distance relative to the default framing's (1.0)."""
    rest = _rest_framing()
    offset = camera.position - rest["pivot"]
    distance = float(np.linalg.norm(offset))
    yaw = math.degrees(math.atan2(offset[0], offset[2]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, offset[1] / max(distance, 1e-12)))))
    return yaw, pitch, distance / rest["distance"]


def trained_range(sidecar: dict) -> dict:
    """{"yaw": (low, high), "pitch": (low, high), "distance": (low, high) or None} the look was trained for:
    the sidecar's `camera_range`, else its training config's yaw and pitch ranges, else the training default."""
    recorded = sidecar.get("camera_range") or {}
    config = (sidecar.get("training") or {}).get("config") or {}
    yaw = recorded.get("yaw", config.get("yaw_range", TRAINED_YAW))
    pitch = recorded.get("pitch", config.get("pitch_range", TRAINED_PITCH))
    distance = recorded.get("distance")
    return {"yaw": _interval(yaw), "pitch": _interval(pitch),
            "distance": _interval(distance) if distance is not None else None}


def range_warning(camera: Camera, sidecar: dict, look: str) -> str:
    """A sentence when the camera sees the head from outside the look's trained range, else ""."""
    yaw, pitch, distance = view_angles(camera)
    trained = trained_range(sidecar)
    outside = [f"{name} {value:.0f}° (trained {low:g}° to {high:g}°)"
               for name, value, (low, high) in (("yaw", yaw, trained["yaw"]), ("pitch", pitch, trained["pitch"]))
               if not low <= value <= high]
    if trained["distance"] is not None and not trained["distance"][0] <= distance <= trained["distance"][1]:
        low, high = trained["distance"]
        outside.append(f"distance {distance:.2f} of the default framing's (trained {low:g} to {high:g})")
    if not outside:
        return ""
    return (f"The scene camera sees the head from outside what the look '{look}' was trained on "
            f"({', '.join(outside)}); expect artefacts.")


def _interval(value) -> tuple:
    """(low, high) of a symmetric range (a number r: -r to r) or of a [low, high] pair."""
    if isinstance(value, (int, float)):
        return -abs(float(value)), abs(float(value))
    low, high = value
    return float(low), float(high)


def _rest_framing() -> dict:
    """The built-in head's framing centre [3] (what the training cameras orbit) and default distance."""
    if not _HEAD:
        head = engine.load_head()
        verts = head.v_template.astype(np.float64)
        pivot = 0.5 * (verts.min(0) + verts.max(0))
        default = camera_module.default_framing(verts, 256)
        _HEAD.update(pivot=pivot, distance=float(np.linalg.norm(default.position - pivot)))
    return _HEAD
