"""Super-resolution looks see the head at the pixel scale they were distilled at: a camera that shows the head
smaller or larger renders the box's window of its frame, zoomed to that scale, and resamples it back."""

from pathlib import Path

import numpy as np

from engine.head import load_head
from engine.nldf.look import Look
from engine.nldf.render import default_camera, native_view, resample
from engine.render.camera import look_at
from engine.render.rays import HEAD_BOX

SIDECAR = {"mode": "superres", "trained_size": 256, "ray_stride": 8, "image_sizes": "any"}


def superres_look() -> Look:
    """A look's framing facts without its network (native_view needs no session)."""
    return Look(session=None, sidecar=dict(SIDECAR), path=Path("nldf_window.onnx"), head=load_head(), box=HEAD_BOX)


def box_corners() -> np.ndarray:
    low, high = HEAD_BOX.low, HEAD_BOX.high
    return np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])


def test_the_trained_framing_renders_whole_and_a_smaller_head_its_window_at_the_trained_scale():
    look = superres_look()
    trained = default_camera(look, 256)
    assert native_view(look, trained, np.eye(4)) == (trained, None)
    crop, window = native_view(look, default_camera(look, 128), np.eye(4))  # the same view: the whole frame
    assert (crop.width, crop.height, crop.fy, window) == (256, 256, trained.fy, None)

    eye = trained.position + np.array([0.3, 0.1, 0.8])  # farther, turned: the head under half as large
    far = look_at(eye, HEAD_BOX.center, fov_y=30.0, width=320, height=180)
    crop, (scale, x0, y0) = native_view(look, far, np.eye(4))
    depth = lambda camera: camera.to_camera(HEAD_BOX.center[None])[0, 2]  # noqa: E731
    assert np.isclose(crop.fy / depth(crop), trained.fy / depth(trained))  # pixels per metre as trained
    assert scale > 2.0 and crop.width % 8 == 0 and crop.height % 8 == 0 and x0 % 8 == 0 and y0 % 8 == 0
    assert crop.width * crop.height < 0.6 * (far.width * scale) * (far.height * scale)  # a window, not the frame
    ours, _ = crop.project(box_corners())
    theirs, _ = far.project(box_corners())
    np.testing.assert_allclose(ours, scale * theirs - (x0, y0), atol=1e-6)
    assert ours.min() >= 16 and ours[:, 0].max() <= crop.width - 16 and ours[:, 1].max() <= crop.height - 16


def test_a_camera_inside_the_box_renders_the_whole_frame_at_the_trained_size():
    look = superres_look()
    inside = look_at(HEAD_BOX.center, HEAD_BOX.center + np.array([0.0, 0.0, -1.0]), width=400, height=200)
    crop, window = native_view(look, inside, np.eye(4))
    assert (crop.width, crop.height) == (256, 128) and window is None


def test_resampling_a_window_puts_each_frame_pixel_where_the_window_says():
    ramp = np.zeros((6, 40, 4), np.float32)
    ramp[..., 0] = np.arange(40)[None, :] / 100.0  # red: the window's column / 100
    ramp[..., 3] = 1.0
    out = resample(ramp, 3, 12, window=(2.0, 4, 0))  # frame column u is window column 2 u - 4
    expected = ((np.arange(12) + 0.5) * 2.0 - 4 - 0.5) / 100.0
    np.testing.assert_allclose(out[1, 2:, 0], expected[2:], atol=1e-6)
    np.testing.assert_allclose(out[..., 2:, 3], 1.0)
    np.testing.assert_allclose(out[..., :2, 3], 0.0)  # columns 0 and 1 lie left of the window: nothing there


def test_the_posed_head_narrows_the_window_to_itself_with_room_for_the_graphs_reach():
    from engine.motion import MotionClip
    from engine.nldf.render import WINDOW_MARGIN, head_extent

    look = superres_look()
    clip = MotionClip(names=["jaw_rx", "neck_ry"], values=np.array([[0.3, 0.4]], np.float32), fps=25.0)
    params = clip.head_params(look.head)
    from engine.render.rays import head_transform

    transform = head_transform(look.head, params["pose"], params["translation"], params["expression"])[0]
    far = look_at(default_camera(look, 256).position * 1.6, HEAD_BOX.center, fov_y=30.0, width=256, height=256)
    extent = head_extent(look, params, 0)
    box_crop, _ = native_view(look, far, transform)
    crop, (scale, x0, y0) = native_view(look, far, transform, extent)
    assert crop.width * crop.height < 0.8 * box_crop.width * box_crop.height
    pixels, _ = crop.project(extent)
    room = WINDOW_MARGIN * 8 - 8  # the margin, less the rounding to the ray grid
    assert pixels.min() >= room and pixels[:, 0].max() <= crop.width - room and pixels[:, 1].max() <= crop.height - room
