"""A NeRF teacher's training set made from a real talking video: tracked parameters, the tracker's camera,
matted frames cropped to the head.

Recipe of `video_set`:
1. the tracked clip gives every frame's head parameters (`MotionClip.head_params`)
   and its metadata the one fixed camera of the video (the tracker's world is
   the head's rest frame, the head moves in front of a still camera);
2. `head_crop`: one square of the full-size frame holding the head's box
   (`HEAD_BOX`) as every frame's pose places it, so no ray that can see the head
   is cut off; the frames are cropped to it and scaled to size x size, and the
   camera with them (`crop_camera`);
3. alpha = the person matte (MediaPipe Selfie Segmentation) times the pixels
   whose rays cross `head_only_box`: the head's box cut by a plane NECK_CUT
   metres below the chin, in the head's own frame. Torso and most of the neck
   are cropped away: they do not move with the head and the field cannot
   follow them, so the look is a head with its neck cut off below the chin;
4. the first TRAIN_FRACTION of the frames are for fitting, the rest are held
   out (never fitted) and scored on the face box: the box of the tracked
   landmarks, grown by FACE_MARGIN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ....head.landmarks import landmarks
from ....head.model import HeadModel
from ....motion import MotionClip
from ....render.camera import Camera
from ....render.quality import rgba_psnr
from ....render.rays import HEAD_BOX, Box, box_mask, head_transform
from ....video.matte import Crop, square_crop

TRAIN_FRACTION = 0.8   # the first 80 % of the frames are fitted, the last 20 % held out
NECK_CUT = 0.03        # metres below the chin where the head's matte ends
FACE_MARGIN = 0.1      # the face box grows by this share of its size on each side
CHIN = 8               # iBUG-68 number of the chin's landmark
OPENCV_FROM_WORLD = np.diag([1.0, -1.0, -1.0])  # the tracker's camera looks down -Z with Y up


@dataclass
class VideoSet:
    """Frames of a video ready for a NeRF fit and for scoring.

    frames [F, H, W, 4] float32 straight alpha (colour of the crop, alpha the
    head's matte), params [F] dicts (expression [E], pose [5, 3], translation
    [3]), cameras [F] (the one crop camera), face_boxes [F, 4] (u0, v0, u1, v1
    crop pixels), train / held [n] frame indices.
    """

    frames: np.ndarray
    params: list
    cameras: list
    face_boxes: np.ndarray
    train: np.ndarray
    held: np.ndarray

    def __len__(self) -> int:
        return len(self.params)

    def pick(self, index) -> tuple:
        """(frames [n, H, W, 4], params [n], cameras [n]) of frame indices [n]."""
        index = [int(i) for i in index]
        return self.frames[index], [self.params[i] for i in index], [self.cameras[i] for i in index]


def split(count: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) indices of `count` frames: the first TRAIN_FRACTION, then the rest (at least one)."""
    if count < 2:
        raise ValueError("a video set needs at least two frames")
    cut = min(count - 1, max(1, int(round(TRAIN_FRACTION * count))))
    return np.arange(cut), np.arange(cut, count)


def video_camera(meta: dict) -> Camera:
    """The tracker's camera (a take's metadata["camera"]) at the video's full size, in the head's world."""
    rotation = OPENCV_FROM_WORLD
    translation = -rotation @ np.asarray(meta["position"], np.float64)
    return Camera(int(meta["width"]), int(meta["height"]), float(meta["fx"]), float(meta["fy"]), float(meta["cx"]),
                  float(meta["cy"]), rotation, translation)


def crop_camera(camera: Camera, crop: Crop, size: int) -> Camera:
    """`camera` seeing only the crop's square, scaled to size x size pixels."""
    s = size / crop.side
    return Camera(int(size), int(size), camera.fx * s, camera.fy * s, (camera.cx - crop.x0) * s,
                  (camera.cy - crop.y0) * s, camera.rotation, camera.translation)


def clip_transforms(head: HeadModel, clip: MotionClip) -> np.ndarray:
    """The head's rigid pose [T, 4, 4] (canonical to world) in every frame of a tracked clip."""
    p = clip.head_params(head)
    return head_transform(head, p["pose"], p["translation"], p["expression"])


def head_crop(head: HeadModel, clip: MotionClip, margin: float = 1.05) -> Crop:
    """The square of the full-size frame that holds the head's box in every frame of the tracked clip."""
    camera = video_camera(clip.metadata["camera"])
    low, high = np.asarray(HEAD_BOX.low), np.asarray(HEAD_BOX.high)
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    transforms = clip_transforms(head, clip)
    world = np.einsum("tij,cj->tci", transforms[:, :3, :3], corners) + transforms[:, None, :3, 3]
    pixels, _ = camera.project(world.reshape(-1, 3))
    return square_crop(pixels, camera.width, camera.height, margin)


def head_only_box(head: HeadModel) -> Box:
    """`HEAD_BOX` cut NECK_CUT metres below the rest head's chin: what of the matte is the head's."""
    marks = landmarks(head, head.v_template)
    chin = marks[list(head.landmark_embedding.ids).index(CHIN)]
    return Box(low=(HEAD_BOX.low[0], float(chin[1]) - NECK_CUT, HEAD_BOX.low[2]), high=HEAD_BOX.high)


def face_boxes(points: np.ndarray, crop: Crop, size: int) -> np.ndarray:
    """Face boxes [T, 4] (u0, v0, u1, v1, crop pixels) of tracked landmarks [T, L, 2] (full-size pixels)."""
    s = size / crop.side
    uv = (np.asarray(points, np.float64) - np.array([crop.x0, crop.y0])) * s
    low, high = np.nanmin(uv, axis=1), np.nanmax(uv, axis=1)
    grow = FACE_MARGIN * (high - low)
    return np.clip(np.concatenate([low - grow, high + grow], axis=1), 0, size)


def video_set(head: HeadModel, clip: MotionClip, rgba: np.ndarray, crop: Crop, points: np.ndarray) -> VideoSet:
    """The VideoSet of a tracked clip and its matted crops rgba [F, S, S, 4] uint8 (alpha: the person),
    with the tracked landmarks points [F, L, 2] (full-size pixels). Frames beyond the shorter of clip
    and crops are dropped."""
    count = min(clip.num_frames, len(rgba), len(points))
    size = int(rgba.shape[1])
    camera = crop_camera(video_camera(clip.metadata["camera"]), crop, size)
    params = clip.head_params(head)
    transforms = clip_transforms(head, clip)
    box = head_only_box(head)
    frames = rgba[:count].astype(np.float32) / 255.0
    for k in range(count):
        frames[k, ..., 3] *= box_mask(camera, transforms[k], box)
    train, held = split(count)
    per_frame = [{key: value[k] for key, value in params.items()} for k in range(count)]
    return VideoSet(frames, per_frame, [camera] * count, face_boxes(points[:count], crop, size), train, held)


def face_box_psnr(image: np.ndarray, reference: np.ndarray, box) -> float:
    """PSNR in dB (premultiplied RGBA, as `rgba_psnr`) of image against reference [H, W, 4] inside the
    face box (u0, v0, u1, v1 pixels)."""
    u0, v0, u1, v1 = (int(round(float(x))) for x in box)
    return rgba_psnr(image[v0:max(v1, v0 + 1), u0:max(u1, u0 + 1)], reference[v0:max(v1, v0 + 1), u0:max(u1, u0 + 1)])
