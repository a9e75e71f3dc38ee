"""The fit without MediaPipe: landmarks projected from known parameters are fitted back.

These run wherever numpy runs (also the Python 3.13 / numpy 2 environments, which have no tracker).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.head import load_head
from engine.head.landmarks import landmarks
from engine.video import fit as vfit
from engine.video.embedding import embedding_for
from engine.video.landmarks import VideoLandmarks
from engine.video.rig import point_rig, posed
from engine.video.solve import fit_video

W = H = 400


@pytest.fixture(scope="module")
def head():
    return load_head()


def test_point_rig_is_the_head_forward_pass_at_its_points(head):
    emb = head.landmark_embedding
    rig = point_rig(head, emb.faces, emb.bary)
    rng = np.random.default_rng(0)
    expression = rng.uniform(0, 0.6, (3, len(head.expression_names)))
    pose, translation = rng.normal(0, 0.2, (3, 5, 3)), rng.normal(0, 0.01, (3, 3))
    shape = rng.normal(0, 1, len(head.shape_names))
    verts, _ = head.forward(expression, pose, shape, translation)
    points, _ = posed(rig, shape, expression, pose, translation)
    assert np.abs(points - landmarks(head, verts)).max() < 1e-5 * 100     # float32 forward vs float64 rig


def _known_marks(head, frames: int = 30):
    """MediaPipe-like landmarks [T, 478, 3] of the head posed with known parameters, seen by a 20° camera."""
    emb = embedding_for(head)
    problem = vfit.make_problem(head, emb, W, H, vfit.FitSettings())
    problem.distance = 0.9
    rig = point_rig(head, emb.faces, emb.bary)
    E = len(head.expression_names)
    t = np.arange(frames)
    q = np.zeros((frames, vfit.NUM_POSE + E))
    q[:, 0] = np.radians(10) * np.sin(2 * np.pi * t / frames)            # nod
    q[:, 1] = np.radians(25) * np.sin(2 * np.pi * t / (frames / 2))      # turn
    q[:, 3] = 0.2 * (t % 10) / 10                                         # jaw
    q[10:13, vfit.NUM_POSE + head.expression_index("eyeBlinkLeft")] = 1.0
    q[:, vfit.NUM_POSE + head.expression_index("mouthSmileRight")] = 0.6 * (t > frames / 2)
    expression, pose, translation = vfit.unpack(q, E)
    points, _ = posed(rig, np.zeros(len(head.shape_names)), expression, pose, translation)
    uv, _ = vfit.project(problem, points)
    marks = np.full((frames, 478, 3), np.nan, np.float32)
    marks[:, emb.indices, :2] = uv
    marks[:, emb.indices, 2] = 0.0
    return VideoLandmarks(marks, np.ones(frames, np.int32), np.zeros(frames), 25.0, 0.0, W, H), q


def test_exact_landmarks_give_back_the_pose_and_the_blink(head):
    marks, truth = _known_marks(head)
    fit = fit_video(head, embedding_for(head), marks)
    rotation = np.degrees(np.abs(fit.params[:, :3] - truth[:, :3]))
    assert rotation.max() < 1.5 and rotation.mean() < 0.5, rotation.max(axis=0)
    blink = fit.params[:, vfit.NUM_POSE + head.expression_index("eyeBlinkLeft")]
    assert blink[10:13].min() > 0.8 and np.delete(blink, range(9, 14)).max() < 0.2
    assert np.nanmedian(fit.error) < 0.005 and fit.fov_y == 20.0


def test_lost_frames_are_bridged_between_their_neighbours(head):
    marks, truth = _known_marks(head)
    marks.points[14:18] = np.nan
    marks.faces[14:18] = 0
    with pytest.warns(UserWarning, match="bridged"):
        fit = fit_video(head, embedding_for(head), marks)
    assert fit.bridged[14:18].all() and not fit.bridged[:14].any() and np.isnan(fit.error[14:18]).all()
    ramp = fit.params[13:19, 1]
    assert np.allclose(ramp, np.linspace(ramp[0], ramp[-1], 6), atol=1e-9)   # straight line across the gap
    assert (fit.confidence[14:18] == 0).all() and (fit.confidence[:14] > 0.5).all()


def test_no_face_at_all_is_an_error(head):
    from engine.video.errors import NoFaceError

    marks, _ = _known_marks(head, frames=5)
    marks.faces[:] = 0
    with pytest.raises(NoFaceError, match="No face was found"):
        fit_video(head, embedding_for(head), marks)


def test_a_flatter_depth_like_mediapipes_is_scaled_and_keeps_the_exact_pose(head):
    """MediaPipe's z is the depth pattern at about 0.75 of the head's: the fit finds that scale on the
    keyframes and, the depth agreeing with the pixels, still gives back the pose."""
    marks, truth = _known_marks(head)
    emb = embedding_for(head)
    problem = vfit.make_problem(head, emb, W, H, vfit.FitSettings())
    problem.distance = 0.9
    rig = point_rig(head, emb.faces, emb.bary)
    expression, pose, translation = vfit.unpack(truth, len(head.expression_names))
    points, _ = posed(rig, np.zeros(len(head.shape_names)), expression, pose, translation)
    marks.points[:, emb.indices, 2] = 0.75 * vfit.relative_depth(problem, points) + 40.0   # MediaPipe's own origin
    fit = fit_video(head, emb, marks)
    assert abs(fit.problem.depth_scale - 0.75) < 0.05, fit.problem.depth_scale
    rotation = np.degrees(np.abs(fit.params[:, :3] - truth[:, :3]))
    assert rotation.max() < 1.5 and rotation.mean() < 0.5, rotation.max(axis=0)


def test_frames_arriving_in_pieces_are_fitted_once_the_identity_window_has_come(head):
    """The streaming fit waits for the opening window's frames (here 0.4 s, 10 frames), then fits each
    frame as it comes, and ends with the same exact pose as a whole-video fit."""
    from engine.video.solve import StreamingFit

    marks, truth = _known_marks(head)
    stream = StreamingFit(head, embedding_for(head), W, H, marks.fps, vfit.FitSettings(identity_seconds=0.4))
    fitted = []
    for first in range(0, 30, 4):
        stream.add(marks.points[first:first + 4], marks.found[first:first + 4])
        fitted.append(stream.fit(ended=False))
    assert fitted[:2] == [0, 0] and fitted[2] == 12 and fitted[3:] == [4, 4, 4, 4, 2], fitted
    fit = stream.finish()
    rotation = np.degrees(np.abs(fit.params[:, :3] - truth[:, :3]))
    assert rotation.max() < 1.5 and rotation.mean() < 0.5, rotation.max(axis=0)
    assert stream.cpu["identity_cpu_s"] > 0 and stream.cpu["frames_cpu_s"] > 0


def test_kept_rotation_columns_serve_nearby_frames_and_fit_as_fresh_ones_do(head, monkeypatch):
    marks, truth = _known_marks(head)
    marks.points[:] = np.repeat(marks.points[:1], len(marks.points), axis=0)    # a still head: every frame near
    kept, real = [], vfit._linearised

    def linearised(problem, q, target, scale, columns=None, rotations=None):
        kept.append(rotations is not None)
        return real(problem, q, target, scale, columns, rotations)
    monkeypatch.setattr(vfit, "_linearised", linearised)
    fresh = fit_video(head, embedding_for(head), marks, vfit.FitSettings(jacobian_frames=1))
    assert not any(kept)
    kept.clear()
    reused = fit_video(head, embedding_for(head), marks, vfit.FitSettings(jacobian_frames=4))
    assert sum(kept) >= len(marks.points) // 2                        # 3 of every 4 warm frames
    assert np.abs(reused.params - fresh.params).max() < 1e-3
