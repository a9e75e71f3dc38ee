"""The mesh style teacher: the head's mesh, posed by FLAME parameters, rendered in a named look.

The teacher makes the training frames a neural light field of that look is
distilled from: numpy only, deterministic, about a tenth of a second per
256 x 256 frame on one core. A frame is rendered at `supersample` times the
resolution and box-filtered down (antialiased, straight alpha = coverage).

Recipe of `render_teacher`:
1. the frame's parameters (a dict, or a MotionClip and a frame index);
2. the posed mesh (`HeadModel.forward`) and the head's rigid pose
   (`engine.render.rays.head_transform`: looks light the head in its frame);
3. rasterize at the supersampled resolution, gather the visible surface;
4. the look shades it (and draws its lines) -> RGB, coverage -> alpha;
5. downsample.
"""

from __future__ import annotations

from typing import Union

import numpy as np

from ...errors import InputError
from ...head.model import HeadModel
from ...motion import MotionClip
from ...render.camera import Camera
from ...render.raster import rasterize
from ...render.rays import head_transform
from ...render.shading import downsample
from .clay import ClayLook
from .surface import prepare, visible_surface
from .toon import ToonLook

LOOKS = {"toon": ToonLook(), "clay": ClayLook()}
SUPERSAMPLE = 2


def frame_params(head: HeadModel, source) -> dict:
    """One frame's parameters: {"expression": [E], "pose": [5, 3], "translation": [3]} (float32).

    source: a dict of such arrays (missing keys are zeros; a leading frame
    axis of length 1 is dropped), or a (MotionClip, frame index) pair.
    """
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], MotionClip):
        clip, index = source
        if not 0 <= int(index) < clip.num_frames:
            raise InputError(f"Frame {index} is outside the clip's {clip.num_frames} frames.")
        return {k: v[int(index)] for k, v in clip.head_params(head).items()}
    if not isinstance(source, dict):
        raise InputError("A teacher frame is a dict of head parameters or a (MotionClip, frame index) pair.")
    E = head.exprdirs.shape[2]
    shapes = {"expression": (E,), "pose": (5, 3), "translation": (3,)}
    unknown = set(source) - set(shapes)
    if unknown:
        raise InputError(f"Unknown head parameters {sorted(unknown)}; use expression, pose and translation.")
    out = {}
    for key, shape in shapes.items():
        value = np.zeros(shape, np.float32) if source.get(key) is None else np.asarray(source[key], np.float32)
        if value.shape == (1,) + shape:
            value = value[0]
        if value.shape != shape:
            raise InputError(f"The {key} of a teacher frame must be {list(shape)}, not {list(value.shape)}.")
        out[key] = value
    return out


def render_teacher(head: HeadModel, params_or_clip_frame, camera: Camera,
                   look: Union[str, ToonLook, ClayLook] = "toon", supersample: int = SUPERSAMPLE) -> np.ndarray:
    """RGBA [H, W, 4] float32 (straight alpha) of one frame of `head` seen by `camera` in `look`.

    params_or_clip_frame as `frame_params`; look: a name in LOOKS or a look
    object (anything with `shade(surface, supersample) -> RGB [H, W, 3]`).
    """
    if supersample < 1:
        raise InputError(f"The supersampling factor must be 1 or more, not {supersample}.")
    look = resolve_look(look)
    params = frame_params(head, params_or_clip_frame)
    vertices = head.forward(params["expression"], params["pose"], translation=params["translation"][None])[0][0]
    transform = head_transform(head, params["pose"], params["translation"][None], params["expression"])[0]
    big = camera.scaled(supersample)
    fragments = rasterize(big, vertices, head.faces)
    surface = visible_surface(fragments, big, vertices, transform, prepare(head))
    rgb = look.shade(surface, supersample)
    rgba = np.concatenate([rgb, surface.mask[..., None].astype(np.float32)], axis=-1)
    rgba[~surface.mask] = 0.0
    return downsample(rgba, supersample)


def resolve_look(look):
    """The look object of a name in LOOKS (InputError for an unknown name); a look object as it is."""
    if isinstance(look, str):
        if look not in LOOKS:
            raise InputError(f"Unknown teacher look '{look}'; choose one of {', '.join(sorted(LOOKS))}.")
        return LOOKS[look]
    return look


def mesh_teacher(look="toon", head: HeadModel | None = None, supersample: int = SUPERSAMPLE):
    """The mesh style teacher as a function (params, camera) -> RGBA [H, W, 4] float32 (straight alpha), on
    `head` (None: the built-in head); look a name in LOOKS or a look object."""
    from ...head import load_head

    head = load_head() if head is None else head
    chosen = resolve_look(look)

    def render(params, camera: Camera) -> np.ndarray:
        return render_teacher(head, params, camera, chosen, supersample)

    return render
