"""Camera: projection, look_at, framing and rays against known answers."""

import numpy as np
import pytest

from engine.errors import InputError
from engine.render.camera import Camera, default_framing, look_at, rays


def test_point_on_the_optical_axis_lands_at_the_image_centre():
    cam = look_at(eye=(0.3, 0.2, 1.0), target=(0.0, 0.05, 0.0), width=64, height=48)
    axis_point = cam.position + 2.0 * (np.array([0.0, 0.05, 0.0]) - cam.position)
    pixels, depth = cam.project(axis_point[None])
    np.testing.assert_allclose(pixels[0], [32.0, 24.0], atol=1e-9)
    assert depth[0] == pytest.approx(2.0 * np.linalg.norm([0.3, 0.15, 1.0]))


def test_look_at_rotation_is_orthonormal_and_right_handed():
    cam = look_at(eye=(0.5, -0.2, 0.7), target=(0.0, 0.1, 0.0))
    R = cam.rotation
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)


def test_front_camera_sees_plus_x_on_the_right_and_plus_y_up():
    cam = look_at(eye=(0.0, 0.0, 1.0), target=(0.0, 0.0, 0.0), width=100, height=100)
    pixels, _ = cam.project(np.array([[0.1, 0.0, 0.0], [0.0, 0.1, 0.0]]))
    assert pixels[0, 0] > 50 and pixels[0, 1] == pytest.approx(50)
    assert pixels[1, 1] < 50 and pixels[1, 0] == pytest.approx(50)


def test_field_of_view_round_trips():
    cam = Camera.from_fov(18.0, 256, 256)
    assert cam.fov_y == pytest.approx(18.0)
    assert cam.scaled(2).fov_y == pytest.approx(18.0)
    with pytest.raises(InputError):
        Camera.from_fov(0.0, 10, 10)


def test_rays_through_pixel_centres_hit_projected_points():
    cam = look_at(eye=(0.2, 0.1, 0.9), target=(0.0, 0.0, 0.0), width=8, height=6)
    origins, directions = rays(cam)
    assert origins.shape == directions.shape == (6, 8, 3)
    np.testing.assert_allclose(np.linalg.norm(directions, axis=-1), 1.0, atol=1e-12)
    points = origins + 0.7 * directions
    pixels, depth = cam.project(points.reshape(-1, 3))
    j, i = np.meshgrid(np.arange(8), np.arange(6))
    np.testing.assert_allclose(pixels[:, 0], j.ravel() + 0.5, atol=1e-9)
    np.testing.assert_allclose(pixels[:, 1], i.ravel() + 0.5, atol=1e-9)
    assert np.all(depth > 0)


def test_default_framing_fits_the_head_in_the_frame():
    rng = np.random.default_rng(0)
    head = rng.normal(size=(500, 3)) * [0.08, 0.11, 0.09] + [0.0, 0.02, 0.0]
    for yaw, pitch in ((0, 0), (35, 10), (-60, -5)):
        cam = default_framing(head, 128, yaw=yaw, pitch=pitch)
        pixels, depth = cam.project(head)
        assert np.all(depth > 0)
        assert pixels.min() >= 0 and pixels.max() <= 128
        span = pixels.max(0) - pixels.min(0)
        assert span.max() > 0.7 * 128  # fills the frame, not a speck
    front = default_framing(head, 128)
    np.testing.assert_allclose(front.rotation[2], [0, 0, -1], atol=1e-12)  # looks along -Z at the face
