"""Known answers for video tracking: the built-in head performing known parameters, rendered by the
engine (its mesh renderer, or a look), tracked back and compared (the tests' fixture and a bench suite)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FPS = 25.0
FRAMES = 40
SIZE = 256
BLINKS = ((12, 15), (30, 33))    # [first, last) frames with the eyes closed


def has_tracker() -> bool:
    """Whether a Python with MediaPipe is found for the tracker (the tracking tests and rows need one)."""
    from ..video.errors import TrackerMissingError
    from ..video.landmarks import tracker_python

    try:
        tracker_python()
    except TrackerMissingError:
        return False
    return True


def truth(frames: int = FRAMES):
    """Known parameters: expression [T, E] (blinks, a smile), pose [T, 5, 3] (head turn and nod, jaw)."""
    from ..head import load_head

    head = load_head()
    t = np.arange(frames)
    expression = np.zeros((frames, len(head.expression_names)))
    for a, b in BLINKS:
        for name in ("eyeBlinkLeft", "eyeBlinkRight"):
            expression[a:b, head.expression_index(name)] = 1.0
    smile = 0.5 * np.clip(np.sin(2 * np.pi * t / frames), 0, None)
    for name in ("mouthSmileLeft", "mouthSmileRight"):
        expression[:, head.expression_index(name)] = smile
    pose = np.zeros((frames, 5, 3))
    pose[:, 1, 1] = np.radians(18.0) * np.sin(2 * np.pi * t / frames)         # turn
    pose[:, 1, 0] = np.radians(8.0) * np.sin(2 * np.pi * t / (frames / 2))    # nod
    pose[:, 1, 2] = np.radians(5.0) * np.cos(2 * np.pi * t / frames)          # tilt
    pose[:, 2, 0] = 0.22 * (0.5 - 0.5 * np.cos(2 * np.pi * t / 10.0))          # the jaw opens and shuts
    return head, expression, pose


def render_video(path: Path, frames: int = FRAMES, with_sound: bool = True) -> Path:
    """Render the known performance to an MP4 (with a tone as its sound) and return its path."""
    import subprocess

    from ..preview.clip import render_clip_frames, video_frames
    from ..preview.video import write_video

    head, expression, pose = truth(frames)
    sound = None
    if with_sound:
        sound = path.with_suffix(".wav")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"sine=frequency=220:duration={frames / FPS}", str(sound)], check=True)
    rgba = render_clip_frames(head, expression, pose, size=SIZE, supersample=1)
    return write_video(path, video_frames(rgba), FPS, sound, crf=14)


def inner_lip_gap(expression, pose) -> np.ndarray:
    """The true gap [T] between the middles of the inner lips (metres)."""
    from ..head import load_head
    from ..video.embedding import embedding_for
    from ..video.rig import point_rig, posed

    head = load_head()
    emb = embedding_for(head)
    keep = [list(emb.indices).index(i) for i in (13, 14)]
    rig = point_rig(head, emb.faces[keep], emb.bary[keep])
    points, _ = posed(rig, np.zeros(len(head.shape_names)), np.asarray(expression, float), np.asarray(pose, float),
                      np.zeros((len(pose), 3)))
    return np.linalg.norm(points[:, 0] - points[:, 1], axis=1)


def known_clip(frames: int = FRAMES):
    """The known performance as a MotionClip at FPS (expressions and pose channels)."""
    from ..motion import MotionClip
    from ..motion.channels import POSE_CHANNELS

    head, expression, pose = truth(frames)
    return MotionClip(list(head.expression_names) + list(POSE_CHANNELS),
                      np.concatenate([expression, pose.reshape(frames, -1)], axis=1), FPS)


def render_look_video(path: Path, look: str, frames: int = FRAMES) -> Path:
    """The known performance rendered in a shipped look (toon, clay) to an MP4."""
    import subprocess
    import sys
    import tempfile

    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        clip_path = Path(tmp) / "known.npz"
        known_clip(frames).save(clip_path)
        subprocess.run([sys.executable, "-m", "engine", "render", str(clip_path), "-o", str(Path(tmp) / "frames"),
                        "--look", look, "--size", str(SIZE), "--video", str(path)], check=True, capture_output=True,
                       cwd=root)
    return path


def compare(take, frames: int = FRAMES) -> dict:
    """Errors of a tracked known video: mean |rotation error| per axis (degrees: pitch, yaw, roll),
    the fitted and MediaPipe's inner-lip gap correlations with the truth, and blinks found."""
    from ..video.track import lip_gaps

    _, expression, pose = truth(frames)
    clip = take.clip
    fitted = np.stack([clip.channel(f"neck_r{a}") for a in "xyz"], axis=1)
    error = np.degrees(np.abs(fitted - pose[:, 1]))
    gap_fit, gap_seen = lip_gaps(take.fit)
    true_gap = inner_lip_gap(expression, pose)
    blink = 0.5 * (clip.channel("eyeBlinkLeft") + clip.channel("eyeBlinkRight"))
    return {"rotation_mean_deg": error.mean(axis=0), "rotation_max_deg": error.max(axis=0),
            "lip_r": float(np.corrcoef(gap_fit, true_gap)[0, 1]),
            "mediapipe_lip_r": float(np.corrcoef(gap_seen, true_gap)[0, 1]),
            "blinks_found": sum(bool((blink[a:b] > 0.6).any()) for a, b in BLINKS),
            "false_blinks": int(np.sum((blink > 0.6) & ~_blink_frames(len(blink))))}


def _blink_frames(T: int) -> np.ndarray:
    out = np.zeros(T, bool)
    for a, b in BLINKS:
        out[max(0, a - 1):b + 1] = True
    return out
