"""The track and render jobs: their rules, and the parts of their runs that need no video
or look (the fit's quality, the camera, the video's sound)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import InputError
from engine.jobs import RenderJob, TrackJob
from engine.jobs.render import camera_from_fields, video_audio
from engine.jobs.track import fit_quality
from engine.motion import MotionClip


@pytest.mark.parametrize("fields,sentence", [
    ({"start_s": -1.0}, "The start of the stretch to track must be 0 s or later, not -1.0."),
    ({"start_s": 2.0, "end_s": 1.0}, "The end of the stretch to track (1.0 s) must come after its start (2 s)."),
    ({"output": "take.mp4"}, "The output 'take.mp4' must end in .npz, .json or .csv."),
    ({"overlay": "fit.gif"}, "The overlay 'fit.gif' must be an .mp4 file."),
    ({"start_frame": -10**9}, "The start frame must be from -100000000 to 100000000, not -1000000000."),
])
def test_track_rules(fields, sentence):
    with pytest.raises(InputError) as error:
        TrackJob(video="talk.mp4", **fields).validate()
    assert str(error.value) == sentence


@pytest.mark.parametrize("fields,sentence", [
    ({"size": 4}, "The frame size must be from 8 to 4096 pixels, not 4."),
    ({"device": "npu"}, "Unknown device 'npu'; choose one of: auto, cpu, gpu."),
    ({"camera": {"width": 64}}, "The render job's camera lacks height, fx, fy, cx, cy, rotation, translation."),
    ({"video": "film.mov"}, "The video 'film.mov' must be an .mp4 file."),
    ({"video": "film.mp4", "audio": "gone.wav"}, "The audio file 'gone.wav' does not exist."),
    ({"models_dir": "no/such/folder"}, "The models folder 'no/such/folder' does not exist; choose an existing "
                                       "folder or clear it."),
])
def test_render_rules(fields, sentence):
    with pytest.raises(InputError) as error:
        RenderJob(clip="c.npz", output="frames", **fields).validate()
    assert str(error.value) == sentence


def test_a_good_track_and_render_job_pass():
    TrackJob(video="talk.mp4", output="take.csv", start_s=1.0, end_s=2.5, overlay="fit.mp4").validate()
    RenderJob(clip="c.npz", output="frames", size=64, video="film.mp4").validate()


def test_the_fit_quality_is_median_p95_and_worst_frames_first():
    quality = fit_quality([0.1, np.nan, 0.3, 0.2, 0.05, 0.4, 0.15])
    assert quality["median"] == pytest.approx(0.175)
    assert quality["p95"] == pytest.approx(np.percentile([0.1, 0.3, 0.2, 0.05, 0.4, 0.15], 95))
    assert quality["worst"] == [[5, 0.4], [2, 0.3], [3, 0.2], [6, 0.15], [0, 0.1]]
    assert fit_quality([np.nan, np.nan]) == {"median": None, "p95": None, "worst": []}


def test_camera_fields_make_the_engine_camera():
    fields = {"width": 64, "height": 48, "fx": 80.0, "fy": 81.0, "cx": 32.0, "cy": 24.0,
              "rotation": np.eye(3).ravel().tolist(), "translation": [0.0, 0.0, 1.5]}
    camera = camera_from_fields(fields)
    assert (camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy) == (64, 48, 80, 81, 32, 24)
    np.testing.assert_array_equal(camera.rotation, np.eye(3))
    np.testing.assert_array_equal(camera.translation, [0, 0, 1.5])
    assert camera_from_fields(None) is None


def test_the_videos_sound_is_the_jobs_else_the_clips_source_beside_it(tmp_path):
    clip = MotionClip(names=["jaw_rx"], values=np.zeros((2, 1), np.float32), fps=30.0,
                      metadata={"source_audio": "voice.wav"})
    path = clip.save(tmp_path / "c.npz")
    job = RenderJob(clip=str(path), output="frames", video="v.mp4")
    assert video_audio(job, clip) is None                        # the source is not beside the clip
    (tmp_path / "voice.wav").write_bytes(b"RIFF")
    assert video_audio(job, clip) == tmp_path / "voice.wav"
    other = RenderJob(clip=str(path), output="frames", video="v.mp4", audio=str(tmp_path / "other.wav"))
    assert video_audio(other, clip) == tmp_path / "other.wav"
