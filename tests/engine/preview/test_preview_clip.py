"""Rendering a clip's frames from a small head model."""

import numpy as np
import pytest

from engine.errors import InputError
from engine.head.model import HeadModel
from engine.preview.clip import render_clip_frames, video_frames
from engine.progress import Reporter
from tests.meshes import uv_sphere


def _ball_head():
    """A FLAME-structured icosphere-like ball whose one expression pushes it along +Z."""
    verts, faces = uv_sphere(rings=8, segments=12)
    V = len(verts)
    exprdirs = np.zeros((V, 3, 1))
    exprdirs[:, 2, 0] = 0.05
    weights = np.zeros((V, 5))
    weights[:, 0] = 1.0
    return HeadModel(name="ball", v_template=verts, faces=faces, shapedirs=np.zeros((V, 3, 0)), shape_names=[],
                     exprdirs=exprdirs, expression_names=["push"], posedirs=np.zeros((V, 3, 36)),
                     j_regressor=np.full((5, V), 1.0 / V), weights=weights)


def test_clip_frames_follow_the_pose():
    head = _ball_head()
    T = 5
    pose = np.zeros((T, 5, 3), np.float32)
    translation = np.zeros((T, 3), np.float32)
    translation[:, 0] = np.linspace(-0.05, 0.05, T)  # slides to the subject's left: image right
    events = []
    frames = list(render_clip_frames(head, np.zeros((T, 1)), pose, size=32, translation=translation,
                                     reporter=Reporter(events.append)))
    assert len(frames) == T and frames[0].shape == (32, 32, 4)
    centres = [(f[..., 3] * np.arange(32)).sum() / f[..., 3].sum() for f in frames]
    assert np.all(np.diff(centres) > 0)
    assert events[-1].done == T
    rgb = list(video_frames(frames[:1]))[0]
    assert rgb.dtype == np.uint8 and rgb.shape == (32, 32, 3)


def test_clip_frames_check_lengths():
    head = _ball_head()
    with pytest.raises(InputError):
        list(render_clip_frames(head, np.zeros((3, 1)), np.zeros((4, 5, 3)), size=16))


def test_a_motion_clip_renders_and_plots():
    from engine.motion.clip import MotionClip
    from engine.preview.clip import render_motion_clip
    from engine.preview.plot import clip_plot

    head = _ball_head()
    clip = MotionClip(names=["push", "global_ry"], values=np.array([[0.0, 0.0], [1.0, 0.3], [0.5, 0.6]]), fps=25)
    frames = list(render_motion_clip(head, clip, size=24, supersample=1))
    assert len(frames) == 3 and not np.allclose(frames[0], frames[1])
    assert clip_plot(clip, size=(200, 120)).shape == (120, 200, 3)
