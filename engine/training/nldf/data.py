"""Teacher frames for distillation: sampled head parameters and cameras, rendered once, cached as npz shards.

Recipe of `teacher_frames`:
1. `sample_specs`: head parameters from real motion (the phonetic driver on a
   voice), each frame's expression, jaw, neck and eyes jittered within their
   ranges, and a camera orbiting the default framing (yaw +-30, pitch +-15 deg);
2. the teacher renders each frame; frames go to disk in shards named by a hash
   of everything that made them (look, size, parameters, cameras), so a re-run
   with the same settings reads them back instead of rendering;
3. per frame: the condition vector, the head's rigid pose, and the loss weight
   map (1 + mouth_weight inside the projected mouth box, + brow_weight inside
   the brow boxes, + eye_weight inside the eye boxes, from the head's iBUG
   landmarks).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...head.landmarks import landmarks
from ...head.model import JOINT_NAMES, HeadModel
from ...nldf.condition import condition_vectors
from ...progress import Reporter, silent
from ...render.camera import Camera, default_framing
from ...render.rays import head_transform
from .config import NLDFConfig

MOUTH_LANDMARKS = tuple(range(48, 68))                      # iBUG-68 outer and inner lips
BROW_LANDMARKS = (tuple(range(17, 22)), tuple(range(22, 27)))  # right and left brow
EYE_LANDMARKS = (tuple(range(36, 42)), tuple(range(42, 48)))    # right and left eye (lid contours)
CACHE_VERSION = 1                                           # bump when the shard layout changes


@dataclass
class Specs:
    """Parameters and camera angles of F frames: expression [F, E], pose [F, 5, 3], translation [F, 3],
    yaw, pitch [F] (degrees)."""

    expression: np.ndarray
    pose: np.ndarray
    translation: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray

    def __len__(self) -> int:
        return len(self.yaw)

    def params(self, k: int) -> dict:
        return {"expression": self.expression[k], "pose": self.pose[k], "translation": self.translation[k]}

    def slice(self, start: int, stop: int) -> "Specs":
        return Specs(*(a[start:stop] for a in (self.expression, self.pose, self.translation, self.yaw, self.pitch)))


@dataclass
class FrameSet:
    """Teacher frames with what training needs of each.

    rgba [F, H, W, 4] float32 straight alpha, conditions [F, C], transforms
    [F, 4, 4] (canonical to world), cameras [F], weights [F, H, W] (loss
    weight), mouth [F, H, W] bool (inside the projected mouth box), eyes
    [F, H, W] bool (inside the projected eye boxes; None: not computed).
    """

    rgba: np.ndarray
    conditions: np.ndarray
    transforms: np.ndarray
    cameras: list
    weights: np.ndarray
    mouth: np.ndarray
    eyes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.cameras)


def sample_specs(config: NLDFConfig, head: HeadModel, count: int, seed: int, motion: dict) -> Specs:
    """`count` frames of parameters drawn from `motion` ({"expression": [T, E], "pose": [T, 5, 3],
    "translation": [T, 3]}, e.g. `MotionClip.head_params`) with the config's jitter and camera ranges.

    Frame k depends only on (seed, k), so a run with more frames keeps (and reuses the cache of) the
    first ones.
    """
    frames = [_sample_frame(config, head, np.random.default_rng((seed, k)), motion) for k in range(count)]
    return Specs(*(np.stack([f[i] for f in frames]) if frames else np.zeros(0) for i in range(5)))


def _sample_frame(config: NLDFConfig, head: HeadModel, rng: np.random.Generator, motion: dict) -> tuple:
    """(expression [E], pose [5, 3], translation [3], yaw, pitch) of one jittered frame of `motion`."""
    pick = int(rng.integers(0, len(motion["pose"])))
    expression = np.asarray(motion["expression"][pick], np.float64)
    expression = np.clip(expression + rng.uniform(-1, 1, expression.shape) * config.expression_jitter, 0.0, 1.0)
    pose = np.asarray(motion["pose"][pick], np.float64).copy()
    eye = np.array([config.eye_jitter, config.eye_jitter, 0.0])
    jitter = {"jaw": np.array([config.jaw_jitter, 0.0, 0.0]), "neck": np.full(3, config.neck_jitter),
              "eye_left": eye, "eye_right": eye}
    for joint, scale in jitter.items():
        j = JOINT_NAMES.index(joint)
        pose[j] += rng.uniform(-1, 1, 3) * scale
        if joint in head.joint_limits:
            pose[j] = np.clip(pose[j], *head.joint_limits[joint])
    yaw = rng.uniform(-config.yaw_range, config.yaw_range)
    pitch = rng.uniform(-config.pitch_range, config.pitch_range)
    return (expression.astype(np.float32), pose.astype(np.float32),
            np.asarray(motion["translation"][pick], np.float32), yaw, pitch)


def frame_camera(head: HeadModel, size: int, yaw: float, pitch: float) -> Camera:
    """The camera of a training frame: the default framing of the rest head, orbited by yaw and pitch."""
    return default_framing(head.v_template, size, yaw=float(yaw), pitch=float(pitch))


def teacher_frames(config: NLDFConfig, head: HeadModel, teacher, teacher_name: str, specs: Specs,
                   cache: Path, reporter: Reporter | None = None) -> FrameSet:
    """Render (or read back from `cache`) the teacher frames of `specs` and prepare them for training."""
    reporter = reporter or silent()
    reporter.stage(f"teacher frames ({teacher_name})", len(specs))
    shards = []
    for start in range(0, len(specs), config.shard_frames):
        part = specs.slice(start, start + config.shard_frames)
        shards.append(cached_shard(config, head, teacher, teacher_name, part, cache))
        reporter.update(start + len(part))
    rgba = np.concatenate(shards).astype(np.float32)
    return prepare_frames(config, head, specs, rgba)


def shard_key(config: NLDFConfig, teacher_name: str, specs: Specs) -> str:
    """A hash of everything that makes a shard's pixels."""
    digest = hashlib.sha256(f"{CACHE_VERSION}|{teacher_name}|{config.image_size}".encode())
    for array in (specs.expression, specs.pose, specs.translation, specs.yaw, specs.pitch):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:20]


def cached_shard(config: NLDFConfig, head: HeadModel, teacher, teacher_name: str, specs: Specs,
                 cache: Path) -> np.ndarray:
    """Teacher RGBA [n, H, W, 4] (float16) of `specs`, from `cache` when a shard with its key is there."""
    path = Path(cache) / f"{teacher_name}_{config.image_size}_{shard_key(config, teacher_name, specs)}.npz"
    if path.exists():
        with np.load(path) as data:
            return data["rgba"]
    rgba = np.stack([teacher(specs.params(k), frame_camera(head, config.image_size, specs.yaw[k], specs.pitch[k]))
                     for k in range(len(specs))]).astype(np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")   # processes sharing a cache never collide
    np.savez_compressed(partial, rgba=rgba, expression=specs.expression, pose=specs.pose,
                        translation=specs.translation, yaw=specs.yaw, pitch=specs.pitch)
    partial.replace(path)
    return rgba


def prepare_frames(config: NLDFConfig, head: HeadModel, specs: Specs, rgba: np.ndarray) -> FrameSet:
    """Conditions, poses, cameras and region weight maps of rendered frames rgba [F, H, W, 4]."""
    size = config.image_size
    cameras = [frame_camera(head, size, specs.yaw[k], specs.pitch[k]) for k in range(len(specs))]
    transforms = head_transform(head, specs.pose, specs.translation, specs.expression)
    vertices, _ = head.forward(specs.expression, specs.pose, translation=specs.translation)
    marks = landmarks(head, vertices)
    ids = {int(i): k for k, i in enumerate(head.landmark_embedding.ids)}
    mouth = np.zeros((len(specs), size, size), bool)
    brows = np.zeros_like(mouth)
    eyes = np.zeros_like(mouth)
    for k, camera in enumerate(cameras):
        mouth[k] = region_mask(camera, marks[k, [ids[i] for i in MOUTH_LANDMARKS]], config.region_margin)
        for boxes, groups in ((brows, BROW_LANDMARKS), (eyes, EYE_LANDMARKS)):
            for group in groups:
                boxes[k] |= region_mask(camera, marks[k, [ids[i] for i in group]], config.region_margin)
    weights = 1.0 + config.mouth_weight * mouth + config.brow_weight * brows + config.eye_weight * eyes
    conditions = condition_vectors({"expression": specs.expression, "pose": specs.pose}, head)
    return FrameSet(rgba, conditions, transforms, cameras, weights.astype(np.float32), mouth, eyes)


def region_mask(camera: Camera, points: np.ndarray, margin: float) -> np.ndarray:
    """[H, W] bool: pixels whose centres lie in the bounding box of `points` [L, 3] projected by `camera`,
    grown by `margin` of the box's size on each side (at least one pixel)."""
    pixels, depth = camera.project(np.asarray(points, np.float64))
    mask = np.zeros((camera.height, camera.width), bool)
    pixels = pixels[depth > 0]
    if len(pixels) == 0:
        return mask
    low, high = pixels.min(axis=0), pixels.max(axis=0)
    grow = np.maximum(margin * (high - low), 1.0)
    low, high = low - grow, high + grow
    u = np.arange(camera.width) + 0.5
    v = np.arange(camera.height) + 0.5
    mask[:] = ((u >= low[0]) & (u <= high[0]))[None, :] & ((v >= low[1]) & (v <= high[1]))[:, None]
    return mask
