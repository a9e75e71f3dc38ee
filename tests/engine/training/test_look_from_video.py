"""A look from a talking video, end to end at toy scale: the built-in head's known-answer video (30 frames,
256², 25 fps) tracked, matted, fitted by a tiny NeRF teacher, distilled into a tiny NLDF student and exported;
a rerun skips what is done, a stage whose output is gone is redone alone, the look renders any clip at the
asked size through engine.nldf and `python -m engine render`, and bad input is one sentence."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.bench import video_known

pytestmark = pytest.mark.skipif(not video_known.has_tracker(), reason="no Python with mediapipe 0.10.14 "
                                "(.venv-video from build.py setup, or TALKING_HEAD_TRACKER_PYTHON)")

FRAMES = 30
SIZE = 64
TINY = ["--size", str(SIZE), "--nerf-steps", "30", "--nldf-steps", "30", "--eval-frames", "2",
        "--nerf-set", "plane_resolutions=[16,32]", "--nerf-set", "plane_channels=4", "--nerf-set", "hidden=16",
        "--nerf-set", "samples=16", "--nerf-set", "importance_samples=8", "--nerf-set", "rays_per_step=256",
        "--nerf-set", "occupancy_resolution=0", "--nerf-set", "render_chunk=4096", "--nerf-set", "log_every=10",
        "--nldf-set", "frames=16", "--nldf-set", "eval_frames=2", "--nldf-set", "width=32", "--nldf-set", "blocks=2",
        "--nldf-set", "batch_rays=512", "--nldf-set", "log_every=10", "--nldf-set", "warmup_steps=5"]
STAGES = ("track", "matte", "teacher_set", "nerf", "nldf", "export")


def make(video, out, capsys, *extra) -> tuple[int, str, str]:
    from engine.training.nldf.__main__ import main

    code = main(["look-from-video", str(video), "--out", str(out), *TINY, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return video_known.render_video(tmp_path_factory.mktemp("video") / "known.mp4", frames=FRAMES, with_sound=False)


@pytest.fixture(scope="module")
def made(video, tmp_path_factory):
    """(out folder, the first run's stdout) of the look 'known' made from the known video."""
    from engine.training.nldf.__main__ import main

    out = tmp_path_factory.mktemp("looks") / "known"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["look-from-video", str(video), "--out", str(out), *TINY])
    assert code == 0
    return out, buffer.getvalue()


def test_every_stage_runs_and_the_sidecar_says_how_the_look_was_made(made, video):
    out, printed = made
    assert "expected time per stage" in printed
    for stage in STAGES:
        assert f"[{stage}] finished" in printed
        assert printed.index("expected time per stage") < printed.index(f"[{stage}] finished")
    sidecar = json.loads((out / "nldf_known.json").read_text())
    quality = sidecar["video"]
    train = int(round(0.8 * FRAMES))
    assert quality["source_video"] == video.name and quality["frames"] == FRAMES
    assert (quality["frames_trained"], quality["frames_held_out"]) == (train, FRAMES - train)
    assert all(train <= k < FRAMES for k in quality["heldout_scored"])     # scored only on held-out frames
    assert json.loads((out / "nerf" / "data.json").read_text())["frames"] == train   # fitted on the first 80 %
    for key in ("face_psnr_nerf_vs_real", "face_psnr_nldf_vs_real", "face_psnr_nldf_vs_nerf"):
        assert 5.0 < quality[key] < 60.0, (key, quality[key])
    assert quality["speed_ratio"] > 0 and quality["nldf_ms_per_frame"] > 0
    assert sidecar["look"] == "known" and sidecar["training"]["teacher"].startswith("nerf-")
    assert "look-from-video known.mp4" in sidecar["training"]["recipe"]


def test_the_matte_keeps_the_head_and_cuts_below_the_chin(made):
    with np.load(made[0] / "teacher_set" / "set.npz") as data:
        rgba, boxes = data["rgba"], data["face_boxes"]
    alpha = rgba[..., 3] / 255.0
    assert rgba.shape == (FRAMES, SIZE, SIZE, 4)
    u0, v0, u1, v1 = boxes[0]
    du, dv = (u1 - u0) / 4, (v1 - v0) / 4
    middle = alpha[0, int(v0 + dv):int(v1 - dv), int(u0 + du):int(u1 - du)]
    assert middle.size > 0 and middle.mean() > 0.9    # the face is matted in
    assert alpha[0, -2:, :].max() == 0.0              # the bottom rows (neck, below the cut) are not
    assert alpha[0, :, :2].max() < 0.05               # nor the background beside the head


def test_a_rerun_skips_what_is_done_and_redoes_only_a_stage_whose_output_is_gone(made, video, capsys):
    out, _ = made
    look = out / "nldf_known.onnx"
    before = look.stat().st_mtime_ns
    code, printed, _ = make(video, out, capsys)
    assert code == 0 and "every stage is done" in printed
    assert all(f"[{stage}] done before, skipped" in printed for stage in STAGES)
    assert look.stat().st_mtime_ns == before
    (out / "nldf" / "done.json").unlink()                     # as if the run was killed in stage 5
    (out / ".work" / "export").mkdir(parents=True, exist_ok=True)
    (out / ".work" / "export" / "half.onnx").write_bytes(b"half")
    code, printed, _ = make(video, out, capsys)
    assert code == 0
    for stage in ("track", "matte", "teacher_set", "nerf"):
        assert f"[{stage}] done before, skipped" in printed
    assert "[nldf] finished" in printed and "[export] finished" in printed
    assert not (out / ".work" / "export" / "half.onnx").exists()


def test_the_look_renders_any_clip_at_the_asked_size(made, tmp_path):
    from engine.cli.main import main as engine_main
    from engine.motion import MotionClip
    from engine.nldf.look import installed_looks, load_look
    from engine.nldf.render import render_clip

    out = made[0]
    assert "known" in installed_looks(out)                    # the add-on's models folder can be --out
    look = load_look("known", models_dir=out)
    tracked = MotionClip.load(out / "track" / "take.npz")     # Track Video's clip
    for clip, size in ((video_known.known_clip(3), 48), (tracked, 32)):
        frames = list(render_clip(clip, look, size=size))
        assert len(frames) == clip.num_frames
        assert frames[0].shape == (size, size, 4) and frames[0].dtype == np.uint8
        assert frames[0][..., 3].max() > 0
    clip_path = tmp_path / "clip.npz"
    video_known.known_clip(2).save(clip_path)                 # an Animate-style clip through the engine's CLI
    assert engine_main(["render", str(clip_path), "-o", str(tmp_path / "frames"), "--look", "known",
                        "--models-dir", str(out), "--size", "40"]) == 0
    assert len(list((tmp_path / "frames").glob("*.png"))) == 2


def one_sentence(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert lines[0].endswith("."), lines[0]
    return lines[0]


def test_bad_input_is_one_sentence(made, video, tmp_path, capsys):
    unreadable = tmp_path / "notes.mp4"
    unreadable.write_text("not a video at all")
    code, _, err = make(unreadable, tmp_path / "a", capsys)
    assert code != 0 and "not a readable video" in one_sentence(err)

    faceless = tmp_path / "wall.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=gray:s=128x128:d=0.6:r=25",
                    "-pix_fmt", "yuv420p", str(faceless)], check=True)
    code, _, err = make(faceless, tmp_path / "b", capsys)
    assert code != 0 and "face" in one_sentence(err)

    other = tmp_path / "known" / "other_person"
    other.mkdir(parents=True)
    shutil.copyfile(made[0] / "source.json", other / "source.json")     # a folder holding known.mp4's look
    code, _, err = make(faceless, other, capsys)
    assert code != 0 and "already holds the look made from 'known.mp4'" in one_sentence(err)

    crowded = tmp_path / "c"
    crowded.mkdir()
    (crowded / "thesis.txt").write_text("mine")
    code, _, err = make(video, crowded, capsys)
    assert code != 0 and "not a look from a video" in one_sentence(err)
    assert (crowded / "thesis.txt").read_text() == "mine"
