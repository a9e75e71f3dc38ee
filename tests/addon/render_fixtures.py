"""Blender helpers shared by the render tests: scene cameras placed the way Blender places cameras."""

from __future__ import annotations

import bpy
from mathutils import Matrix, Vector


def add_camera(scene, head_obj, local: Matrix, lens: float, sensor_fit='AUTO', resolution=(1080, 1080)):
    """A scene camera at `local` (its matrix relative to the head object)."""
    data = bpy.data.cameras.new("Camera")
    data.lens, data.sensor_fit = lens, sensor_fit
    camera = bpy.data.objects.new("Camera", data)
    scene.collection.objects.link(camera)
    camera.matrix_world = head_obj.matrix_world @ local
    scene.camera = camera
    scene.render.resolution_x, scene.render.resolution_y = resolution
    bpy.context.view_layer.update()
    return camera


def orbit_camera_local(yaw: float, pitch: float = 0.0, distance: float = 0.6) -> Matrix:
    """A camera matrix in the head's Blender-axes frame looking at the built-in head's framing centre from
    `yaw`, `pitch` degrees (as the engine's orbit_direction), pointed the way Blender points cameras."""
    from addon.blender import render_camera
    from addon.blender.axes import to_blender
    from engine.render.camera import orbit_direction

    pivot = render_camera._rest_framing()["pivot"]
    eye = to_blender(pivot + distance * orbit_direction(yaw, pitch))
    rotation = (Vector(to_blender(pivot)) - Vector(eye)).to_track_quat('-Z', 'Y')
    return Matrix.LocRotScale(Vector(eye), rotation, None)
