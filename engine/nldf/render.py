"""Render frames of a look: MotionClip -> per frame, rays in the head's frame -> the look's network -> RGBA.

Recipe of one frame (`render_frame`), with the numpy reference `engine.render.rays`:
1. the camera's rays moved into the head's canonical frame by the frame's
   rigid pose (`head_rays`), one per pixel or one per stride x stride block;
2. their light segments through the look's box; rays that miss are alpha 0
   and never reach the network;
3. the hit rays' K segment points, box-normalised (`encode_rays` with zero
   frequencies: the graph applies the sinusoidal encoding), in batches of
   BATCH_RAYS, with the frame's condition vector -> RGBA;
4. super-resolution looks: the graph returns the whole image; full-resolution
   pixels whose rays miss the box are set to 0.
"""

from __future__ import annotations

from typing import Iterator, Optional

import numpy as np

from ..errors import InputError
from ..motion import MotionClip
from ..progress import Reporter, silent
from ..render.camera import Camera, default_framing
from ..render.rays import RayEncoding, box_mask, encode_rays, head_rays, head_transform, light_segments
from ..render.shading import to_uint8
from .condition import condition_vectors
from .look import Look, load_look

BATCH_RAYS = 32768  # rays per network call: bounds memory at 256 x 256 and above


def default_camera(look: Look, size: int = 256) -> Camera:
    """The portrait framing the looks are distilled around: the rest head, from the front, size x size."""
    if not 8 <= int(size) <= 4096:
        raise InputError(f"The frame size must be between 8 and 4096 pixels, not {size}.")
    return default_framing(look.head.v_template, int(size))


def check_camera(look: Look, camera: Camera) -> None:
    """InputError when the look cannot render frames of the camera's size."""
    sizes = look.image_sizes
    if sizes != "any" and not (camera.width == camera.height and camera.width in sizes):
        raise InputError(f"The look '{look.name}' renders only {' or '.join(f'{s}x{s}' for s in sizes)} frames, "
                         f"not {camera.width}x{camera.height}; choose that size or export the look for this one.")
    if camera.width % look.stride or camera.height % look.stride:
        raise InputError(f"The frame size must be a multiple of {look.stride} for the look '{look.name}'.")


def segment_points(look: Look, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """The graph's `points` [N, 3K] float32: hit rays [N, 3] -> box-normalised segment points."""
    features, _ = encode_rays(origins, directions, look.box, RayEncoding(look.num_points, 0, True))
    return features.astype(np.float32)


def render_frame(look: Look, camera: Camera, transform: np.ndarray, condition: np.ndarray,
                 reporter: Optional[Reporter] = None) -> np.ndarray:
    """Straight-alpha RGBA [H, W, 4] float32 of one frame: camera, the head's pose transform [4, 4]
    (`head_transform`) and the condition vector [C]."""
    check_camera(look, camera)
    condition = np.asarray(condition, np.float32).reshape(1, -1)
    origins, directions = head_rays(camera, transform, 1 if look.mode == "rays" else look.stride)
    grid = origins.shape[:2]
    origins, directions = origins.reshape(-1, 3), directions.reshape(-1, 3)
    hit = np.flatnonzero(light_segments(origins, directions, look.box)[2])
    if look.mode == "superres":
        return _superres_frame(look, camera, transform, origins[hit], directions[hit], hit, condition)
    rgba = np.zeros((grid[0] * grid[1], 4), np.float32)
    for start in range(0, hit.size, BATCH_RAYS):
        if reporter is not None:
            reporter.cancel.check()
        rows = hit[start:start + BATCH_RAYS]
        points = segment_points(look, origins[rows], directions[rows])
        rgba[rows] = look.session.run(["rgba"], {"points": points, "condition": condition})[0]
    return rgba.reshape(grid + (4,))


def _superres_frame(look: Look, camera: Camera, transform, origins, directions, hit, condition) -> np.ndarray:
    if hit.size == 0:
        return np.zeros((camera.height, camera.width, 4), np.float32)
    grid = np.zeros((camera.height // look.stride, camera.width // look.stride), np.uint8)
    feeds = {"points": segment_points(look, origins, directions), "index": hit.astype(np.int64),
             "condition": condition, "grid": grid}
    rgba = look.session.run(["rgba"], feeds)[0][0].transpose(1, 2, 0)
    return rgba * box_mask(camera, transform, look.box)[..., None]


def render_clip(clip: MotionClip, look, size: int = 256, camera: Optional[Camera] = None,
                reporter: Optional[Reporter] = None) -> Iterator[np.ndarray]:
    """Frames of `clip` in `look`: an iterator of straight-alpha RGBA uint8 [H, W, 4], one per clip frame.

    look: a `Look`, or a look name or .onnx path (loaded with `load_look`); camera: None for
    `default_camera(look, size)`; reporter: progress per frame, and cancel (checked between frames and
    between ray batches). The look and the size are checked here, before the first frame.
    """
    look = look if isinstance(look, Look) else load_look(look)
    camera = default_camera(look, size) if camera is None else camera
    check_camera(look, camera)
    return _frames(clip, look, camera, reporter or silent())


def _frames(clip: MotionClip, look: Look, camera: Camera, reporter: Reporter) -> Iterator[np.ndarray]:
    params = clip.head_params(look.head)
    transforms = head_transform(look.head, params["pose"], params["translation"], params["expression"])
    conditions = condition_vectors(params, look.head)
    reporter.stage(f"rendering the look '{look.name}'", clip.num_frames)
    for t in range(clip.num_frames):
        frame = render_frame(look, camera, transforms[t], conditions[t], reporter)
        reporter.update(t + 1)
        yield to_uint8(frame)
