"""A labelled gallery of a head's expressions, and vertical stacking of preview images."""

from __future__ import annotations

import numpy as np

from ..render.camera import default_framing
from ..render.shading import render_mesh
from .sheet import SHEET_BACKGROUND, contact_sheet

# (label, {expression: value}, {joint: axis-angle}) of the built-in head's showcase.
SHOWCASE = (
    ("neutral", {}, {}),
    ("jaw open", {}, {"jaw": (0.35, 0, 0)}),
    ("smile", {"mouthSmileLeft": 1, "mouthSmileRight": 1, "cheekSquintLeft": 0.5, "cheekSquintRight": 0.5}, {}),
    ("oo (funnel)", {"mouthFunnel": 1, "mouthPucker": 0.4}, {"jaw": (0.12, 0, 0)}),
    ("ee (stretch)", {"mouthStretchLeft": 0.8, "mouthStretchRight": 0.8}, {"jaw": (0.08, 0, 0)}),
    ("frown", {"mouthFrownLeft": 1, "mouthFrownRight": 1, "browDownLeft": 1, "browDownRight": 1}, {}),
    ("surprise", {"browInnerUp": 1, "browOuterUpLeft": 1, "browOuterUpRight": 1,
                  "eyeWideLeft": 1, "eyeWideRight": 1}, {"jaw": (0.25, 0, 0)}),
    ("blink", {"eyeBlinkLeft": 1, "eyeBlinkRight": 1}, {}),
    ("wink + sneer", {"eyeBlinkLeft": 1, "noseSneerLeft": 1, "mouthSmileLeft": 0.6}, {}),
    ("look + turn", {}, {"neck": (0.0, 0.45, 0.0), "eye_left": (0, 0.35, 0), "eye_right": (0, 0.35, 0)}),
)


def showcase_params(head, showcase=SHOWCASE):
    """Labels [N], expression [N, E] and pose [N, 5, 3] of the showcase (names the head lacks are skipped)."""
    names = [n.lower() for n in head.expression_names]
    expression = np.zeros((len(showcase), len(names)), np.float32)
    pose = np.zeros((len(showcase), len(head.joint_names), 3), np.float32)
    for i, (_, values, joints) in enumerate(showcase):
        for name, value in values.items():
            if name.lower() in names:
                expression[i, names.index(name.lower())] = value
        for joint, rotation in joints.items():
            pose[i, head.joint_names.index(joint)] = rotation
    return [label for label, _, _ in showcase], expression, pose


def expression_gallery(head, size: int = 200, columns: int = 5) -> np.ndarray:
    """Render the showcase expressions side by side: RGB uint8 [H, W, 3]."""
    labels, expression, pose = showcase_params(head)
    vertices, _ = head.forward(expression, pose)
    camera = default_framing(head.v_template, size)
    frames = np.stack([render_mesh(camera, v, head.faces, head.vertex_colors) for v in vertices])
    return contact_sheet(frames, labels, columns=columns)


def stack_images(images, background=SHEET_BACKGROUND) -> np.ndarray:
    """Stack RGB uint8 images [H_i, W_i, 3] vertically, centred, on a `background` canvas."""
    width = max(im.shape[1] for im in images)
    fill = np.array(background if np.max(background) > 1 else np.asarray(background) * 255, np.uint8)
    rows = []
    for im in images:
        canvas = np.empty((im.shape[0], width, 3), np.uint8)
        canvas[:] = fill
        left = (width - im.shape[1]) // 2
        canvas[:, left:left + im.shape[1]] = im[..., :3]
        rows.append(canvas)
    return np.concatenate(rows, axis=0)
