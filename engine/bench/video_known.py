"""A small talking video of the built-in head with known parameters, rendered by the engine (test fixture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FPS = 25.0
FRAMES = 40
SIZE = 256
BLINKS = ((12, 15), (30, 33))    # [first, last) frames with the eyes closed


def truth(frames: int = FRAMES):
    """Known parameters: expression [T, E] (blinks, a smile), pose [T, 5, 3] (head turn and nod, jaw)."""
    from engine.head import load_head

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

    from engine.preview.clip import render_clip_frames, video_frames
    from engine.preview.video import write_video

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
    from engine.head import load_head
    from engine.video.embedding import embedding_for
    from engine.video.rig import point_rig, posed

    head = load_head()
    emb = embedding_for(head)
    keep = [list(emb.indices).index(i) for i in (13, 14)]
    rig = point_rig(head, emb.faces[keep], emb.bary[keep])
    points, _ = posed(rig, np.zeros(len(head.shape_names)), np.asarray(expression, float), np.asarray(pose, float),
                      np.zeros((len(pose), 3)))
    return np.linalg.norm(points[:, 0] - points[:, 1], axis=1)
