"""The bench's table of a look made from a real video (`engine.training.nldf.video_bench`): its rows from a
look's sidecar figures and stage times, the settings they name, and a note row where the video is missing."""

from __future__ import annotations

import json

import pytest

from engine.training.nldf import video_bench

QUALITY = {"source_video": "clip.mp4", "frames": 120, "frames_trained": 96, "frames_held_out": 24,
           "heldout_scored": [96, 119], "size": 64, "face_psnr_nerf_vs_real": 20.5, "face_psnr_nldf_vs_real": 19.75,
           "face_psnr_nldf_vs_nerf": 24.0, "nerf_ms_per_frame": 800.0, "nldf_ms_per_frame": 5.0, "speed_ratio": 160.0}


def test_the_rows_say_nldf_nerf_and_real_with_the_speed_ratio_and_the_time_to_make_it():
    stages = {"track": 10.0, "matte": 8.0, "teacher_set": 2.0, "nerf": 60.0, "nldf": 30.0, "export": 10.0}
    real, teacher, speed, made = video_bench.video_rows(QUALITY, stages, "the settings", "made by this run")
    assert "24 of 120 frames held out" in real.name and "64² crop" in real.name
    assert (real.value, real.baseline, real.unit) == (19.75, 20.5, "dB") and "the settings" in real.note
    assert real.target == video_bench.TARGETS["real"]
    assert teacher.value == 24.0 and "-0.75 dB" in teacher.note
    assert speed.value == pytest.approx(200.0) and speed.baseline == pytest.approx(1.25)
    assert speed.ratio == pytest.approx(160.0) and speed.target == video_bench.TARGETS["speed"]
    assert made.value == pytest.approx(2.0) and made.unit == "min"
    assert "nerf 60 s" in made.note and made.note.endswith("made by this run")


@pytest.mark.parametrize("quick", [True, False])
def test_the_settings_named_in_the_rows_are_the_ones_the_look_is_made_with(quick):
    end, size, nerf, nldf, eval_frames = video_bench.SETTINGS[quick]
    text = video_bench.settings_text(quick)
    assert f"first {end:g} s" in text and f"crop {size}²" in text and f"NeRF {nerf['steps']} steps" in text
    assert f"{nldf['steps']} steps on {nldf['frames']} NeRF frames" in text and video_bench.VIDEO in text


def test_the_stage_times_come_from_the_stages_done_markers(tmp_path):
    (tmp_path / "nerf").mkdir()
    (tmp_path / "nerf" / "done.json").write_text(json.dumps({"key": "k", "seconds": 61.5}))
    (tmp_path / ".export_done.json").write_text(json.dumps({"key": "k", "seconds": 9.0}))
    assert video_bench.stage_seconds(tmp_path) == {"nerf": 61.5, "export": 9.0}


def test_without_the_video_the_table_is_one_row_saying_what_it_needs(tmp_path, monkeypatch):
    monkeypatch.setattr(video_bench, "VIDEOS", tmp_path)
    (row,) = video_bench.look_from_video_rows(True, tmp_path)
    assert row.value == 0.0 and "needs" in row.note and video_bench.VIDEO in row.note
