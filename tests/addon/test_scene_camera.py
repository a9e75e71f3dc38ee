"""The scene camera becomes the engine's pinhole camera in the head's FLAME frame: the same pixels as the
engine's default framing and as Blender's own projection (lens, sensor fit, shift, frame shape); and the
look's trained range of views."""

from __future__ import annotations

import math

import numpy as np
import pytest

from addon_fixtures import tiny_head

bpy = pytest.importorskip("bpy")

from mathutils import Matrix, Vector  # noqa: E402
from render_fixtures import add_camera, orbit_camera_local  # noqa: E402

SIZE = 128


def test_a_blender_camera_at_the_default_framing_projects_landmarks_like_it(blender):
    """The engine's default camera rebuilt the Blender way (eye, look-at, lens, sensor) around a moved, turned
    head: the converted camera projects the built-in head's landmarks to the same pixels."""
    from addon.blender import head_object, render_camera
    from addon.blender.axes import to_blender
    from engine import load_head
    from engine.head.landmarks import landmarks
    from engine.render.camera import PORTRAIT_FOV_Y, default_framing

    head = load_head()
    mesh_obj, rig = head_object.add_head(blender, tiny_head())
    rig.location, rig.rotation_euler = (1.0, 2.0, 0.5), (0.2, -0.1, 1.3)
    blender.view_layer.update()
    default = default_framing(head.v_template, SIZE)
    eye, ahead = to_blender(default.position), to_blender(default.position + default.rotation[2])
    local = Matrix.LocRotScale(Vector(eye), (Vector(ahead) - Vector(eye)).to_track_quat('-Z', 'Y'), None)
    lens = 12.0 / math.tan(math.radians(PORTRAIT_FOV_Y / 2))  # 18° over the 24 mm sensor height
    camera_obj = add_camera(blender.scene, mesh_obj, local, lens, sensor_fit='VERTICAL')
    camera_obj.data.sensor_height = 24.0
    camera = render_camera.scene_camera(blender.scene, mesh_obj, SIZE)
    points = landmarks(head, head.v_template)
    expected, _ = default.project(points)
    got, depth = camera.project(points)
    assert np.all(depth > 0) and np.abs(got - expected).max() < 1.0
    assert render_camera.range_warning(camera, {}, "tiny") == ""


def test_lens_shift_sensor_fit_and_frame_shape_match_blenders_own_projection(blender):
    """Blender's `world_to_camera_view` (the camera's view frame, all sensor-fit and shift rules) against the
    converted camera, on frames of the resolution's shape and on square frames (the middle of the view)."""
    from bpy_extras.object_utils import world_to_camera_view

    from addon.blender import head_object, render_camera
    from addon.blender.axes import to_blender

    mesh_obj, rig = head_object.add_head(blender, tiny_head())
    rig.location, rig.rotation_euler = (-0.4, 0.3, 1.2), (0.0, 0.3, -0.7)
    scene = blender.scene
    cases = (('AUTO', (1920, 1080), (0.1, -0.05)), ('AUTO', (720, 1280), (0.0, 0.2)),
             ('HORIZONTAL', (1000, 800), (-0.15, 0.0)), ('VERTICAL', (1200, 600), (0.05, 0.1)))
    for (fit, resolution, shift), look_sizes in ((case, sizes) for case in cases for sizes in ("any", [256])):
        camera_obj = add_camera(scene, mesh_obj, orbit_camera_local(yaw=20.0, pitch=-10.0), 70.0, fit, resolution)
        camera_obj.data.shift_x, camera_obj.data.shift_y = shift
        camera_obj.data.sensor_height = 20.0
        blender.view_layer.update()
        camera = render_camera.scene_camera(scene, mesh_obj, 256, look_sizes, stride=8)
        assert max(camera.width, camera.height) == 256 and (look_sizes == "any") != (camera.width == camera.height)
        assert camera.width % 8 == 0 and camera.height % 8 == 0
        local = np.random.default_rng(0).uniform(-0.1, 0.1, (20, 3))  # points around the head, FLAME frame
        world = [mesh_obj.matrix_world @ Vector(p) for p in to_blender(local)]
        view = np.array([tuple(world_to_camera_view(scene, camera_obj, p))[:2] for p in world])
        frame = np.array([camera.width, camera.height], np.float64)
        full = np.array(resolution, np.float64) * max(frame / resolution)  # the whole view, covering the frame
        blender_pixels = np.stack([view[:, 0], 1.0 - view[:, 1]], axis=1) * full - (full - frame) / 2
        ours, _ = camera.project(local)
        assert np.abs(ours - blender_pixels).max() < 0.01, (fit, resolution, look_sizes)
        bpy.data.objects.remove(camera_obj)


def test_the_trained_range_comes_from_the_sidecar_or_the_training_default():
    from addon.blender import render_camera
    from engine.render.camera import Camera

    def camera_at(yaw, pitch, distance=1.0):
        from engine.render.camera import look_at, orbit_direction

        rest = render_camera._rest_framing()
        eye = rest["pivot"] + distance * rest["distance"] * orbit_direction(yaw, pitch)
        return look_at(eye, rest["pivot"])

    angles = render_camera.view_angles(camera_at(20.0, -10.0, 1.5))
    assert angles == pytest.approx((20.0, -10.0, 1.5))
    assert isinstance(camera_at(0, 0), Camera)
    assert render_camera.range_warning(camera_at(25.0, 10.0), {}, "toon") == ""
    assert "pitch -20° (trained -15° to 15°)" in render_camera.range_warning(camera_at(0.0, -20.0), {}, "toon")
    trained = {"training": {"config": {"yaw_range": 10.0, "pitch_range": 15.0}}}
    assert "yaw 25° (trained -10° to 10°)" in render_camera.range_warning(camera_at(25.0, 0.0), trained, "toon")
    recorded = {"camera_range": {"yaw": [-5, 60], "distance": [0.8, 1.2]}, **trained}
    assert render_camera.range_warning(camera_at(50.0, 0.0), recorded, "toon") == ""
    assert "distance 2.00 of the default framing's (trained 0.8 to 1.2)" in render_camera.range_warning(
        camera_at(0.0, 0.0, 2.0), recorded, "toon")


def test_an_orthographic_camera_is_a_sentence(blender):
    from addon.blender import head_object, render_camera
    from engine import InputError

    mesh_obj, _ = head_object.add_head(blender, tiny_head())
    camera_obj = add_camera(blender.scene, mesh_obj, orbit_camera_local(0.0), 50.0)
    camera_obj.data.type = 'ORTHO'
    with pytest.raises(InputError, match=r"is ortho; looks render through a perspective lens only"):
        render_camera.scene_camera(blender.scene, mesh_obj, SIZE)


# -- the camera Add Built-in Head leaves -----------------------------------------------------------------

def test_add_built_in_head_in_the_startup_file_adds_a_camera_that_frames_it(blender):
    """The startup camera looks from yaw 47°, pitch 26° (outside every look): a new camera sees the head from
    the front as the looks were trained to, and becomes the scene camera; the startup camera is untouched."""
    from addon.blender import head_object, render_camera
    from addon.ui import render_panel
    from engine import load_head
    from engine.head.landmarks import landmarks

    bpy.ops.wm.read_factory_settings(use_empty=False)
    startup = bpy.context.scene.camera
    assert head_object.is_startup_camera(startup)
    before = (tuple(map(tuple, startup.matrix_world)), startup.data.lens, startup.data.sensor_fit)
    bpy.context.scene.cursor.location = (1.0, 2.0, 0.5)  # the head goes to the 3D cursor, the camera follows
    assert bpy.ops.talking_head.add_builtin_head() == {'FINISHED'}
    scene = bpy.context.scene
    head_obj = scene.talking_head.target
    assert tuple(head_obj.matrix_world.translation) == pytest.approx((1.0, 2.0, 0.5))
    assert scene.camera.name == head_object.HEAD_CAMERA and scene.camera is not startup
    assert (tuple(map(tuple, startup.matrix_world)), startup.data.lens, startup.data.sensor_fit) == before
    camera = render_camera.scene_camera(scene, head_obj, 256)
    assert (camera.width, camera.height) == (256, 144)  # the startup file's 1920 x 1080
    assert render_camera.view_angles(camera) == pytest.approx((0.0, 0.0, 1.0), abs=1e-6)
    assert render_camera.range_warning(camera, {}, "any") == "" and render_panel.camera_advice(bpy.context) == ""
    head = load_head()
    pixels, depth = camera.project(landmarks(head, head.v_template))
    assert np.all(depth > 0) and np.all((pixels > 0) & (pixels < (256, 144)))  # the face is in the frame


def test_a_camera_the_user_set_up_is_kept_and_the_panel_offers_one_that_frames_the_head(blender):
    from addon.blender import head_object, render_camera
    from addon.ui import render_panel
    from addon.blender.axes import to_blender

    bpy.ops.wm.read_factory_settings(use_empty=False)
    theirs = bpy.context.scene.camera
    theirs.location.x += 0.5  # moved: the user's camera now
    assert not head_object.is_startup_camera(theirs)
    assert bpy.ops.talking_head.add_builtin_head() == {'FINISHED'}
    scene = bpy.context.scene
    assert scene.camera is theirs and head_object.HEAD_CAMERA not in bpy.data.objects
    before = tuple(map(tuple, theirs.matrix_world))
    assert render_panel.camera_advice(bpy.context) == "The camera is outside the look's trained views"
    assert bpy.ops.talking_head.add_head_camera() == {'FINISHED'}
    assert scene.camera.name == head_object.HEAD_CAMERA and tuple(map(tuple, theirs.matrix_world)) == before
    assert render_panel.camera_advice(bpy.context) == ""
    camera = render_camera.scene_camera(scene, scene.talking_head.target, 256)
    assert np.allclose(to_blender(camera.position), np.array(scene.camera.matrix_world.translation), atol=1e-6)


def test_a_scene_without_a_camera_gets_one(blender):
    from addon.blender import head_object
    from addon.ui import render_panel

    assert blender.scene.camera is None
    mesh_obj, rig = head_object.add_head(blender, tiny_head())
    blender.scene.talking_head.target = mesh_obj
    assert render_panel.camera_advice(blender) == "No scene camera: the look's own framing"  # offered
    head_object.make_target(blender, mesh_obj, rig)
    assert blender.scene.camera.name == head_object.HEAD_CAMERA and render_panel.camera_advice(blender) == ""
