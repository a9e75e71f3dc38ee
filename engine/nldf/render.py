"""Render frames of a look: MotionClip -> per frame, rays in the head's frame -> the look's network -> RGBA.

Recipe of one frame (`render_frame`), with the numpy reference `engine.render.rays`:
1. the camera's rays moved into the head's canonical frame by the frame's
   rigid pose (`head_rays`), one per pixel or one per stride x stride block;
2. their light segments through the look's box; rays that miss are alpha 0
   and never reach the network;
3. the hit rays' K segment points, box-normalised (`encode_rays` with zero
   frequencies: the graph applies the sinusoidal encoding), in batches of
   BATCH_RAYS, with the frame's condition vector -> RGBA;
4. super-resolution looks: the graph's convolutions learned one pixel scale, the
   head as large as the default framing draws it at the trained size, and do not
   carry to another (a head at half that scale came out a thin sliver). So the
   graph renders the window of the frame that the head's box covers, zoomed to
   that scale (`native_view`), which is resampled into the asked frame; pixels
   whose rays miss the box are set to 0.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Iterator, Optional

import numpy as np

from ..errors import InputError
from ..motion import MotionClip
from ..progress import Reporter, silent
from ..render.camera import Camera, default_framing
from ..render.rays import RayEncoding, box_mask, encode_rays, head_rays, head_transform, light_segments
from .condition import condition_vectors
from .look import Look, load_look

BATCH_RAYS = 32768  # rays per network call: bounds memory at 256 x 256 and above
MAX_WINDOW = 4      # a box window larger than this many trained sizes (a camera in the head's face) is not zoomed
WINDOW_MARGIN = 4   # ray cells of margin around the head's window: the graph's edge (its receptive field) stays
                    # off the head
WHOLE_FRAME = 0.6   # a window covering more of the zoomed frame than this renders the whole frame instead
SAME_SCALE = 0.05   # a view within 5 % of the trained pixel scale at the trained size is rendered whole, as trained
EXTENT_BATCH = 64   # frames whose head extents are skinned together while a clip renders
MAX_FRAME_WORKERS = 4  # frames of a clip rendered at once, at most (`clip_workers`)


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
    if not native_scale(look) and (camera.width % look.stride or camera.height % look.stride):
        raise InputError(f"The frame size must be a multiple of {look.stride} for the look '{look.name}'.")


def native_scale(look: Look) -> int:
    """The longer side, in pixels, that a super-resolution look renders at (0: any size as asked)."""
    return int(look.sidecar.get("trained_size", 0)) if look.mode == "superres" else 0


def head_extent(look: Look, params: dict, t: int) -> np.ndarray:
    """The posed head's vertices [V, 3] (world) at frame t of clip parameters `params` (`head_params`):
    what a look draws lies inside their silhouette, so they bound the window it renders."""
    return head_extents(look, params, t, t + 1)[0]


def head_extents(look: Look, params: dict, start: int, stop: int) -> np.ndarray:
    """`head_extent` of frames start .. stop - 1 (fewer at the clip's end) in one batched skinning: [n, V, 3]."""
    rows = slice(start, stop)
    vertices, _ = look.head.forward(params["expression"][rows], params["pose"][rows],
                                    translation=params["translation"][rows])
    return vertices


def native_view(look: Look, camera: Camera, transform: np.ndarray, extent: Optional[np.ndarray] = None):
    """(crop, window): a camera `crop` seeing the head's box as the look was distilled to see it (the same
    pixels per metre at the box centre as its default framing at the trained size), over the box's part of
    `camera`'s frame; `window` = (scale, x0, y0): frame pixel (u, v) is crop pixel (scale u - x0, scale v - y0).

    transform [4, 4]: the head's pose (`head_transform`); extent [N, 3]: world points whose silhouette holds
    everything the look draws (`head_extent`; None: the look's box, larger). A view at the trained scale,
    a camera inside the box or with the box partly behind it get the whole frame at the trained size
    (`native_camera`) and window None.
    """
    whole = native_camera(look, camera)
    R, t = np.asarray(transform, np.float64)[:3, :3], np.asarray(transform, np.float64)[:3, 3]
    low, high = np.asarray(look.box.low), np.asarray(look.box.high)
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    corners = corners @ R.T + t
    if not native_scale(look) or np.any(camera.to_camera(corners)[:, 2] <= 1e-6):
        return whole, None
    trained = _trained_camera(look)
    trained_scale = trained.fy / trained.to_camera(look.box.center[None])[0, 2]  # pixels per metre there
    scale = trained_scale / (camera.fy / camera.to_camera((R @ look.box.center + t)[None])[0, 2])
    if abs(scale * camera.width / whole.width - 1.0) < SAME_SCALE:
        return whole, None
    zoomed = replace(camera, fx=camera.fx * scale, fy=camera.fy * scale, cx=camera.cx * scale, cy=camera.cy * scale)
    bounds = corners if extent is None else np.asarray(extent, np.float64)
    x0, y0, x1, y1 = _box_window(look, zoomed, bounds, camera.width * scale, camera.height * scale)
    if x1 <= x0 or y1 <= y0 or max(x1 - x0, y1 - y0) > MAX_WINDOW * native_scale(look):
        return whole, None
    crop = replace(zoomed, width=x1 - x0, height=y1 - y0, cx=zoomed.cx - x0, cy=zoomed.cy - y0)
    return crop, (scale, x0, y0)


_TRAINED: dict = {}  # id of a head's rest vertices -> (those vertices, trained size, the look's default camera)


def _trained_camera(look: Look) -> Camera:
    """`default_camera(look, native_scale(look))`, framed once per head and size (8 ms a frame otherwise)."""
    rest, size = look.head.v_template, native_scale(look)
    known = _TRAINED.get(id(rest))
    if known is None or known[0] is not rest or known[1] != size:  # the entry holds `rest`: its id stays its own
        if len(_TRAINED) > 8:
            _TRAINED.clear()
        known = _TRAINED[id(rest)] = (rest, size, default_camera(look, size))
    return known[2]


def _box_window(look: Look, zoomed: Camera, points: np.ndarray, width: float, height: float) -> tuple:
    """(x0, y0, x1, y1): the pixels of a `width` x `height` frame of `zoomed` that `points` [N, 3] (all in front
    of it) cover, WINDOW_MARGIN ray cells wider, on the stride's grid; the whole frame when that saves little."""
    s = look.stride
    full_w, full_h = (s * max(1, int(np.ceil(side / s - 1e-6))) for side in (width, height))
    pixels, _ = zoomed.project(points)
    x0, y0 = (max(0, (int(np.floor(pixels[:, k].min() / s)) - WINDOW_MARGIN) * s) for k in (0, 1))
    x1 = min((int(np.ceil(pixels[:, 0].max() / s)) + WINDOW_MARGIN) * s, full_w)
    y1 = min((int(np.ceil(pixels[:, 1].max() / s)) + WINDOW_MARGIN) * s, full_h)
    if (x1 - x0) * (y1 - y0) > WHOLE_FRAME * full_w * full_h:
        return 0, 0, full_w, full_h
    return x0, y0, x1, y1


def native_camera(look: Look, camera: Camera) -> Camera:
    """The view of `camera` at the look's native scale (sides rounded to multiples of its stride)."""
    longest, s = native_scale(look), look.stride
    native = max(camera.width, camera.height) == longest and camera.width % s == 0 and camera.height % s == 0
    if not longest or native:
        return camera
    scale = longest / max(camera.width, camera.height)
    return camera.resized(max(s, s * round(camera.width * scale / s)), max(s, s * round(camera.height * scale / s)))


def resample(rgba: np.ndarray, height: int, width: int, window=None) -> np.ndarray:
    """Straight-alpha RGBA [h, w, 4] -> [height, width, 4], bilinear between pixel centres, on premultiplied
    colour (so transparent pixels lend no colour to the edge).

    window: None (the image spans the whole frame) or (scale, x0, y0): frame pixel (u, v) lies at image
    pixel (scale u - x0, scale v - y0) (`native_view`); frame pixels beyond the image are transparent."""
    if rgba.shape[:2] == (height, width) and window is None:
        return rgba
    planes = np.ascontiguousarray(np.asarray(rgba, np.float32).transpose(2, 0, 1))
    return resample_planes(planes, height, width, window).transpose(1, 2, 0)


def resample_planes(planes: np.ndarray, height: int, width: int, window=None) -> np.ndarray:
    """`resample` of RGBA planes [4, h, w] float32 -> [4, height, width] (the graph's own layout: numpy
    works on whole contiguous planes several times faster than on the 4-channel pixels of [h, w, 4])."""
    if planes.shape[1:] == (height, width) and window is None:
        return planes
    alpha = planes[3]
    pre = np.empty(planes.shape, np.float32)
    np.multiply(planes[:3], alpha, out=pre[:3])
    pre[3] = alpha
    spans = []
    for axis, size in ((1, height), (2, width)):
        old = pre.shape[axis]
        scale, offset = (old / size, 0.0) if window is None else (window[0], window[3 - axis])
        at = (np.arange(size) + 0.5) * scale - offset - 0.5  # each frame pixel's place in the image
        inside = np.flatnonzero((at >= -0.5) & (at <= old - 0.5))  # the rest: beyond the window, nothing
        if inside.size == 0:
            return np.zeros((4, height, width), np.float32)
        span = slice(inside[0], inside[-1] + 1)
        x = np.clip(at[span], 0.0, old - 1.0)
        low = np.floor(x).astype(int)
        high, t = np.minimum(low + 1, old - 1), (x - low).astype(np.float32)
        shape = [1, 1, 1]
        shape[axis] = len(x)
        pre = _lerp(np.take(pre, low, axis=axis), np.take(pre, high, axis=axis), t.reshape(shape))
        spans.append(span)
    alpha = pre[3]
    seen = alpha > 1e-6  # colour where alpha is ~0: none
    out = np.zeros((4, height, width), np.float32)
    out[3, spans[0], spans[1]] = alpha
    straight = pre[:3] / np.where(seen, alpha, np.float32(1.0))
    out[:3, spans[0], spans[1]] = np.where(seen, straight, np.float32(0.0))
    return out


def _lerp(low: np.ndarray, high: np.ndarray, t: np.ndarray) -> np.ndarray:
    """low (1 - t) + high t, in low's buffer (the same float32 products and sum, fewer passes over memory)."""
    low *= 1 - t
    high *= t
    low += high
    return low


def segment_points(look: Look, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """The graph's `points` [N, 3K] float32: hit rays [N, 3] -> box-normalised segment points."""
    features, _ = encode_rays(origins, directions, look.box, RayEncoding(look.num_points, 0, True))
    return features.astype(np.float32)


def render_frame(look: Look, camera: Camera, transform: np.ndarray, condition: np.ndarray,
                 reporter: Optional[Reporter] = None, extent: Optional[np.ndarray] = None) -> np.ndarray:
    """Straight-alpha RGBA [H, W, 4] float32 of one frame: camera, the head's pose transform [4, 4]
    (`head_transform`) and the condition vector [C]; extent: the posed head's vertices [V, 3] (`head_extent`),
    which narrow a super-resolution look's window to the head (None: the whole box)."""
    check_camera(look, camera)
    condition = np.asarray(condition, np.float32).reshape(1, -1)
    if look.mode == "superres":
        native, window = native_view(look, camera, transform, extent)
        planes = resample_planes(_superres_planes(look, native, transform, condition), camera.height,
                                 camera.width, window)
        planes *= box_mask(camera, transform, look.box)  # in place: a 512² frame is 4 MB a pass
        return planes.transpose(1, 2, 0)
    origins, directions = head_rays(camera, transform, 1)
    grid = origins.shape[:2]
    origins, directions = origins.reshape(-1, 3), directions.reshape(-1, 3)
    hit = np.flatnonzero(light_segments(origins, directions, look.box)[2])
    rgba = np.zeros((grid[0] * grid[1], 4), np.float32)
    for start in range(0, hit.size, BATCH_RAYS):
        if reporter is not None:
            reporter.cancel.check()
        rows = hit[start:start + BATCH_RAYS]
        points = segment_points(look, origins[rows], directions[rows])
        rgba[rows] = look.session.run(["rgba"], {"points": points, "condition": condition})[0]
    return rgba.reshape(grid + (4,))


def _superres_planes(look: Look, camera: Camera, transform, condition) -> np.ndarray:
    """The graph's RGBA planes [4, H, W] of a camera at the look's native scale (not yet masked)."""
    origins, directions = head_rays(camera, transform, look.stride)
    origins, directions = origins.reshape(-1, 3), directions.reshape(-1, 3)
    hit = np.flatnonzero(light_segments(origins, directions, look.box)[2])
    if hit.size == 0:
        return np.zeros((4, camera.height, camera.width), np.float32)
    grid = np.zeros((camera.height // look.stride, camera.width // look.stride), np.uint8)
    feeds = {"points": segment_points(look, origins[hit], directions[hit]), "index": hit.astype(np.int64),
             "condition": condition, "grid": grid}
    return look.session.run(["rgba"], feeds)[0][0]


def render_clip(clip: MotionClip, look, size: int = 256, camera: Optional[Camera] = None,
                reporter: Optional[Reporter] = None, workers: int = 1) -> Iterator[np.ndarray]:
    """Frames of `clip` in `look`: an iterator of straight-alpha RGBA uint8 [H, W, 4], one per clip frame.

    look: a `Look`, or a look name or .onnx path (loaded with `load_look`); camera: None for
    `default_camera(look, size)`; reporter: progress per frame, and cancel (checked between frames and
    between ray batches); workers: frames rendered at once, on that many threads sharing the look's session
    (onnxruntime's runs are thread-safe and release the GIL; `clip_workers` chooses for a machine), the
    frames still coming in order and the same bit for bit. The look and the size are checked here, before
    the first frame.
    """
    look = look if isinstance(look, Look) else load_look(look)
    camera = default_camera(look, size) if camera is None else camera
    check_camera(look, camera)
    return _frames(clip, look, camera, reporter or silent(), max(1, int(workers)))


def clip_workers(cores: Optional[int] = None) -> tuple[int, int]:
    """(frames rendered at once, onnxruntime threads per frame) for a clip on `cores` CPU cores (None: this
    machine's): a frame per core up to MAX_FRAME_WORKERS, the cores left over shared out as each frame's
    threads. On 2 cores two one-thread frames at once cost ~10 % less CPU a frame than one frame on two
    threads (whose small convolutions split poorly) and keep both cores busy through the numpy work between
    the graph's runs. A look on the GPU renders one frame at a time (`Look.on_gpu`)."""
    cores = max(1, int(cores or os.cpu_count() or 1))
    workers = min(cores, MAX_FRAME_WORKERS)
    return workers, max(1, cores // workers)


def _frames(clip: MotionClip, look: Look, camera: Camera, reporter: Reporter, workers: int) -> Iterator[np.ndarray]:
    params = clip.head_params(look.head)
    transforms = head_transform(look.head, params["pose"], params["translation"], params["expression"])
    conditions = condition_vectors(params, look.head)
    reporter.stage(f"rendering the look '{look.name}'", clip.num_frames)
    extents = [None]

    def extent(t: int) -> Optional[np.ndarray]:
        """The posed head's vertices at frame t, skinned EXTENT_BATCH frames at a time (a batch costs little
        more than a frame); called in frame order."""
        if look.mode != "superres":
            return None
        if t % EXTENT_BATCH == 0:
            extents[0] = head_extents(look, params, t, t + EXTENT_BATCH)
        return extents[0][t % EXTENT_BATCH]

    def frame(t: int, extent_t) -> np.ndarray:
        return _to_uint8(render_frame(look, camera, transforms[t], conditions[t], reporter, extent_t))

    if workers == 1:
        for t in range(clip.num_frames):
            rendered = frame(t, extent(t))
            reporter.update(t + 1)
            yield rendered
        return
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nldf-frame") as pool:
        try:
            for t in range(clip.num_frames):
                pending.append(pool.submit(frame, t, extent(t)))
                if len(pending) >= 2 * workers:  # each worker has its next frame waiting while one is taken
                    yield _taken(pending, reporter, t + 1 - len(pending) + 1)
            while pending:
                yield _taken(pending, reporter, clip.num_frames - len(pending) + 1)
        finally:
            for waiting in pending:  # an error, a cancel or an early stop: frames not yet started are dropped
                waiting.cancel()


def _taken(pending: deque, reporter: Reporter, done: int) -> np.ndarray:
    """The oldest pending frame once rendered (its worker's error raised here), reported as frame `done`."""
    rendered = pending.popleft().result()
    reporter.update(done)
    return rendered


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    """`to_uint8` of a float32 frame [H, W, 4] in [0, 1] (the same rounding), in one float32 buffer laid out
    as the frame is (a view of planes stays planes until the uint8 copy), contiguous [H, W, 4] uint8."""
    scaled = np.multiply(frame, np.float32(255.0), dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, 255, out=scaled)
    return np.ascontiguousarray(scaled.astype(np.uint8))
