"""The mesh style teacher: coverage alpha, distinct looks, toon bands and ink, clay grain, jaw locality."""

import dataclasses

import numpy as np
import pytest

from engine.head import load_head
from engine.head.landmarks import landmarks
from engine.render import composite_over, default_framing, rasterize
from engine.render.shading import interpolate
from engine.training.teachers.clay import surface_noise
from engine.training.teachers.mesh import LOOKS, render_teacher

SIZE = 128
LUMA = np.array([0.2126, 0.7152, 0.0722])
JAW_OPEN = 0.3


@pytest.fixture(scope="module")
def head():
    return load_head()


@pytest.fixture(scope="module")
def camera(head):
    return default_framing(head.v_template, SIZE)


@pytest.fixture(scope="module")
def neutral(head, camera):
    return {look: render_teacher(head, {}, camera, look) for look in LOOKS}


def jaw_pose(angle=JAW_OPEN):
    pose = np.zeros((5, 3), np.float32)
    pose[2, 0] = angle
    return pose


def pixels_of(camera, points):
    """Integer (row, column) [N, 2] of the pixels that hold points [N, 3]."""
    uv, _ = camera.project(points)
    return np.floor(uv[:, ::-1]).astype(int)


def near_background(alpha, reach):
    """Fully covered pixels [H, W] within `reach` 4-neighbour steps of a pixel that is not fully covered."""
    grown = alpha < 1
    for _ in range(reach):
        grown = grown | np.roll(grown, 1, 0) | np.roll(grown, -1, 0) | np.roll(grown, 1, 1) | np.roll(grown, -1, 1)
    return grown & (alpha == 1)


@pytest.mark.parametrize("look", sorted(LOOKS))
def test_alpha_is_one_inside_the_silhouette_and_zero_far_outside(head, camera, neutral, look):
    rgba = neutral[look]
    assert rgba.shape == (SIZE, SIZE, 4) and rgba.dtype == np.float32
    assert rgba.min() >= 0.0 and rgba.max() <= 1.0
    alpha = rgba[..., 3]
    rows, cols = pixels_of(camera, landmarks(head, head.v_template)).T
    assert np.all(alpha[rows, cols] == 1.0)
    uv, _ = camera.project(head.v_template)
    (u0, v0), (u1, v1) = np.floor(uv.min(0)).astype(int) - 1, np.ceil(uv.max(0)).astype(int) + 1
    outside = np.ones_like(alpha, dtype=bool)
    outside[max(v0, 0):v1, max(u0, 0):u1] = False
    assert outside.sum() > SIZE * 20 and np.all(alpha[outside] == 0.0)
    assert np.all(rgba[alpha == 0, :3] == 0.0)
    assert np.count_nonzero((alpha > 0) & (alpha < 1)) > 40  # antialiased silhouette


def test_the_two_looks_differ(neutral):
    inside = (neutral["toon"][..., 3] == 1) & (neutral["clay"][..., 3] == 1)
    distance = np.abs(neutral["toon"][inside, :3] - neutral["clay"][inside, :3]).mean()
    assert distance > 0.15


def face_colours(head, camera, rgba):
    """Share of the 16 most common colours among lit, fully covered pixels in the landmarks' box."""
    rows, cols = pixels_of(camera, landmarks(head, head.v_template)).T
    face = rgba[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    keep = (face[..., 3] == 1) & (face[..., :3] @ LUMA > 0.25)  # not ink
    q = np.round(face[keep, :3] * 255).astype(np.int64)
    _, counts = np.unique(q[:, 0] * 65536 + q[:, 1] * 256 + q[:, 2], return_counts=True)
    return np.sort(counts)[::-1][:16].sum() / counts.sum()


def test_toon_has_few_flat_colours_in_the_face_and_clay_does_not(head, camera, neutral):
    assert face_colours(head, camera, neutral["toon"]) > 0.85
    assert face_colours(head, camera, neutral["clay"]) < 0.3


def test_toon_draws_dark_outlines_along_the_silhouette(head):
    camera = default_framing(head.v_template, 256)
    for look, low, high in (("toon", 0.75, 1.0), ("clay", 0.0, 0.1)):
        rgba = render_teacher(head, {}, camera, look)
        ring = near_background(rgba[..., 3], 2)
        dark = np.mean(rgba[ring, :3] @ LUMA < 0.2)
        assert ring.sum() > 500 and low <= dark <= high, (look, dark)


@pytest.mark.parametrize("look", sorted(LOOKS))
def test_renders_are_deterministic(head, camera, neutral, look):
    again = render_teacher(head, {}, camera, look)
    np.testing.assert_array_equal(again, neutral[look])


def grain_ratio(head, camera, params, look):
    """Red channel of `look` over the same look without grain [H, W] (NaN where it cannot be read)."""
    plain = dataclasses.replace(look, grain=())
    grainy = render_teacher(head, params, camera, look, supersample=1)
    smooth = render_teacher(head, params, camera, plain, supersample=1)
    readable = (grainy[..., 3] == 1) & (grainy[..., :3].max(-1) < 0.99) & (smooth[..., 0] > 0.05)
    return np.where(readable, grainy[..., 0] / np.maximum(smooth[..., 0], 1e-6), np.nan)


def grain_on_the_surface(head, camera, params, look):
    """1 + the clay noise at the neutral canonical point seen at each pixel [H, W] (NaN on the background)."""
    vertices, _ = head.forward(pose=params["pose"])
    fragments = rasterize(camera, vertices[0], head.faces)
    mask = fragments.mask
    rest = interpolate(head.v_template, head.faces[fragments.triangle_id[mask]], fragments.barycentrics[mask])
    out = np.full(mask.shape, np.nan)
    out[mask] = 1.0 + surface_noise(rest, look.grain)
    return out


def correlation(a, b):
    keep = np.isfinite(a) & np.isfinite(b)
    assert keep.sum() > 1000
    return np.corrcoef(a[keep], b[keep])[0, 1]


def test_clay_grain_is_painted_on_the_surface_and_follows_it(head, camera):
    look = dataclasses.replace(LOOKS["clay"], sheen=0.0)  # the sheen adds light; without it the grain is a ratio
    turned = np.zeros((5, 3), np.float32)
    turned[0, 1] = 0.08  # a small head turn
    still = grain_ratio(head, camera, {"pose": np.zeros((5, 3))}, look)
    moved = grain_ratio(head, camera, {"pose": turned}, look)
    assert correlation(moved, grain_on_the_surface(head, camera, {"pose": turned}, look)) > 0.99
    assert correlation(moved, still) < 0.5  # in screen space the grain did move
    np.testing.assert_array_equal(still, grain_ratio(head, camera, {"pose": np.zeros((5, 3))}, look))


@pytest.mark.parametrize("look", sorted(LOOKS))
def test_opening_the_jaw_changes_pixels_mostly_around_the_mouth(head, camera, neutral, look):
    opened = render_teacher(head, {"pose": jaw_pose()}, camera, look)
    change = np.abs(composite_over(opened) - composite_over(neutral[look])).sum(-1)
    open_vertices, _ = head.forward(pose=jaw_pose())
    ids = list(head.landmark_embedding.ids)
    mouth_and_chin = [k for k, i in enumerate(ids) if 48 <= i <= 67 or 5 <= i <= 11]
    points = np.concatenate([landmarks(head, v)[mouth_and_chin] for v in (head.v_template, open_vertices[0])])
    rows, cols = pixels_of(camera, points).T
    pad = 4
    region = np.zeros(change.shape, dtype=bool)
    region[rows.min() - pad:rows.max() + pad + 1, cols.min() - pad:cols.max() + pad + 1] = True
    assert region.mean() < 0.15 and change.sum() > 100
    assert change[region].sum() / change.sum() > 0.85
