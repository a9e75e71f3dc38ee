"""Tracking known answers: the built-in head rendered with known parameters is tracked back.

Measured on this fixture (40 frames, 256²): head rotation mean error yaw ~1.1°, roll ~0.7°,
pitch ~2.6° (MediaPipe's 2D points understate nods of the rendered head by half; fitting its
depth too brings the nod to ~0.55 of the truth); inner-lip gap correlation ~0.96 with the truth
(MediaPipe's own two points: ~0.95); both blinks found.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from engine.bench import video_known as ka
from conftest import ffmpeg, needs_tracker
from engine.cli.main import main
from engine.motion import MotionClip
from engine.motion.channels import known_channels

pytestmark = [needs_tracker, pytest.mark.slow]


@pytest.fixture(scope="module")
def known_take(known_video, tmp_path_factory):
    """The known video tracked through the CLI, with an overlay."""
    out = tmp_path_factory.mktemp("take")
    assert main(["track", str(known_video), "-o", str(out / "take.npz"), "--overlay", str(out / "check.mp4")]) == 0
    return out


def _truth():
    head, expression, pose = ka.truth()
    return head, expression, pose


def test_head_rotation_matches_the_truth(known_take):
    clip = MotionClip.load(known_take / "take.npz")
    _, _, pose = _truth()
    fitted = np.stack([clip.channel(f"neck_r{a}") for a in "xyz"], axis=1)
    error = np.degrees(np.abs(fitted - pose[:, 1]))              # [T, 3] pitch, yaw, roll
    assert error[:, 1].mean() < 2.0 and error[:, 2].mean() < 2.0, error.mean(axis=0)
    assert error[:, 0].mean() < 3.0 and error.max() < 8.0, (error.mean(axis=0), error.max(axis=0))


def test_inner_lip_gap_follows_the_truth(known_take):
    side = np.load(known_take / "take.track.npz")
    _, expression, pose = _truth()
    where = {int(i): k for k, i in enumerate(side["mediapipe_indices"])}
    fitted = side["fitted_landmarks"]
    gap = np.linalg.norm(fitted[:, where[13]] - fitted[:, where[14]], axis=1)
    assert np.corrcoef(gap, ka.inner_lip_gap(expression, pose))[0, 1] > 0.95   # measured 0.959


def test_every_blink_is_found(known_take):
    clip = MotionClip.load(known_take / "take.npz")
    blink = 0.5 * (clip.channel("eyeBlinkLeft") + clip.channel("eyeBlinkRight"))
    closed = blink > 0.6
    for a, b in ka.BLINKS:
        assert closed[a:b].any(), (a, b, blink.round(2))
    truth = np.zeros(len(blink), bool)
    for a, b in ka.BLINKS:
        truth[max(0, a - 1):b + 1] = True
    assert not (closed & ~truth).any(), blink.round(2)           # no blink where the eyes were open


def test_take_is_a_clip_every_path_takes(known_take):
    clip = MotionClip.load(known_take / "take.npz")
    head, _, _ = _truth()
    assert clip.fps == 25.0 and clip.num_frames == ka.FRAMES
    clip.validate(known_channels(head.expression_names))
    assert {"neck_rx", "jaw_rx", "eye_left_ry", "eyeBlinkLeft", "global_tz"} <= set(clip.names)
    meta = clip.metadata
    assert meta["source_video"] == "known.mp4" and meta["sidecar"] == "take.track.npz"
    assert set(meta["identity"]) == set(head.shape_names) and meta["camera"]["width"] == ka.SIZE
    assert meta["landmark_error_median"] < 0.03 and meta["bridged_frames"] == []
    side = np.load(known_take / "take.track.npz")
    assert side["intrinsics"].shape == (ka.FRAMES, 3, 3) and side["extrinsics"].shape == (ka.FRAMES, 3, 4)
    assert side["landmark_error"].shape == (ka.FRAMES,) and np.all(side["confidence"] > 0.5)


def test_camera_in_the_sidecar_reprojects_the_fit(known_take):
    """The sidecar's camera and the clip's head reproduce the fitted landmarks (without per-person offsets
    they land within a few percent of the eye distance)."""
    from engine.head import load_head
    from engine.head.landmarks import landmarks
    from engine.video.embedding import embedding_for

    clip, side = MotionClip.load(known_take / "take.npz"), np.load(known_take / "take.track.npz")
    head = load_head()
    emb = embedding_for(head)
    head.landmark_embedding = type(head.landmark_embedding)(emb.faces, emb.bary, emb.indices)
    params = clip.head_params(head)
    t = 5
    verts, _ = head.forward(params["expression"][t], params["pose"][t], side["shape"], params["translation"][t:t + 1])
    world = landmarks(head, verts[0])
    K, Rt = side["intrinsics"][t], side["extrinsics"][t]
    cam = world @ Rt[:, :3].T + Rt[:, 3]
    uv = (cam @ K.T)[:, :2] / cam[:, 2:3]
    where = {int(i): k for k, i in enumerate(side["mediapipe_indices"])}
    rows = [k for k, i in enumerate(emb.indices) if int(i) in where]
    seen = side["landmarks"][t][[where[int(emb.indices[k])] for k in rows]]
    error = np.median(np.linalg.norm(uv[rows] - seen, axis=1)) / side["inter_ocular_px"][t]
    assert error < 0.06


def test_overlay_has_every_frame_and_the_sound(known_take):
    probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json",
                            str(known_take / "check.mp4")], capture_output=True, text=True, check=True)
    streams = json.loads(probe.stdout)["streams"]
    kinds = {s["codec_type"]: s for s in streams}
    assert set(kinds) == {"video", "audio"}
    assert int(kinds["video"]["nb_read_frames"]) == ka.FRAMES


def test_a_video_without_a_face_is_an_error(tmp_path, capsys):
    empty = tmp_path / "wall.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=128x128:d=0.5:r=25", empty)
    assert main(["track", str(empty), "-o", str(tmp_path / "take.npz")]) == 2
    assert "No face was found" in capsys.readouterr().err
    assert not (tmp_path / "take.npz").exists()


def test_a_face_leaving_the_picture_is_bridged_and_flagged(known_video, tmp_path):
    from engine.video import track_video

    moving = tmp_path / "leaves.mp4"      # the picture slides right until the face is out, then back
    ffmpeg("-i", known_video, "-vf", "pad=512:256:0:0:black,crop=256:256:'256*min(1,max(0,1-abs(t-0.8)*4))':0",
           "-an", moving)
    with pytest.warns(UserWarning, match="bridged"):
        take = track_video(moving)
    bridged = take.fit.bridged
    assert bridged[18:22].all() and not bridged[:8].any() and not bridged[-6:].any()
    assert np.all(np.isfinite(take.clip.values)) and take.clip.metadata["bridged_frames"][0] >= 8


def test_two_faces_track_the_larger_with_a_warning(known_video, tmp_path):
    from engine.video import track_video

    pair = tmp_path / "pair.mp4"
    ffmpeg("-i", known_video, "-filter_complex", "[0:v]split[a][b];[b]scale=160:160,pad=160:256:0:48[s];"
           "[a][s]hstack", "-an", pair)
    with pytest.warns(UserWarning, match="two faces"):
        take = track_video(pair)
    iod = np.median(take.fit.iod)
    assert 50 < iod < 90                                       # the 256² face, not the 160² one


def test_a_truncated_video_tracks_what_is_there_with_a_warning(known_video, tmp_path):
    from engine.video import track_video

    cut = tmp_path / "cut.mp4"
    ffmpeg("-i", known_video, "-movflags", "+faststart", "-c", "copy", tmp_path / "fast.mp4")
    data = (tmp_path / "fast.mp4").read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.warns(UserWarning, match="truncated"):
        take = track_video(cut)
    assert 5 < take.clip.num_frames < ka.FRAMES


def test_start_and_end_pick_part_of_the_video(known_video, tmp_path):
    from engine.video import track_video

    take = track_video(known_video, start=0.4, end=1.0)
    assert take.clip.num_frames == 15 and take.clip.metadata["video_start_s"] == 0.4


def test_a_head_without_an_embedding_needs_a_landmarks_file(known_video, tmp_path, capsys):
    from engine.head import load_head, save_head_npz

    save_head_npz(load_head(), tmp_path / "other.npz")
    assert main(["track", str(known_video), "-o", str(tmp_path / "t.npz"), "--head", str(tmp_path / "other.npz")]) == 2
    assert "--landmarks" in capsys.readouterr().err


def test_a_flame_style_embedding_file_is_used(known_video, tmp_path):
    """FLAME distributes MediaPipe's embedding as landmark_indices / lmk_face_idx / lmk_b_coords; a
    subset of ours written that way tracks the built-in head too."""
    from engine.head import load_head
    from engine.video import VideoError, track_video
    from engine.video.embedding import embedding_for

    ours = embedding_for(load_head())
    keep = np.arange(0, len(ours.indices), 3)
    keep = np.union1d(keep, [list(ours.indices).index(i) for i in (33, 263, 61, 291, 13, 14)])
    path = tmp_path / "mediapipe_landmark_embedding.npz"
    np.savez(path, landmark_indices=ours.indices[keep], lmk_face_idx=ours.faces[keep], lmk_b_coords=ours.bary[keep])
    take = track_video(known_video, landmarks=path, end=0.8)
    ring = sum(int(i) in set(range(469, 473)) | set(range(474, 478)) for i in ours.indices[keep])
    assert take.fit.problem.rig.num_points == len(keep) - ring and np.nanmedian(take.fit.error) < 0.04
    corner = list(ours.indices[keep]).index(33)
    np.savez(path, landmark_indices=np.delete(ours.indices[keep], corner),
             lmk_face_idx=np.delete(ours.faces[keep], corner), lmk_b_coords=np.delete(ours.bary[keep], corner, 0))
    with pytest.raises(VideoError, match="outer eye and mouth corners"):
        track_video(known_video, landmarks=path)
