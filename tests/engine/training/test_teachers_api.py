"""The teacher API: face regions, frame parameters, the (params, camera) -> RGBA function, the looks sheet."""

import dataclasses

import numpy as np
import pytest

from engine.errors import InputError
from engine.head import load_head
from engine.motion import MotionClip
from engine.preview.png import read_png
from engine.render import default_framing
from engine.training.teachers import LOOKS, frame_params, render_teacher, teacher
from engine.training.teachers import regions as R
from engine.training.teachers.sheet import VIEWS, looks_sheet, save_looks_sheet


@pytest.fixture(scope="module")
def head():
    return load_head()


def iou(a, b):
    a, b = set(np.asarray(a).tolist()), set(np.asarray(b).tolist())
    return len(a & b) / len(a | b)


def test_every_region_of_the_built_in_head_is_labelled(head):
    labels = R.vertex_regions(head)
    counts = np.bincount(labels, minlength=len(R.REGION_NAMES))
    assert np.all(counts > 0), dict(zip(R.REGION_NAMES, counts))
    assert np.all(labels[head.regions["lips"]] == R.LIPS)
    for eyeball in (head.regions["eyeball_left"], head.regions["eyeball_right"]):
        z = head.v_template[eyeball, 2]
        eye = labels[eyeball]
        assert z[eye == R.PUPIL].mean() > z[eye == R.IRIS].mean() > z[eye == R.SCLERA].mean()


def test_a_head_without_named_regions_gets_lips_and_brows_from_its_landmarks(head):
    bare = dataclasses.replace(head, regions={})
    labels = R.vertex_regions(bare)
    assert iou(np.flatnonzero(labels == R.LIPS), head.regions["lips"]) > 0.5
    assert iou(np.flatnonzero(labels == R.BROWS), head.regions["brows"]) > 0.4
    assert not np.any(labels == R.MOUTH)  # no cavity region: nothing to call the mouth's inside
    assert np.count_nonzero(labels == R.PUPIL) == np.count_nonzero(R.vertex_regions(head) == R.PUPIL)


def test_point_in_polygon_known_answers():
    l_shape = np.array([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]], dtype=float)
    points = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5], [-0.1, 0.5], [2.5, 0.5]])
    assert R.point_in_polygon(points, l_shape).tolist() == [True, True, True, False, False, False]


def test_frame_params_from_a_clip_frame_equal_the_dict(head):
    values = np.zeros((3, 2), np.float32)
    values[1] = [0.25, 0.6]
    clip = MotionClip(["jaw_rx", "mouthFunnel"], values, 30.0)
    from_clip = frame_params(head, (clip, 1))
    expression = np.zeros(len(head.expression_names), np.float32)
    expression[head.expression_index("mouthFunnel")] = 0.6
    pose = np.zeros((5, 3), np.float32)
    pose[2, 0] = 0.25
    from_dict = frame_params(head, {"expression": expression, "pose": pose[None]})
    for key in ("expression", "pose", "translation"):
        np.testing.assert_array_equal(from_clip[key], from_dict[key])
    with pytest.raises(InputError):
        frame_params(head, (clip, 3))
    with pytest.raises(InputError):
        frame_params(head, {"pose": np.zeros((4, 3))})
    with pytest.raises(InputError):
        frame_params(head, {"jaw": 0.3})


def test_teacher_is_a_function_of_parameters_and_camera(head):
    camera = default_framing(head.v_template, 48)
    params = {"pose": np.array([[0, 0.1, 0], [0, 0, 0], [0.2, 0, 0], [0, 0, 0], [0, 0, 0]])}
    clay = teacher("clay", head)
    np.testing.assert_array_equal(clay(params, camera), render_teacher(head, params, camera, "clay"))
    assert not np.array_equal(clay(params, camera), clay({}, camera))
    assert set(LOOKS) >= {"toon", "clay"}
    with pytest.raises(InputError):
        teacher("watercolour", head)
    with pytest.raises(InputError):
        render_teacher(head, {}, camera, "toon", supersample=0)


def test_the_looks_sheet_shows_every_look_in_every_frame(head, tmp_path):
    sheet = looks_sheet(head, size=40)
    columns = 2 * len(VIEWS)
    assert sheet.dtype == np.uint8 and sheet.shape[1] > columns * 40 and sheet.shape[0] > len(LOOKS) * 40
    path = save_looks_sheet(tmp_path / "looks.png", head, size=40)
    np.testing.assert_array_equal(read_png(path), sheet)
