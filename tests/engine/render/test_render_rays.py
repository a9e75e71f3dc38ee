"""Light-field rays (numpy reference): the head's pose, light segments, points and encoding."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.errors import InputError
from engine.head import load_head
from engine.render.camera import Camera, look_at, pixel_directions
from engine.render.camera import rays as world_rays
from engine.render.camera import default_framing
from engine.render.rays import (HEAD_BOX, Box, RayEncoding, box_mask, encode_points, encode_rays, head_bounds,
                                head_rays, head_transform, light_segments, pixel_grid, positional_encoding, segment_points,
                                to_canonical)

BOX = Box(low=(-1.0, -2.0, -0.5), high=(3.0, 2.0, 1.5))  # centre (1, 0, 0.5), half sizes (2, 2, 1)


@pytest.fixture(scope="module")
def head():
    return load_head()


def random_pose(rng, head):
    pose = np.zeros((5, 3))
    for j, name in enumerate(("global", "neck", "jaw")):
        low, high = head.joint_limits[name]
        pose[j] = rng.uniform(low, high) * 0.5
    return pose


def test_a_ray_through_the_box_centre_enters_and_exits_at_the_analytic_distances():
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        s = rng.uniform(5.0, 9.0)  # start outside, s metres before the centre
        reach = np.min(BOX.half_size / np.abs(d))  # centre to the box's surface along d
        near, far, hit = light_segments(BOX.center - s * d, d, BOX)
        assert hit
        np.testing.assert_allclose([near, far], [s - reach, s + reach], atol=1e-12)
    near, far, hit = light_segments(np.array([1.0, 0.0, 10.0]), np.array([0.0, 0.0, -1.0]), BOX)
    assert hit and near == pytest.approx(8.5) and far == pytest.approx(10.5)


def test_rays_that_miss_the_box_are_masked_out():
    origins = np.array([[1.0, 3.0, 10.0],     # passes above the box, parallel to z
                        [1.0, 0.0, 10.0],     # points away from the box
                        [-5.0, -5.0, 0.5],    # diagonal that passes beside a corner
                        [1.0, 0.0, 0.5]])     # starts at the centre: inside
    directions = np.array([[0.0, 0.0, -1.0], [0.0, 0.0, 1.0],
                           [1.0, -1.0, 0.0] / np.sqrt(2), [0.0, 1.0, 0.0]])
    near, far, hit = light_segments(origins, directions, BOX)
    assert hit.tolist() == [False, False, False, True]
    assert np.all(near[:3] == 0) and np.all(far[:3] == 0)
    assert near[3] == 0.0 and far[3] == pytest.approx(2.0)


def test_points_lie_evenly_on_the_segment_inside_the_box():
    rng = np.random.default_rng(1)
    origins = rng.uniform(-6, 6, size=(200, 3))
    directions = BOX.center + rng.uniform(-2, 2, size=(200, 3)) - origins
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    near, far, hit = light_segments(origins, directions, BOX)
    points = segment_points(origins, directions, near, far, 16)
    assert points.shape == (200, 16, 3) and hit.sum() > 100
    p = points[hit]
    np.testing.assert_allclose(p[:, 0], origins[hit] + near[hit, None] * directions[hit], atol=1e-12)
    np.testing.assert_allclose(p[:, -1], origins[hit] + far[hit, None] * directions[hit], atol=1e-12)
    steps = np.diff(p, axis=1)
    np.testing.assert_allclose(steps, np.broadcast_to(steps[:, :1], steps.shape), atol=1e-12)
    grown = Box(tuple(np.array(BOX.low) - 1e-9), tuple(np.array(BOX.high) + 1e-9))
    assert grown.contains(p).all()
    beyond = origins[hit] + (far[hit, None] + 0.01) * directions[hit]  # the exit really is the exit
    assert not grown.contains(beyond).any()


def test_positional_encoding_of_a_known_input():
    x = np.array([[0.5, -0.25]])
    enc = positional_encoding(x, num_frequencies=2)
    s, c = np.sin, np.cos
    expected = [0.5, -0.25, s(np.pi / 2), s(-np.pi / 4), c(np.pi / 2), c(-np.pi / 4),
                s(np.pi), s(-np.pi / 2), c(np.pi), c(-np.pi / 2)]
    np.testing.assert_allclose(enc[0], expected, atol=1e-12)
    assert positional_encoding(x, 3, include_input=False).shape == (1, 12)


def test_encoded_rays_have_the_documented_shape_and_normalised_points():
    encoding = RayEncoding(num_points=4, num_frequencies=3)
    assert encoding.dim == 3 * 4 * 7
    corners = np.array([[BOX.low, BOX.high, BOX.center, BOX.center]])  # [1, K=4, 3]
    features = encode_points(corners, BOX, encoding)
    assert features.shape == (1, encoding.dim)
    np.testing.assert_allclose(features[0, :12], [-1, -1, -1, 1, 1, 1, 0, 0, 0, 0, 0, 0], atol=1e-12)
    origins, directions = np.zeros((5, 7, 3)), np.tile([0.0, 0.0, 1.0], (5, 7, 1))
    features, hit = encode_rays(origins - [0, 0, 5], directions, HEAD_BOX)
    assert features.shape == (5, 7, RayEncoding().dim) and hit.shape == (5, 7) and hit.all()


def test_head_transform_carries_the_vertices_bound_to_the_neck(head):
    rng = np.random.default_rng(2)
    only_neck = np.flatnonzero(head.weights[:, 1] > 1 - 1e-6)
    expression = rng.uniform(0, 1, size=(3, head.exprdirs.shape[2])) * 0.5
    pose = np.stack([random_pose(rng, head) for _ in range(3)])
    pose[:, 2:] = 0.0  # jaw and eyes move vertices within the head's frame
    translation = rng.normal(scale=0.05, size=(3, 3))
    posed, _ = head.forward(expression, pose, translation=translation)
    rest, _ = head.forward(expression)
    M = head_transform(head, pose, translation, expression)
    carried = np.einsum("tij,tvj->tvi", M[:, :3, :3], rest[:, only_neck]) + M[:, None, :3, 3]
    np.testing.assert_allclose(carried, posed[:, only_neck], atol=2e-6)
    assert np.abs(posed[:, only_neck] - rest[:, only_neck]).max() > 0.01  # the pose really moved them


def moved_pose(head, pose, translation, q_rot, q_shift):
    """Global rotation and translation that move the whole head by x -> q_rot x + q_shift."""
    new = pose.copy()
    new[0] = Rotation.from_matrix(q_rot @ Rotation.from_rotvec(pose[0]).as_matrix()).as_rotvec()
    M, M_new = head_transform(head, pose, translation)[0], head_transform(head, new)[0]
    return new, q_rot @ M[:3, 3] + q_shift - M_new[:3, 3]


def test_moving_head_and_camera_together_leaves_the_canonical_rays_unchanged(head):
    rng = np.random.default_rng(3)
    pose, translation = random_pose(rng, head), rng.normal(scale=0.02, size=3)
    camera = look_at([0.3, 0.1, 1.0], [0.0, 0.0, 0.0], width=24, height=16)
    q_rot, q_shift = Rotation.from_rotvec(rng.normal(scale=0.6, size=3)).as_matrix(), rng.normal(scale=0.3, size=3)
    pose2, translation2 = moved_pose(head, pose, translation, q_rot, q_shift)
    before, _ = head.forward(pose=pose, translation=translation[None])
    after, _ = head.forward(pose=pose2, translation=translation2[None])
    np.testing.assert_allclose(after[0], before[0] @ q_rot.T + q_shift, atol=1e-5)  # the head moved by Q
    rotation = camera.rotation @ q_rot.T  # the camera moved by Q too: E' = E Q^-1
    moved = Camera(camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy,
                   rotation, camera.translation - rotation @ q_shift)
    o1, d1 = head_rays(camera, head_transform(head, pose, translation)[0])
    o2, d2 = head_rays(moved, head_transform(head, pose2, translation2)[0])
    np.testing.assert_allclose(o2, o1, atol=1e-9)
    np.testing.assert_allclose(d2, d1, atol=1e-9)
    o3, _ = head_rays(camera, head_transform(head, pose2, translation2)[0])
    assert np.abs(o3 - o1).max() > 0.01  # the head alone moving does change them


def test_to_canonical_inverts_the_transform():
    rng = np.random.default_rng(4)
    M = np.eye(4)
    M[:3, :3] = Rotation.from_rotvec(rng.normal(size=3)).as_matrix()
    M[:3, 3] = rng.normal(size=3)
    points, directions = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
    world = points @ M[:3, :3].T + M[:3, 3]
    o, d = to_canonical(world, directions @ M[:3, :3].T, M)
    np.testing.assert_allclose(o, points, atol=1e-12)
    np.testing.assert_allclose(d, directions, atol=1e-12)


def test_pixel_grid_strides_match_the_low_resolution_camera():
    camera = look_at([0.2, 0.0, 1.0], [0.0, 0.0, 0.0], width=32, height=24)
    u, v = pixel_grid(camera, 1)
    _, directions = world_rays(camera)
    np.testing.assert_allclose(pixel_directions(camera, u, v), directions, atol=1e-12)
    u4, v4 = pixel_grid(camera, 4)
    assert u4.shape == (6, 8)
    _, small = world_rays(camera.resized(8, 6))
    np.testing.assert_allclose(pixel_directions(camera, u4, v4), small, atol=1e-12)
    o, d = head_rays(camera, np.eye(4), stride=4)
    assert o.shape == d.shape == (6, 8, 3)
    with pytest.raises(InputError):
        pixel_grid(camera, 5)


def test_head_box_holds_the_head_under_extreme_expressions_and_poses(head):
    bounds = head_bounds(head)
    low, high = np.array(HEAD_BOX.low), np.array(HEAD_BOX.high)
    assert np.all(low <= bounds.low) and np.all(high >= bounds.high)
    assert np.all(np.array(bounds.low) - low < 0.01) and np.all(high - np.array(bounds.high) < 0.01)  # tight
    rest = head.v_template
    assert np.all(bounds.low < rest.min(0)) and np.all(bounds.high > rest.max(0))


def test_the_fast_box_mask_is_the_slab_test_of_every_pixel(head):
    rng = np.random.default_rng(3)
    for k in range(12):
        camera = default_framing(head.v_template, (32, 48, 64)[k % 3], yaw=rng.uniform(-70, 70),
                                 pitch=rng.uniform(-40, 40))
        pose = np.zeros((5, 3))
        pose[1] = rng.uniform(-0.4, 0.4, 3)
        transform = head_transform(head, pose, rng.uniform(-0.02, 0.02, (1, 3)))[0]
        expected = light_segments(*head_rays(camera, transform))[2]
        assert 0 < expected.sum() < expected.size
        np.testing.assert_array_equal(box_mask(camera, transform), expected)


def test_the_box_mask_of_a_camera_inside_the_box_falls_back_to_the_slab_test():
    box = Box((-1.0, -1.0, -1.0), (1.0, 1.0, 1.0))
    camera = look_at([0.0, 0.0, 0.5], [0.0, 0.0, 0.0], width=16, height=16)
    mask = box_mask(camera, np.eye(4), box)
    assert mask.all() and np.array_equal(mask, light_segments(*head_rays(camera, np.eye(4)), box)[2])
