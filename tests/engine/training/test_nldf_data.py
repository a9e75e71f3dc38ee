"""Teacher frames for NLDF distillation: parameter sampling, the disk cache, and the mouth/brow weight maps."""

import numpy as np
import pytest

pytest.importorskip("torch")

from engine.head import load_head  # noqa: E402
from engine.head.landmarks import landmarks  # noqa: E402
from engine.head.model import JOINT_NAMES  # noqa: E402
from engine.render.camera import look_at  # noqa: E402
from engine.training.nldf import data  # noqa: E402
from tests.nldf_looks import tiny_config  # noqa: E402


@pytest.fixture(scope="module")
def head():
    return load_head()


def motion(head, frames=5):
    rng = np.random.default_rng(0)
    pose = np.zeros((frames, 5, 3), np.float32)
    pose[:, JOINT_NAMES.index("jaw"), 0] = rng.uniform(0, 0.3, frames)
    return {"expression": rng.uniform(0, 1, (frames, len(head.expression_names))).astype(np.float32),
            "pose": pose, "translation": np.zeros((frames, 3), np.float32)}


def test_region_mask_is_the_projected_box_with_its_margin():
    camera = look_at((0.0, 0.0, 1.0), (0.0, 0.0, 0.0), width=64, height=64)
    points = np.array([[-0.02, -0.01, 0.0], [0.02, 0.01, 0.0]])
    pixels, _ = camera.project(points)
    tight = data.region_mask(camera, points, margin=0.0)
    rows, cols = np.nonzero(tight)
    assert cols.min() + 0.5 >= pixels[:, 0].min() - 1 and cols.max() + 0.5 <= pixels[:, 0].max() + 1
    assert tight[32, 32] and not tight[0, 0]
    grown = data.region_mask(camera, points, margin=0.5)
    assert grown.sum() > 1.5 * tight.sum() and np.all(grown[tight])


def test_sampled_parameters_stay_in_range(head):
    config = tiny_config(expression_jitter=0.5, jaw_jitter=0.5, neck_jitter=2.0)
    specs = data.sample_specs(config, head, 200, seed=3, motion=motion(head))
    assert specs.expression.min() >= 0.0 and specs.expression.max() <= 1.0
    for joint in ("jaw", "neck", "eye_left"):
        low, high = head.joint_limits[joint]
        values = specs.pose[:, JOINT_NAMES.index(joint)]
        assert np.all(values >= low - 1e-6) and np.all(values <= high + 1e-6)
    assert np.abs(specs.yaw).max() <= 30.0 and np.abs(specs.pitch).max() <= 15.0
    assert np.abs(specs.yaw).max() > 20.0  # cameras do orbit
    fewer = data.sample_specs(config, head, 50, seed=3, motion=motion(head))
    assert np.array_equal(fewer.pose, specs.pose[:50]) and np.array_equal(fewer.yaw, specs.yaw[:50])


def test_mouth_weight_is_higher_inside_the_projected_mouth_box(head):
    config = tiny_config(image_size=64, mouth_weight=4.0, brow_weight=2.0)
    specs = data.sample_specs(config, head, 3, seed=1, motion=motion(head))
    rgba = np.zeros((3, 64, 64, 4), np.float32)
    frames = data.prepare_frames(config, head, specs, rgba)
    vertices, _ = head.forward(specs.expression, specs.pose, translation=specs.translation)
    ids = list(head.landmark_embedding.ids)
    for k, camera in enumerate(frames.cameras):
        mouth = landmarks(head, vertices[k])[[ids.index(i) for i in data.MOUTH_LANDMARKS]]
        pixels, _ = camera.project(mouth)
        u, v = np.floor(pixels.mean(axis=0)).astype(int)
        assert frames.mouth[k, v, u] and frames.weights[k, v, u] == pytest.approx(5.0)
        inside = frames.weights[k][frames.mouth[k]]
        outside = frames.weights[k][~frames.mouth[k]]
        assert inside.min() >= 5.0 and np.median(outside) == 1.0
        brow = landmarks(head, vertices[k])[ids.index(19)]
        bu, bv = np.floor(camera.project(brow[None])[0][0]).astype(int)
        assert frames.weights[k, bv, bu] == pytest.approx(3.0)
        assert 0.005 < frames.mouth[k].mean() < 0.2


def test_teacher_frames_are_cached_and_read_back(head, tmp_path):
    calls = []

    def teacher(params, camera):
        calls.append(camera.width)
        return np.full((camera.height, camera.width, 4), 0.5, np.float32)

    config = tiny_config(shard_frames=2)
    specs = data.sample_specs(config, head, 5, seed=0, motion=motion(head))
    first = data.teacher_frames(config, head, teacher, "grey", specs, tmp_path)
    assert len(calls) == 5 and len(list(tmp_path.glob("grey_16_*.npz"))) == 3
    again = data.teacher_frames(config, head, teacher, "grey", specs, tmp_path)
    assert len(calls) == 5 and np.array_equal(again.rgba, first.rgba)
    other = data.sample_specs(config, head, 5, seed=1, motion=motion(head))
    data.teacher_frames(config, head, teacher, "grey", other, tmp_path)
    assert len(calls) == 10  # other parameters, other shards


def test_eye_weight_raises_the_weight_inside_the_eye_boxes_and_defaults_to_none(head):
    specs = data.sample_specs(tiny_config(image_size=64), head, 2, seed=2, motion=motion(head))
    rgba = np.zeros((2, 64, 64, 4), np.float32)
    plain = data.prepare_frames(tiny_config(image_size=64), head, specs, rgba)
    weighted = data.prepare_frames(tiny_config(image_size=64, eye_weight=3.0), head, specs, rgba)
    vertices, _ = head.forward(specs.expression, specs.pose, translation=specs.translation)
    ids = list(head.landmark_embedding.ids)
    for k, camera in enumerate(weighted.cameras):
        for eye in data.EYE_LANDMARKS:
            centre = landmarks(head, vertices[k])[[ids.index(i) for i in eye]].mean(axis=0)
            u, v = np.floor(camera.project(centre[None])[0][0]).astype(int)
            assert weighted.eyes[k, v, u] and weighted.weights[k, v, u] == pytest.approx(plain.weights[k, v, u] + 3.0)
        assert 0.002 < weighted.eyes[k].mean() < 0.2 and not np.any(weighted.eyes[k] & weighted.mouth[k])
    # outside the eye boxes, and everywhere at the default eye_weight=0, the weights are the old ones
    assert np.array_equal(weighted.weights[~weighted.eyes], plain.weights[~weighted.eyes])
    assert np.array_equal(plain.eyes, weighted.eyes) and plain.weights[plain.eyes].min() >= 1.0
    assert tiny_config().eye_weight == 0.0
