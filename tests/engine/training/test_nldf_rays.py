"""The torch light-field rays against the numpy reference, on random cameras and head poses."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.head import load_head  # noqa: E402
from engine.render import rays as ref  # noqa: E402
from engine.render.camera import look_at  # noqa: E402
from engine.training import rays as nl  # noqa: E402
from tests.torch_fixtures import one_thread  # noqa: E402,F401  (autouse: torch on one thread)

TOL = 1e-5


@pytest.fixture(scope="module")
def head():
    return load_head()


def random_frames(head, rng, count=4):
    """Cameras around the head, poses within half the joint limits, expressions and translations."""
    cameras, poses = [], []
    for _ in range(count):
        direction = rng.normal(size=3) + [0.0, 0.0, 1.5]
        eye = 1.2 * direction / np.linalg.norm(direction)
        cameras.append(look_at(eye, rng.normal(scale=0.03, size=3), fov_y=rng.uniform(12, 30), width=20, height=16))
        pose = np.zeros((5, 3))
        for j, name in enumerate(("global", "neck", "jaw")):
            low, high = head.joint_limits[name]
            pose[j] = rng.uniform(low, high) * 0.5
        poses.append(pose)
    expression = rng.uniform(0, 1, size=(count, head.exprdirs.shape[2]))
    translation = rng.normal(scale=0.03, size=(count, 3))
    return cameras, np.stack(poses), expression, translation


def rest_joints(head, expression):
    shaped = head.v_template[None].astype(np.float64) + np.einsum("vcs,ts->tvc", head.exprdirs, expression)
    return np.einsum("jv,tvc->tjc", head.j_regressor.astype(np.float64), shaped)


def test_rigid_transform_matches_the_reference(head):
    rng = np.random.default_rng(10)
    _, pose, expression, translation = random_frames(head, rng)
    expected = ref.head_transform(head, pose, translation, expression)
    got = nl.rigid_transform(torch.as_tensor(rest_joints(head, expression)), torch.as_tensor(pose),
                             torch.as_tensor(translation))
    np.testing.assert_allclose(got.numpy(), expected, atol=TOL)


@pytest.mark.parametrize("stride", [1, 4])
def test_head_rays_segments_and_encoding_match_the_reference(head, stride):
    rng = np.random.default_rng(11 + stride)
    cameras, pose, expression, translation = random_frames(head, rng)
    transforms = ref.head_transform(head, pose, translation, expression)
    encoding = ref.RayEncoding(num_points=16, num_frequencies=6)
    origins, directions = nl.head_rays(cameras, torch.as_tensor(transforms), stride)
    features, hit = nl.encode_rays(origins, directions, ref.HEAD_BOX, encoding)
    near, far, _ = nl.light_segments(origins, directions)
    for b, camera in enumerate(cameras):
        o, d = ref.head_rays(camera, transforms[b], stride)
        o, d = o.reshape(-1, 3), d.reshape(-1, 3)
        np.testing.assert_allclose(origins[b].numpy(), o, atol=TOL)
        np.testing.assert_allclose(directions[b].numpy(), d, atol=TOL)
        n, f, h = ref.light_segments(o, d)
        np.testing.assert_array_equal(hit[b].numpy(), h)
        np.testing.assert_allclose(near[b].numpy(), n, atol=TOL)
        np.testing.assert_allclose(far[b].numpy(), f, atol=TOL)
        feats, _ = ref.encode_rays(o, d, ref.HEAD_BOX, encoding)
        np.testing.assert_allclose(features[b].numpy(), feats, atol=TOL)
    assert hit.any() and not hit.all()  # the random views see the box and some background


def test_float32_tensors_agree_with_the_reference_too():
    rng = np.random.default_rng(12)
    origins = rng.normal(size=(64, 3)) + [0.0, 0.0, 1.0]
    directions = -origins + rng.normal(scale=0.05, size=(64, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    directions[0] = [0.0, 0.0, -1.0]  # zero components take the safe reciprocal
    features, hit = nl.encode_rays(torch.tensor(origins, dtype=torch.float32),
                                   torch.tensor(directions, dtype=torch.float32))
    expected, expected_hit = ref.encode_rays(origins, directions)
    assert features.dtype == torch.float32 and torch.isfinite(features).all()
    np.testing.assert_array_equal(hit.numpy(), expected_hit)
    low_frequency = ref.RayEncoding().dim // 4  # the input and first sinusoids; pi 2^7 x amplifies rounding
    np.testing.assert_allclose(features[:, :low_frequency].numpy(), expected[:, :low_frequency], atol=1e-4)


def test_gradients_flow_to_rays_and_pose(head):
    origins = torch.tensor([[0.01, 0.02, 1.0], [0.03, -0.05, 0.9]], dtype=torch.float64, requires_grad=True)
    directions = torch.tensor([[0.0, 0.0, -1.0], [-0.1, 0.05, -1.0]], dtype=torch.float64)
    directions = (directions / directions.norm(dim=-1, keepdim=True)).requires_grad_(True)
    enc = ref.RayEncoding(num_points=4, num_frequencies=2)
    assert torch.autograd.gradcheck(lambda o, d: nl.encode_rays(o, d, ref.HEAD_BOX, enc)[0], (origins, directions))
    joints = torch.as_tensor(head.rest_joints(), dtype=torch.float64)[None]
    pose = torch.zeros(1, 5, 3, dtype=torch.float64)
    pose[0, 1] = torch.tensor([0.2, -0.1, 0.05])
    pose.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: nl.rigid_transform(joints, p), (pose,))
