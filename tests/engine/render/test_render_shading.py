"""Shading: value ranges, alpha as coverage, supersampling and a speed guard."""

import time

import numpy as np
import pytest

from engine.errors import InputError
from tests.meshes import uv_sphere as shared_uv_sphere
from engine.render import composite_over, default_framing, look_at, rasterize, render_mesh, shade, vertex_normals


def uv_sphere(n_lat=24, n_lon=32, radius=0.1):
    """A closed UV sphere: vertices [V, 3], counter-clockwise faces [F, 3] (outward normals)."""
    return shared_uv_sphere(n_lat, n_lon, radius)


def test_vertex_normals_of_a_sphere_point_outwards():
    verts, faces = uv_sphere()
    normals = vertex_normals(verts, faces)
    cosine = (normals * verts / 0.1).sum(1)
    assert cosine.min() > 0.98


def test_shaded_sphere_has_valid_colours_and_coverage_alpha():
    verts, faces = uv_sphere()
    cam = default_framing(verts, 48)
    rgba = render_mesh(cam, verts, faces, supersample=2)
    assert rgba.shape == (48, 48, 4) and rgba.dtype == np.float32
    assert rgba.min() >= 0.0 and rgba.max() <= 1.0
    alpha = rgba[..., 3]
    assert alpha[24, 24] == 1.0 and alpha[0, 0] == 0.0
    edge = (alpha > 0) & (alpha < 1)
    assert edge.sum() > 20  # antialiased silhouette
    assert set(np.unique(alpha)) <= {0.0, 0.25, 0.5, 0.75, 1.0}
    lit = rgba[alpha == 1, :3]
    assert lit.std() > 0.02  # not flat: the lights shape the sphere
    assert np.all(rgba[alpha == 0, :3] == 0)


def test_shade_without_supersampling_matches_the_fragments():
    verts, faces = uv_sphere()
    cam = default_framing(verts, 32, yaw=30)
    frags = rasterize(cam, verts, faces, cull_backfaces=True)
    colors = np.tile([0.8, 0.2, 0.2], (len(verts), 1))
    rgba = shade(frags, cam, verts, faces, colors)
    np.testing.assert_array_equal(rgba[..., 3] == 1, frags.mask)
    red = rgba[frags.mask]
    assert np.all(red[:, 0] >= red[:, 1])
    with pytest.raises(InputError):
        shade(frags, cam, verts, faces, colors[:5])


def test_composite_over_a_background():
    rgba = np.zeros((2, 2, 4), np.float32)
    rgba[0, 0] = [1, 0, 0, 1]
    rgba[0, 1] = [1, 0, 0, 0.5]
    rgb = composite_over(rgba, (0, 0, 1))
    np.testing.assert_allclose(rgb[0, 0], [1, 0, 0])
    np.testing.assert_allclose(rgb[0, 1], [0.5, 0, 0.5])
    np.testing.assert_allclose(rgb[1, 1], [0, 0, 1])


def test_a_ten_thousand_triangle_mesh_renders_quickly():
    verts, faces = uv_sphere(70, 72)
    assert len(faces) > 10000
    cam = default_framing(verts, 256)
    render_mesh(cam, verts, faces, supersample=1)
    start = time.perf_counter()
    render_mesh(cam, verts, faces, supersample=1)
    assert time.perf_counter() - start < 1.0  # ~20 ms on one core; generous for shared CI


def test_grazing_silhouette_is_not_lit_from_below():
    """Smooth normals that tip away from the camera at a silhouette are bent, not flipped: flipping
    turns an upward normal downward and paints a dark fringe along the top of a head."""
    verts, faces = uv_sphere(n_lat=8, n_lon=12)
    cam = look_at(eye=(0.0, 0.15, 0.9), target=(0.0, 0.095, 0.0), fov_y=3.0, width=96, height=96)
    image = render_mesh(cam, verts, faces, supersample=1)
    covered = image[..., 3] > 0.5
    luminance = image[..., :3].sum(-1)
    assert covered.any()
    assert luminance[covered].min() > 0.7 * np.median(luminance[covered])  # flipped normals: 0.45
