"""The preview agrees with Blender's own render: the animated built-in head through the same scene camera,
drawn by Blender (Workbench, film transparent) and by the shipped toon look, covers the same pixels
(silhouette IoU, alpha > 0.5) from every camera of issue 15, all inside the look's trained views."""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from mathutils import Matrix, Vector  # noqa: E402

SIZE = 128
CAMERAS = ((0.0, 0.0, 1.0, 50.0), (12.0, 5.0, 1.2, 50.0), (-20.0, 0.0, 0.8, 35.0), (25.0, 0.0, 1.6, 85.0))
FRAME = 3


def animated_head(context):
    """The built-in head keyed with a clip that opens the jaw, purses the lips and turns the neck; its clip."""
    from addon.blender import head_object, keying
    from engine import MotionClip, load_head

    mesh_obj, rig = head_object.add_head(context, load_head())
    rig.location, rig.rotation_euler = (0.4, -0.3, 1.5), (0.0, 0.0, 0.3)  # the head object moved and turned
    t = np.linspace(0, 1, 5)[:, None]
    values = np.concatenate([0.25 * t, t, 0.3 * t, -0.15 * t], axis=1).astype(np.float32)
    clip = MotionClip(names=["jaw_rx", "mouthFunnel", "neck_ry", "neck_rx"], values=values, fps=24.0, start_frame=1)
    keying.key_clip(clip, mesh_obj)
    context.view_layer.update()
    return mesh_obj, clip


def place_camera(scene, head_obj, yaw, pitch, distance, lens):
    from addon.blender import render_camera
    from addon.blender.axes import to_blender
    from engine.render.camera import orbit_direction

    pivot = render_camera._rest_framing()["pivot"]
    eye = to_blender(pivot + distance * orbit_direction(yaw, pitch))
    data = bpy.data.cameras.new("Camera")
    data.lens = lens
    camera = bpy.data.objects.new("Camera", data)
    scene.collection.objects.link(camera)
    rotation = (Vector(to_blender(pivot)) - Vector(eye)).to_track_quat('-Z', 'Y')
    camera.matrix_world = head_obj.matrix_world @ Matrix.LocRotScale(Vector(eye), rotation, None)
    scene.camera = camera
    bpy.context.view_layer.update()
    return camera


def blender_alpha(scene, path) -> np.ndarray:
    """Blender's render of the scene camera's view: alpha [SIZE, SIZE] (Workbench; Cycles where it cannot run)."""
    scene.render.filepath = str(path)
    try:
        bpy.ops.render.render(write_still=True)
    except RuntimeError:
        scene.render.engine, scene.cycles.samples = 'CYCLES', 1
        bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(str(path))
    pixels = np.empty(len(image.pixels), np.float32)
    image.pixels.foreach_get(pixels)
    bpy.data.images.remove(image)
    return pixels.reshape(SIZE, SIZE, 4)[::-1, :, 3]


def iou(a, b) -> float:
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_the_toon_look_covers_the_pixels_blender_renders_from_the_same_camera(blender, tmp_path):
    from addon.blender import render_camera
    from addon.ops import render_spec
    from engine.nldf import load_look, render_clip

    scene = blender.scene
    scene.render.resolution_x = scene.render.resolution_y = SIZE
    scene.render.resolution_percentage = 100
    scene.render.engine, scene.render.film_transparent = 'BLENDER_WORKBENCH', True
    mesh_obj, clip = animated_head(blender)
    scene.frame_set(FRAME)
    look = load_look("toon", device="cpu")
    scores = []
    for yaw, pitch, distance, lens in CAMERAS:
        camera_obj = place_camera(scene, mesh_obj, yaw, pitch, distance, lens)
        camera = render_camera.scene_camera(scene, mesh_obj, SIZE, look.image_sizes, look.stride)
        assert render_camera.range_warning(camera, look.sidecar, "toon") == ""  # inside the trained views
        (preview,) = render_clip(render_spec.part(clip, FRAME, FRAME), look, camera=camera)
        blender_view = blender_alpha(scene, tmp_path / "blender.png")
        assert blender_view.mean() > 0.05  # the head is in the picture
        scores.append(iou(blender_view, preview[..., 3] / 255.0))
        bpy.data.objects.remove(camera_obj)
    assert min(scores) >= 0.9, scores
