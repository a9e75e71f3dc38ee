"""Rasterizer: coverage, depth order and barycentrics against brute-force references."""

import numpy as np

from engine.render.camera import Camera, look_at, rays
from engine.render.raster import rasterize
from tests.meshes import uv_sphere


def _screen_camera(width, height):
    """A camera whose pixels map to the plane z = 1 as (u, v) -> ((u - cx) / f, (v - cy) / f)."""
    return Camera.from_focal(10.0, width, height)


def _unproject(cam, pixels, depth):
    """Pixels [N, 2] at camera depths [N] -> world points [N, 3] (identity extrinsics)."""
    x = (pixels[:, 0] - cam.cx) / cam.fx * depth
    y = (pixels[:, 1] - cam.cy) / cam.fy * depth
    return np.stack([x, y, depth], axis=1)


def _inside_reference(pixels, width, height):
    """Brute force: which pixel centres lie inside a 2D triangle [3, 2]."""
    u, v = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    (xa, ya), (xb, yb), (xc, yc) = pixels
    e0 = (xb - xa) * (v - ya) - (yb - ya) * (u - xa)
    e1 = (xc - xb) * (v - yb) - (yc - yb) * (u - xb)
    e2 = (xa - xc) * (v - yc) - (ya - yc) * (u - xc)
    return ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))


def test_single_triangle_covers_exactly_the_reference_pixels():
    cam = _screen_camera(13, 11)
    rng = np.random.default_rng(1)
    for _ in range(20):
        pixels = rng.uniform(-2, 15, size=(3, 2)) + 0.0137
        verts = _unproject(cam, pixels, rng.uniform(1.0, 2.0, size=3))
        frags = rasterize(cam, verts, np.array([[0, 1, 2]]))
        np.testing.assert_array_equal(frags.mask, _inside_reference(pixels, 13, 11))
        assert set(np.unique(frags.triangle_id)) <= {-1, 0}


def test_backface_culling_drops_triangles_facing_away():
    cam = look_at(eye=(0, 0, 1), target=(0, 0, 0), width=16, height=16)
    ccw = np.array([[-0.05, -0.05, 0.0], [0.05, -0.05, 0.0], [0.0, 0.05, 0.0]])  # normal +Z, towards camera
    front = rasterize(cam, ccw, np.array([[0, 1, 2]]), cull_backfaces=True)
    back = rasterize(cam, ccw, np.array([[0, 2, 1]]), cull_backfaces=True)
    assert front.mask.sum() > 10 and back.mask.sum() == 0
    assert rasterize(cam, ccw, np.array([[0, 2, 1]])).mask.sum() == front.mask.sum()


def test_nearer_of_two_overlapping_triangles_wins():
    cam = look_at(eye=(0, 0, 1), target=(0, 0, 0), width=32, height=32)
    tri = np.array([[-0.1, -0.1, 0.0], [0.1, -0.1, 0.0], [0.0, 0.1, 0.0]])
    near, far = tri + [0, 0, 0.1], tri + [0.02, 0, -0.1]
    for order in ((near, far), (far, near)):
        verts = np.concatenate(order)
        frags = rasterize(cam, verts, np.array([[0, 1, 2], [3, 4, 5]]))
        nearer = 0 if order[0] is near else 1
        both = _inside_reference(cam.project(near)[0], 32, 32) & _inside_reference(cam.project(far)[0], 32, 32)
        assert both.sum() > 20
        assert np.all(frags.triangle_id[both] == nearer)
        np.testing.assert_allclose(frags.depth[both], 0.9, atol=1e-6)


def test_barycentrics_interpolate_vertices_back_onto_the_pixel_ray():
    cam = look_at(eye=(0.3, 0.2, 1.0), target=(0, 0, 0), width=40, height=30)
    verts = np.array([[-0.12, -0.1, 0.05], [0.15, -0.08, -0.2], [0.0, 0.14, 0.1]])
    frags = rasterize(cam, verts, np.array([[0, 1, 2]]))
    origins, directions = rays(cam)
    m = frags.mask
    assert m.sum() > 50
    bary = frags.barycentrics[m].astype(np.float64)
    np.testing.assert_allclose(bary.sum(1), 1.0, atol=1e-6)
    assert bary.min() >= -1e-6
    points = bary @ verts  # the surface point the pixel sees
    to_point = points - origins[m]
    along = (to_point * directions[m]).sum(1)
    off_ray = np.linalg.norm(to_point - along[:, None] * directions[m], axis=1)
    assert off_ray.max() < 1e-5
    cam_z = cam.to_camera(points)[:, 2]
    np.testing.assert_allclose(frags.depth[m], cam_z, rtol=1e-5)


def test_background_and_many_triangles():
    cam = look_at(eye=(0, 0, 1), target=(0, 0, 0), width=64, height=64)
    rng = np.random.default_rng(2)
    centres = rng.uniform(-0.08, 0.08, size=(300, 1, 3))
    verts = (centres + rng.normal(scale=0.02, size=(300, 3, 3))).reshape(-1, 3)
    faces = np.arange(900).reshape(300, 3)
    frags = rasterize(cam, verts, faces)
    assert frags.triangle_id.dtype == np.int32 and frags.barycentrics.shape == (64, 64, 3)
    assert np.all(np.isinf(frags.depth[~frags.mask]))
    assert np.all(frags.barycentrics[~frags.mask] == 0)
    # brute-force z-buffer over all triangles
    best = np.full((64, 64), np.inf)
    for t in range(300):
        inside = _inside_reference(cam.project(verts[faces[t]])[0], 64, 64)
        best[inside] = np.minimum(best[inside], _depth_at(cam, verts[faces[t]], inside))
    agree = np.isclose(frags.depth, best, rtol=1e-4) | (np.isinf(frags.depth) & np.isinf(best))
    assert agree.mean() > 0.995  # pixel centres exactly on shared edges may differ


def _depth_at(cam, tri, inside):
    """Camera depth of the plane of `tri` along the rays of the pixels in `inside`."""
    origins, directions = rays(cam)
    o, d = origins[inside], directions[inside]
    n = np.cross(tri[1] - tri[0], tri[2] - tri[0])
    t = ((tri[0] - o) @ n) / (d @ n)
    return cam.to_camera(o + t[:, None] * d)[:, 2]


def test_closed_mesh_has_no_cracks():
    from scipy.ndimage import binary_fill_holes

    verts, faces = uv_sphere(rings=16, segments=24)
    cam = look_at(eye=(0.1, 0.2, 0.8), target=(0, 0, 0), width=96, height=96)
    for cull in (False, True):
        mask = rasterize(cam, verts, faces, cull_backfaces=cull).mask
        assert mask.sum() > 1000
        np.testing.assert_array_equal(mask, binary_fill_holes(mask))
