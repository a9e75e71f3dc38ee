"""The Render subpanel: a look from the preferences' models folder renders a preview image and an image strip
above the voice through the engine's child process; re-runs replace only our strip; cancel and crash leave the
scene as it was; Follow Frame previews the frame the user goes to. (The scene camera's conversion:
test_scene_camera.py.)"""

from __future__ import annotations

import os
import re
import time

import numpy as np
import pytest

from addon_fixtures import tiny_head, write_voice

bpy = pytest.importorskip("bpy")
torch = pytest.importorskip("torch")  # to make the tiny look; the add-on and its engine never import it

from render_fixtures import add_camera, orbit_camera_local  # noqa: E402
from tests.nldf_looks import tiny_look  # noqa: E402

SIZE = 128  # the smallest size the panel offers


@pytest.fixture(scope="module")
def look_folder(tmp_path_factory):
    """A folder holding one tiny exported look, nldf_tiny.onnx (+ .json)."""
    folder = tmp_path_factory.mktemp("looks")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tiny_look(folder, "tiny")
    finally:
        torch.set_num_threads(threads)
    return folder


@pytest.fixture(autouse=True)
def no_shipped_looks_nor_earlier_clips(tmp_path_factory, monkeypatch):
    """The engine's own models folder as an empty one (only the looks a test installs exist), and no clip
    or failure remembered from another test."""
    from addon.ops import render_ops
    from addon.settings import render_settings
    from addon.engine_link import results

    monkeypatch.setattr(render_settings.nldf_look, "MODELS", tmp_path_factory.mktemp("engine_models"))
    monkeypatch.setattr(results, "_LATEST", {})
    monkeypatch.setattr(render_ops.RUNS, "failures", {})


@pytest.fixture
def shot(blender, prefs, look_folder, tmp_path):
    """A saved .blend: the tiny head (moved and turned) with a 3-frame clip from frame 1, our voice strip on
    channel 1, frames 1-3, the tiny look installed through the preferences' models folder, size 128."""
    from addon.blender import head_object, sequencer
    from addon.engine_link import results

    prefs.models_dir = str(look_folder)
    mesh_obj, rig = head_object.add_head(blender, tiny_head())
    rig.location, rig.rotation_euler = (0.3, -0.2, 1.1), (0.1, 0.0, 0.4)
    scene = blender.scene
    scene.talking_head.target = mesh_obj
    scene.talking_head.render.size = str(SIZE)
    scene.frame_start, scene.frame_end = 1, 3
    results.remember(mesh_obj, clip(3))
    sequencer.place_sound(scene, str(write_voice(tmp_path)), 1)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "shot.blend"))
    return scene


def clip(frames: int, start: int = 1):
    from engine import MotionClip

    t = np.linspace(0, 1, frames)[:, None]
    values = np.concatenate([0.3 * t, t, 0.2 * t], axis=1).astype(np.float32)
    return MotionClip(names=["jaw_rx", "mouthFunnel", "neck_ry"], values=values, fps=24.0, start_frame=start)


def engine_frame(look_folder, frame: int) -> np.ndarray:
    """Scene frame `frame` of the test clip rendered by the engine in this process: RGBA uint8 [128, 128, 4]."""
    from addon.ops import render_spec
    from engine.nldf import load_look, render_clip

    (rgba,) = render_clip(render_spec.part(clip(3), frame, frame), load_look(look_folder / "nldf_tiny.onnx"),
                          size=SIZE)
    return rgba


def why(operator) -> str:
    with pytest.raises(RuntimeError) as error:
        operator()
    return str(error.value).split(".poll() ", 1)[1]


def our_strips(scene, tag="frames") -> list:
    from addon.blender import sequencer

    return [s for s in sequencer.all_strips(scene) if s.get("talking_head") == tag]


def strip_state(scene) -> list:
    """Every strip as (name, type, channel, first frame, files), to compare before and after."""
    from addon.blender import sequencer

    return sorted((s.name, s.type, s.channel, s.frame_final_start,
                   tuple(e.filename for e in s.elements) if s.type == 'IMAGE' else ())
                  for s in sequencer.all_strips(scene))


def scene_state(scene) -> dict:
    """What a cancelled or failed render must leave as it was: strips, images, the Render status line."""
    render = scene.talking_head.render
    return {"strips": strip_state(scene), "images": sorted(i.name for i in bpy.data.images),
            "status": (render.status, render.status_alert)}


def alpha_of(image) -> np.ndarray:
    pixels = np.empty(len(image.pixels), np.float32)
    image.pixels.foreach_get(pixels)
    return pixels.reshape(image.size[1], image.size[0], 4)[..., 3]


# -- the panel's state --------------------------------------------------------------------------------

def test_no_look_installed_explains_how_to_make_one(blender, prefs, tmp_path):
    from addon.blender import head_object
    from addon.ui import render_panel
    from addon.settings import render_settings
    from addon.engine_link import results

    prefs.models_dir = str(tmp_path)  # an empty folder
    mesh_obj, _ = head_object.add_head(blender, tiny_head())
    blender.scene.talking_head.target = mesh_obj
    results.remember(mesh_obj, clip(3))
    assert blender.scene.talking_head.render.look == render_settings.NO_LOOK
    for operator in (bpy.ops.talking_head.render_preview, bpy.ops.talking_head.render_sequence):
        message = why(operator)
        assert message == render_settings.HOW_TO_MAKE_A_LOOK
        assert "python -m engine.training.nldf distill" in message and "Models Folder" in message
    layout = LayoutRecorder()
    render_panel.draw_render(layout, blender)
    assert layout.enabled is False  # the look and size, greyed out
    assert ("label", "No look installed: hover over Preview to see how to make one.") in layout.calls
    assert ("operator", "talking_head.render_preview") in layout.calls


def test_the_look_is_kept_by_name_and_the_buttons_wait_for_a_clip(blender, prefs, look_folder, tmp_path):
    import shutil

    from addon.blender import head_object
    from addon.engine_link import results

    for name in ("tiny", "other"):  # a second look sorts before the first: the choice stays by name
        for suffix in (".onnx", ".json"):
            shutil.copy(look_folder / f"nldf_tiny{suffix}", tmp_path / f"nldf_{name}{suffix}")
    prefs.models_dir = str(tmp_path)
    render = blender.scene.talking_head.render
    render.look = "tiny"
    (tmp_path / "nldf_a_first.onnx").write_bytes(b"")
    assert render.look == "tiny" and render.look_name == "tiny"
    assert why(bpy.ops.talking_head.render_preview) == "Choose a head (or add the built-in head) first."
    mesh_obj, _ = head_object.add_head(blender, tiny_head())
    blender.scene.talking_head.target = mesh_obj
    assert why(bpy.ops.talking_head.render_sequence) == (
        f"Animate '{mesh_obj.name}' first: the render draws the clip Animate made in this session.")
    results.remember(mesh_obj, clip(3))
    assert bpy.ops.talking_head.render_preview.poll() and bpy.ops.talking_head.render_sequence.poll()


# -- Preview ------------------------------------------------------------------------------------------

def test_preview_renders_the_current_frame_into_the_preview_image(shot, look_folder):
    from addon.blender import image_editor

    shot.frame_set(2)
    assert bpy.ops.talking_head.render_preview() == {'FINISHED'}
    image = bpy.data.images[image_editor.PREVIEW_IMAGE]
    assert tuple(image.size) == (SIZE, SIZE)  # no scene camera: the look's default framing, square
    alpha = alpha_of(image)
    assert alpha.max() > 0.1 and alpha.min() == 0.0  # the head's box is drawn, rays that miss it are clear
    pixels = np.empty(len(image.pixels), np.float32)
    image.pixels.foreach_get(pixels)
    shown = np.round(pixels.reshape(SIZE, SIZE, 4)[::-1] * 255)  # Blender's rows run bottom-up
    assert np.abs(shown - engine_frame(look_folder, 2)).max() <= 1  # frame 2 of the clip, the right way up
    assert image.packed_file is not None and not image.is_dirty  # kept in the .blend, nothing left unsaved
    status = shot.talking_head.render.status
    assert status == f"Previewed frame 2 in the look 'tiny' ({SIZE}x{SIZE})."
    assert not shot.talking_head.render.status_alert
    assert not our_strips(shot)  # a preview adds no strip


def test_preview_through_a_scene_camera_outside_the_trained_range_warns_and_renders(shot):
    from addon.blender import image_editor

    add_camera(shot, shot.talking_head.target, orbit_camera_local(yaw=50.0), lens=85.0, resolution=(1920, 1080))
    assert bpy.ops.talking_head.render_preview() == {'FINISHED'}
    image = bpy.data.images[image_editor.PREVIEW_IMAGE]
    assert tuple(image.size) == (SIZE, 72)  # the camera's 16:9 shape, the longer side the chosen size
    assert alpha_of(image).max() > 0.1
    status = shot.talking_head.render.status
    assert status.startswith("Previewed frame 1 in the look 'tiny' (128x72). The scene camera sees the head from "
                             "outside what the look 'tiny' was trained on (yaw 50° (trained -30° to 30°))")
    assert shot.talking_head.render.status_alert


# -- Render to Sequencer -----------------------------------------------------------------------------

def test_render_to_sequencer_adds_one_strip_above_the_voice_and_replaces_only_ours(shot, tmp_path, look_folder):
    from engine.preview.png import read_png, write_png

    editor = shot.sequence_editor
    write_png(tmp_path / "mine.png", np.zeros((4, 4, 4), np.uint8))
    mine = editor.strips.new_image("Mine", str(tmp_path / "mine.png"), 2, 40)  # the user's: channel 2, later on
    editor.strips.new_image("Title", str(tmp_path / "mine.png"), 3, 2)  # the user's, over our frames
    before_users = strip_state(shot)
    voice = our_strips(shot, "voice")[0]

    assert bpy.ops.talking_head.render_sequence() == {'FINISHED'}
    folder = tmp_path / "talking_head_frames" / "Scene"
    assert sorted(p.name for p in folder.iterdir()) == ["frame_0001.png", "frame_0002.png", "frame_0003.png"]
    (strip,) = our_strips(shot)
    assert strip.type == 'IMAGE' and strip.channel == voice.channel + 1 == 2
    assert strip.frame_final_start == 1 and strip.frame_final_duration == 3
    assert [e.filename for e in strip.elements] == ["frame_0001.png", "frame_0002.png", "frame_0003.png"]
    assert bpy.path.abspath(strip.directory).rstrip("/\\") == str(folder)
    assert strip.directory.startswith("//")  # relative to the .blend: they move together
    frame_2 = read_png(folder / "frame_0002.png").astype(int)
    assert np.abs(frame_2 - engine_frame(look_folder, 2)).max() <= 1

    shot.frame_start = 2  # a second run: fewer frames, still one strip of ours, the user's untouched
    assert bpy.ops.talking_head.render_sequence() == {'FINISHED'}
    (strip,) = our_strips(shot)
    assert strip.frame_final_start == 2 and [e.filename for e in strip.elements] == ["frame_0002.png",
                                                                                     "frame_0003.png"]
    assert sorted(p.name for p in folder.iterdir()) == ["frame_0002.png", "frame_0003.png"]
    assert editor.strips["Mine"] == mine and (mine.channel, mine.frame_final_start) == (2, 40)
    assert [s for s in strip_state(shot) if s[0] != strip.name] == before_users
    assert shot.talking_head.render.status.startswith(f"Rendered frames 2-3 in the look 'tiny' to {folder}")
    assert np.array_equal(read_png(folder / "frame_0002.png"), frame_2)  # frame 2 again, numbered as before


def test_our_strip_skips_a_channel_the_user_holds_over_its_frames(shot, tmp_path):
    from engine.preview.png import write_png

    write_png(tmp_path / "title.png", np.zeros((4, 4, 4), np.uint8))
    shot.sequence_editor.strips.new_image("Title", str(tmp_path / "title.png"), 2, 2)
    assert bpy.ops.talking_head.render_sequence() == {'FINISHED'}
    (strip,) = our_strips(shot)
    assert strip.channel == 3 and shot.sequence_editor.strips["Title"].channel == 2


def test_an_unsaved_file_renders_into_the_temporary_folder(blender):
    import tempfile
    from pathlib import Path

    from addon.ops import render_spec

    blender.scene.name = "Shot 1/a"
    expected = Path(tempfile.gettempdir()) / "talking_head_frames" / "Shot_1_a"
    assert render_spec.sequence_folder(blender.scene) == expected


# -- cancel, crash ------------------------------------------------------------------------------------

class LayoutRecorder:
    """Stands in for a UILayout (there is none headless): records the progress bar and the buttons."""

    def __init__(self):
        self.calls = []

    def row(self, **_):
        return self

    def column(self, **_):
        return self

    def prop(self, _data, name, **_):
        self.calls.append(("prop", name))

    def label(self, **options):
        self.calls.append(("label", options.get("text")))

    def progress(self, **options):
        self.calls.append(("progress", options))

    def operator(self, idname, **_):
        self.calls.append(("operator", idname))


def test_cancel_leaves_no_strip_no_image_and_no_frames(shot, tmp_path, monkeypatch):
    from addon.blender import image_editor
    from addon.engine_link import jobs, worker
    from addon.ops import render_ops
    from addon.ui import render_panel

    before = scene_state(shot)
    monkeypatch.setenv(worker.TEST_HOOK, "hang:60")
    for what in (render_ops.SEQUENCE, render_ops.PREVIEW):
        run = render_ops.RenderRun.start(bpy.context, what)
        assert not bpy.ops.talking_head.render_preview.poll()
        assert why(bpy.ops.talking_head.render_sequence) == (
            "The head is being rendered; wait for it, or press Esc to cancel.")
        while run.job.latest is None:
            assert not run.tick(bpy.context)
            time.sleep(0.02)
        layout = LayoutRecorder()
        render_panel.draw_render(layout, bpy.context)
        assert ("progress", {"factor": 0.0, "type": 'BAR', "text": "Testing 0%"}) in layout.calls
        assert ("operator", "talking_head.cancel_render") in layout.calls
        assert ("operator", "talking_head.render_sequence") not in layout.calls
        assert bpy.ops.talking_head.cancel_render() == {'FINISHED'}
        assert run.tick(bpy.context)
        reports = []
        assert run.finish(bpy.context, lambda level, text: reports.append((level, text))) == {'CANCELLED'}
        assert reports == [({'WARNING'}, jobs.RENDER_CANCELLED.message)]
        assert render_ops.running(shot) is None and not bpy.ops.talking_head.cancel_render.poll()
        assert not (tmp_path / "talking_head_frames").exists()
        assert not os.path.exists(run.request.folder)  # the run's temporary files are gone
    assert scene_state(shot) == before and image_editor.PREVIEW_IMAGE not in bpy.data.images
    assert render_ops.last_failure(shot) == ""


def test_a_crash_or_a_broken_look_leaves_the_scene_as_it_was(shot, prefs, look_folder, tmp_path, monkeypatch):
    import shutil

    from addon.blender import image_editor
    from addon.ops import render_ops
    from addon.engine_link import worker

    assert bpy.ops.talking_head.render_sequence() == {'FINISHED'}
    before = scene_state(shot)
    frames = sorted((tmp_path / "talking_head_frames" / "Scene").iterdir())
    shot.frame_start = 2
    monkeypatch.setenv(worker.TEST_HOOK, "crash:3")
    crash = "The render engine stopped unexpectedly (exit code 3); your scene is unchanged."
    for operator in (bpy.ops.talking_head.render_sequence, bpy.ops.talking_head.render_preview):
        with pytest.raises(RuntimeError, match=re.escape(crash)):
            operator()
    assert render_ops.last_failure(shot) == crash
    monkeypatch.delenv(worker.TEST_HOOK)
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(look_folder / "nldf_tiny.json", broken / "nldf_tiny.json")
    (broken / "nldf_tiny.onnx").write_bytes((look_folder / "nldf_tiny.onnx").read_bytes() + b"\0")
    prefs.models_dir = str(broken)
    with pytest.raises(RuntimeError, match=r"'nldf_tiny.onnx' does not match its sidecar \(sha256 differs\)"):
        bpy.ops.talking_head.render_sequence()
    shot.frame_start = 1
    assert scene_state(shot) == before and image_editor.PREVIEW_IMAGE not in bpy.data.images
    assert sorted((tmp_path / "talking_head_frames" / "Scene").iterdir()) == frames  # the last good frames stay
    assert "does not match its sidecar" in render_ops.last_failure(shot)


# -- Follow Frame: the live preview ---------------------------------------------------------------------

def drain_until_idle(timeout=120.0):
    """Call the live preview's timer function as Blender would, until nothing is being rendered."""
    from addon.ops import live_preview

    deadline = time.monotonic() + timeout
    while live_preview.drain() is not None:
        assert time.monotonic() < deadline, "the live preview did not finish in time"
        time.sleep(0.005)


def shown_frames(since: int) -> list:
    from addon.ops import live_preview

    return [frame for frame, _ in list(live_preview.LATENCIES)[since:]]


def test_follow_frame_keeps_one_warm_engine_and_shows_the_latest_frame(shot, look_folder, monkeypatch):
    from addon.blender import image_editor
    from addon.ops import live_preview, operators, render_ops
    from addon.engine_link import results

    monkeypatch.setattr(live_preview, "interactive", lambda: True)
    shot.frame_set(1)
    assert live_preview.STATE.worker is None  # off: frame changes render nothing
    since = len(live_preview.LATENCIES)
    shot.talking_head.render.follow_frame = True  # ticking it previews the current frame at once
    worker = live_preview.STATE.worker
    assert worker is not None and live_preview.busy()
    shot.frame_set(2)  # while frame 1 renders: frame 2, then 3, wait; 2 is stale by the time the engine is free
    shot.frame_set(3)
    drain_until_idle()
    assert shown_frames(since) == [1, 3]
    image = bpy.data.images[image_editor.PREVIEW_IMAGE]
    pixels = np.empty(len(image.pixels), np.float32)
    image.pixels.foreach_get(pixels)
    shown = np.round(pixels.reshape(SIZE, SIZE, 4)[::-1] * 255)
    assert np.abs(shown - engine_frame(look_folder, 3)).max() <= 1  # frame 3 of the clip, the right way up
    assert shot.talking_head.render.status.startswith(f"Previewing frame 3 live in the look 'tiny' ({SIZE}x{SIZE}, ")
    shot.frame_set(2)
    drain_until_idle()
    assert shown_frames(since) == [1, 3, 2] and live_preview.STATE.worker is worker  # the same engine, warm
    results.remember(shot.talking_head.target, clip(3, start=2))  # animated again: frames 2-4 now
    shot.frame_set(4)
    drain_until_idle()
    assert shown_frames(since) == [1, 3, 2, 4] and render_ops.last_failure(shot) == ""

    monkeypatch.setitem(operators.RUNS.runs, shot.name, object())  # Animate is running: nothing is asked
    shot.frame_set(1)
    assert not live_preview.busy()
    monkeypatch.delitem(operators.RUNS.runs, shot.name)
    shot.frame_set(5)  # outside the clip (frames 2-4): nothing to show
    assert not live_preview.busy() and shown_frames(since) == [1, 3, 2, 4]
    bpy.ops.wm.save_mainfile()  # the last frame shown goes into the .blend
    assert image.packed_file is not None
    process = worker._process
    shot.talking_head.render.follow_frame = False  # off: the engine stops, its files go
    assert live_preview.STATE.worker is None and process.poll() is not None and not worker.folder.exists()


def test_a_live_engine_that_dies_is_a_sentence_and_the_next_frame_starts_another(shot, monkeypatch):
    import addon
    from addon.blender import image_editor
    from addon.ops import live_preview, render_ops
    from addon.engine_link import worker

    monkeypatch.setattr(live_preview, "interactive", lambda: True)
    monkeypatch.setenv(worker.TEST_HOOK, "crash:3")
    before = scene_state(shot)
    shot.talking_head.render.follow_frame = True
    drain_until_idle()
    crash = "The render engine stopped unexpectedly (exit code 3); your scene is unchanged."
    assert render_ops.last_failure(shot) == crash and live_preview.STATE.worker is None
    assert shot.talking_head.render.status == crash and shot.talking_head.render.status_alert
    assert image_editor.PREVIEW_IMAGE not in bpy.data.images and scene_state(shot)["strips"] == before["strips"]
    monkeypatch.delenv(worker.TEST_HOOK)
    shot.frame_set(2)
    drain_until_idle()
    assert render_ops.last_failure(shot) == "" and shot.talking_head.render.status.startswith("Previewing frame 2 ")
    process = live_preview.STATE.worker._process
    render_ops.on_load()  # another file is opened: the engine stops
    assert live_preview.STATE.worker is None and process.poll() is not None
    shot.frame_set(3)
    process = live_preview.STATE.worker._process
    addon.unregister()  # the add-on is disabled: the engine stops
    addon.register()
    assert live_preview.STATE.worker is None and process.poll() is not None


def test_unregister_removes_the_handlers():
    import addon
    from addon.ops import render_ops

    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon.register()
    assert bpy.app.handlers.frame_change_post.count(render_ops.on_frame_change) == 1
    assert bpy.app.handlers.load_pre.count(render_ops.on_load) == 1
    assert bpy.app.handlers.save_pre.count(render_ops.on_save) == 1
    addon.unregister()
    assert render_ops.on_frame_change not in bpy.app.handlers.frame_change_post
    assert render_ops.on_load not in bpy.app.handlers.load_pre and render_ops.on_save not in bpy.app.handlers.save_pre
