"""Track Video (video mocap) in Blender: a video of the built-in head with known blinks, tracked in the engine's
child process, keyed on the built-in head and on an ARKit-named face in one undo step; the movie and its
sound in the sequencer (the user's strips untouched); the fit's quality in the panel; a video without a
face or a Python without MediaPipe is a sentence and the scene stays as it was."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from engine.bench import video_known as ka  # the known-answer video the engine's tracking tests use

bpy = pytest.importorskip("bpy")


def ffmpeg(*args) -> None:
    import subprocess

    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True)


pytestmark = pytest.mark.skipif(not ka.has_tracker(), reason="no Python with mediapipe 0.10.14 (.venv-video)")
WITH_UNDO = ('EXEC_DEFAULT', True)  # as from the UI: the operator pushes its undo step


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    """The known-answer video: 40 frames at 25 fps of the built-in head blinking twice, with a tone."""
    return ka.render_video(tmp_path_factory.mktemp("talk") / "talk.mp4")


def curve(id_block, path, index=0):
    """(frames [n], values [n]) keyed on `path[index]` in the ID's Action, or None."""
    from addon.blender.action_compat import fcurves_of

    ad = getattr(id_block, "animation_data", None)
    if ad is None or ad.action is None:
        return None
    fc = next((f for f in fcurves_of(ad.action) if f.data_path == path and f.array_index == index), None)
    if fc is None:
        return None
    keys = np.array([tuple(k.co) for k in fc.keyframe_points])
    return keys[:, 0], keys[:, 1]


def panel_labels(context) -> list:
    """The label texts the Track Video panel draws."""
    from addon.ui.track_panel import TALKINGHEAD_PT_track

    from test_retarget import Recorder

    texts: list = []
    TALKINGHEAD_PT_track.draw(type("FakePanel", (), {"layout": Recorder(texts)})(), context)
    return texts


def strip_facts(scene) -> list:
    from addon.blender import sequencer

    return sorted((s.name, s.type, s.channel, s.frame_start, s.frame_offset_start, s.frame_offset_end)
                  for s in sequencer.all_strips(scene))


def test_track_video_keys_the_builtin_head_with_its_movie_and_sound_in_one_undo_step(blender, talk, tmp_path):
    from addon.blender import target_rig

    from addon_fixtures import write_voice

    scene = blender.scene
    scene.render.fps = 24                                     # the video's 25 fps becomes the scene's
    assert bpy.ops.talking_head.add_builtin_head() == {'FINISHED'}
    head = scene.talking_head.target = next(o for o in scene.objects if o.type == 'MESH')
    editor = scene.sequence_editor_create()
    editor.strips.new_sound("Dialogue", str(write_voice(tmp_path, 1.0)), 1, 1)  # the user's, on channel 1
    users = strip_facts(scene)
    track = scene.talking_head_track
    track.video_path, track.start_frame = str(talk), 5
    bpy.ops.ed.undo_push(message="before tracking")
    assert bpy.ops.talking_head.track_video(*WITH_UNDO) == {'FINISHED'}

    assert scene.render.fps == 25 and scene.render.fps_base == 1.0
    frames, blink = curve(head.data.shape_keys, 'key_blocks["eyeBlinkLeft"].value')
    np.testing.assert_array_equal(frames, np.arange(5, 5 + ka.FRAMES))
    for a, b in ka.BLINKS:                                    # each blink of the video is on its scene frames
        assert blink[a:b].max() > 0.6 and blink[a - 6:a - 3].max() < 0.3, blink.round(2)
    assert curve(target_rig.find_armature(head), 'pose.bones["neck"].rotation_quaternion', 2) is not None  # the turn
    ours = {s.get("talking_head"): s for s in editor.strips if s.name != "Dialogue"}
    movie, sound = ours["video"], ours["voice"]
    assert (movie.type, movie.frame_start, movie.frame_final_duration) == ('MOVIE', 5, ka.FRAMES)
    assert (sound.type, sound.frame_start) == ('SOUND', 5) and movie.channel > sound.channel
    assert [f for f in strip_facts(scene) if f[0] == "Dialogue"] == users
    assert "median" in track.quality and track.worst.startswith("Worst frames: ")
    assert track.bridged == "No frames bridged." and "from talk.mp4" in track.status
    assert panel_labels(blender) == [track.status, track.quality, track.worst, track.bridged]

    name = head.name
    bpy.ops.ed.undo()                                         # one step takes keys, strips and the rate away
    head = bpy.data.objects[name]
    assert curve(head.data.shape_keys, 'key_blocks["eyeBlinkLeft"].value') is None
    assert strip_facts(bpy.context.scene) == users and bpy.context.scene.render.fps == 24


def test_a_users_movie_strip_keys_an_arkit_face_and_the_take_exports(blender, talk, tmp_path):
    from addon.engine_link import results
    from engine.motion import MotionClip

    from test_retarget import arkit_character

    scene = blender.scene
    scene.render.fps = 25
    face = arkit_character(blender, keys=("EyeBlink_L", "EyeBlink_R", "JawOpen", "MouthSmile_L"))
    scene.talking_head.target = face
    editor = scene.sequence_editor_create()
    editor.strips.new_movie("Take 3", str(talk), 2, 11).frame_offset_start = 10  # shows video frames 10-39
    before = strip_facts(scene)
    track = scene.talking_head_track
    track.video_source, track.movie_strip = 'STRIP', "Take 3"
    assert bpy.ops.talking_head.track_video() == {'FINISHED'}

    assert strip_facts(scene) == before                       # the user's strip only read, none of ours added
    frames, blink = curve(face.data.shape_keys, 'key_blocks["EyeBlink_L"].value')
    np.testing.assert_array_equal(frames, np.arange(21, 11 + ka.FRAMES))  # the part the strip shows, in step
    (a, b), t = ka.BLINKS[1], frames.astype(int) - 11                      # t: the video frame of each key
    assert blink[(t >= a) & (t < b)].max() > 0.6 and blink[(t >= a - 6) & (t < a - 3)].max() < 0.3, blink.round(2)
    assert curve(face.data.shape_keys, 'key_blocks["JawOpen"].value') is not None
    clip = results.latest(face)
    for fmt, name in (("NPZ", "take.npz"), ("JSON", "take.json"), ("CSV", "take.csv")):
        assert bpy.ops.talking_head.export_clip(filepath=str(tmp_path / name), file_format=fmt) == {'FINISHED'}
    for name in ("take.npz", "take.json"):
        again = MotionClip.load(tmp_path / name)
        assert again.names == clip.names and np.allclose(again.values, clip.values, atol=1e-6)
    arkit = MotionClip.from_arkit_csv(tmp_path / "take.csv")
    np.testing.assert_allclose(arkit.channel("eyeBlinkLeft"), np.clip(clip.channel("eyeBlinkLeft"), 0, 1), atol=1e-3)


def test_a_video_without_a_face_is_a_sentence_and_the_scene_is_unchanged(blender, tmp_path):
    from addon.ops import track_ops

    from test_retarget import arkit_character

    scene = blender.scene
    face = arkit_character(blender)
    scene.talking_head.target = face
    wall = tmp_path / "wall.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=128x128:d=0.5:r=25", wall)
    scene.talking_head_track.video_path = str(wall)
    fps = scene.render.fps
    with pytest.raises(RuntimeError, match="No face was found in 'wall.mp4'"):
        bpy.ops.talking_head.track_video()
    assert "No face was found" in track_ops.last_failure(scene) and panel_labels(blender) == [
        track_ops.last_failure(scene)]
    assert face.data.shape_keys.animation_data is None and strip_facts(scene) == [] and scene.render.fps == fps


def test_a_tracker_python_without_mediapipe_is_a_sentence(blender, prefs, talk):
    from addon.ops import track_ops

    from test_retarget import arkit_character

    scene = blender.scene
    scene.talking_head.target = arkit_character(blender)
    scene.talking_head_track.video_path = str(talk)
    prefs.tracker_python = str(Path(blender.preferences.filepaths.temporary_directory or "/") / "no-such-python")
    with pytest.raises(RuntimeError, match="Tracker Python .* does not exist"):  # checked before anything starts
        bpy.ops.talking_head.track_video()
    prefs.tracker_python = sys.executable                       # a Python, but one without mediapipe
    with pytest.raises(RuntimeError, match="set Tracker Python in the Talking Head preferences"):
        bpy.ops.talking_head.track_video()
    assert track_ops.last_failure(scene) == track_ops.NO_TRACKER
    assert scene.talking_head.target.data.shape_keys.animation_data is None and strip_facts(scene) == []


def test_a_video_as_the_reference_clip_gives_its_style_through_the_animate_job(talk, tmp_path):
    """The add-on's reference field takes a video: the Animate job's child tracks it, then reads its style."""
    from addon.engine_link import jobs
    from addon_fixtures import write_voice
    from engine.style import NEUTRAL, RANGES

    spec = jobs.AnimateJob(audio=str(write_voice(tmp_path, 1.0)), fps=25.0, driver="adf", style_clip=str(talk))
    job = jobs.Job(spec).start()
    assert job.wait(timeout=300) and job.failure is None, job.failure
    style = job.clip.metadata["style"]         # the exact value is the engine test's (tests/engine/video)
    assert set(style) == set(RANGES) and style != NEUTRAL.to_dict()
    wall = tmp_path / "wall.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=128x128:d=0.5:r=25", wall)
    job = jobs.Job(jobs.AnimateJob(audio=spec.audio, fps=25.0, driver="adf", style_clip=str(wall))).start()
    assert job.wait(timeout=300) and job.clip is None and "No face was found in 'wall.mp4'" in job.failure.message


def test_the_worst_and_bridged_frames_are_shown_as_scene_frames(blender):
    """A 25 fps take keyed from frame 10 of a 50 fps scene: video frame t is scene frame 10 + 2t."""
    from addon.ops import track_ops
    from engine.motion import MotionClip

    meta = {"video_fps": 25.0, "bridged_frames": [3, 4, 5, 9],
            "fit_quality": {"median": 0.021, "p95": 0.04, "worst": [[7, 0.052], [2, 0.031]]}}
    clip = MotionClip(["jaw_rx"], np.zeros((12, 1), np.float32), 25.0, 10, meta)
    track = blender.scene.talking_head_track
    track_ops.show_quality(track, clip, 50.0, 10)
    assert track.quality == "Landmark error: median 2.1%, 95th percentile 4.0% of the eye distance"
    assert track.worst == "Worst frames: 24 (5.2%), 14 (3.1%)"
    assert track.bridged == "Bridged (face lost): 16-21, 28-29"
    track_ops.show_quality(track, clip._replace(metadata={"video_fps": 25.0, "bridged_frames": [3, 4]}), 25.0, 1)
    assert track.quality == "No frame could be fitted." and track.bridged == "Bridged (face lost): 4-5"


def test_cancel_stops_the_tracker_and_the_scene_is_unchanged(blender, talk, monkeypatch):
    from addon.ops import track_ops
    from addon.engine_link import worker

    from test_retarget import arkit_character

    monkeypatch.setenv(worker.TEST_HOOK, "hang:60")          # the tracker's child stalls before it tracks
    scene = blender.scene
    face = scene.talking_head.target = arkit_character(blender)
    scene.talking_head_track.video_path = str(talk)
    run = track_ops.TrackRun.start(blender)
    while run.job.latest is None:
        run.job.wait(timeout=0.2)
    assert "being tracked" in track_ops.why_not_track(blender)
    assert not bpy.ops.talking_head.animate.poll()           # Animate waits for it too
    assert bpy.ops.talking_head.cancel_track() == {'FINISHED'}
    reports = []
    assert run.finish(blender, lambda kind, text: reports.append((kind, text))) == {'CANCELLED'}
    assert reports == [({'WARNING'}, "Tracking cancelled; your scene is unchanged.")]
    assert track_ops.tracking(scene) is None and track_ops.last_failure(scene) == ""
    assert face.data.shape_keys.animation_data is None and strip_facts(scene) == []


def test_the_scene_takes_the_videos_frame_rate_or_says_the_picture_drifts(blender):
    from addon.blender import scene_timing
    from addon.ops import track_ops

    scene = blender.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    assert "drifts" in track_ops._drift(scene, 25.0) and track_ops._drift(scene, 24.0) == ""
    assert track_ops._match_rate(scene, 30000 / 1001) == ""
    assert (scene.render.fps, scene.render.fps_base) == (30, pytest.approx(1.001))
    assert scene_timing.scene_fps(scene) == pytest.approx(30000 / 1001, rel=1e-6)  # fps_base is a float32
    assert track_ops._drift(scene, 30000 / 1001) == ""
