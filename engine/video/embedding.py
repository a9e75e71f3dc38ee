"""Where MediaPipe's 478 face-mesh points lie on a head: a barycentric embedding.

For the built-in head the project makes it once (`make_builtin_embedding`, run
by `python -m engine.video.embedding`): render the neutral head from several
views with the engine's mesh renderer, let MediaPipe find its landmarks, carry
each point back onto the surface through the rasterizer's triangle and
barycentrics, and take the median over the views. Points of the lid and inner-lip
contours are then put on the slit vertices themselves (as the iBUG-68 embedding
does), so blinks and mouth openings move them. The result ships as
`engine/data/mediapipe_builtin.npz`. For a FLAME head the user gives
MediaPipe's landmark embedding file (`lmk_face_idx`, `lmk_b_coords`,
`landmark_indices`, as FLAME distributes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..head.model import HeadModel
from . import topology
from .errors import VideoError

BUILTIN_FILE = Path(__file__).resolve().parents[1] / "data" / "mediapipe_builtin.npz"
BUILTIN_SOURCE = "built-in head v1"
VIEWS = ((0, 0), (-12, 0), (12, 0), (0, -8), (0, 8), (-20, 4), (20, 4))   # (yaw, pitch) degrees
RENDER_SIZE = 512


@dataclass
class MediaPipeEmbedding:
    """Points of MediaPipe's mesh on a head: indices [K] (MediaPipe numbers), faces [K], bary [K, 3]."""

    indices: np.ndarray
    faces: np.ndarray
    bary: np.ndarray


def embedding_for(head: HeadModel, path=None) -> MediaPipeEmbedding:
    """The embedding of `head`: from `path` when given, the shipped one for the built-in head."""
    if path is not None:
        return load_embedding(path, head)
    if head.source != BUILTIN_SOURCE:
        raise VideoError(f"Tracking onto the head '{head.name}' needs a MediaPipe landmark embedding file "
                         "for it (e.g. FLAME's mediapipe_landmark_embedding.npz); pass it with --landmarks.")
    return load_embedding(BUILTIN_FILE, head)


def load_embedding(path, head: HeadModel) -> MediaPipeEmbedding:
    """Read an embedding .npz (ours: indices/faces/bary; FLAME's: landmark_indices/lmk_face_idx/lmk_b_coords)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = ("indices", "faces", "bary") if "indices" in data else \
                ("landmark_indices", "lmk_face_idx", "lmk_b_coords")
            indices, faces, bary = (np.asarray(data[k]) for k in keys)
    except (OSError, ValueError, KeyError) as error:
        raise VideoError(f"'{path.name}' is not a MediaPipe landmark embedding ({error}).") from None
    indices, faces = indices.astype(np.int64).ravel(), faces.astype(np.int64).ravel()
    bary = bary.astype(np.float64).reshape(-1, 3)
    if not (len(indices) == len(faces) == len(bary)) or len(indices) < 10:
        raise VideoError(f"The embedding '{path.name}' needs at least 10 points with a triangle and 3 weights each.")
    if indices.min() < 0 or indices.max() >= topology.NUM_POINTS or faces.min() < 0 or faces.max() >= len(head.faces):
        raise VideoError(f"The embedding '{path.name}' does not fit the head '{head.name}' "
                         "(its point or triangle numbers are out of range).")
    missing = [i for i in topology.EYE_OUTER_CORNERS + topology.MOUTH_CORNERS if i not in set(indices.tolist())]
    if missing:
        raise VideoError(f"The embedding '{path.name}' lacks MediaPipe points {missing} (the outer eye and mouth "
                         "corners), which the fit needs.")
    return MediaPipeEmbedding(indices, faces, bary)


# ---- making the built-in embedding (needs a tracker Python with MediaPipe) --------------------

def make_builtin_embedding(out=BUILTIN_FILE) -> Path:
    """Render the built-in head, find its MediaPipe points and write the embedding to `out`."""
    from ..head import load_head

    head = load_head()
    points = np.stack([_surface_points(head, yaw, pitch) for yaw, pitch in VIEWS])   # [views, 478, 3]
    rest = np.nanmedian(points, axis=0)
    found = np.all(np.isfinite(rest), axis=1)
    indices = np.nonzero(found)[0]
    faces, bary = _closest_on_part(head, rest[found], indices)
    faces, bary = _snap_slits(head, indices, faces, bary)
    np.savez(out, indices=indices, faces=faces, bary=bary, source=np.array(BUILTIN_SOURCE))
    return Path(out)


def _surface_points(head: HeadModel, yaw: float, pitch: float) -> np.ndarray:
    """Rest-frame surface points [478, 3] under MediaPipe's landmarks in one view (NaN where missed)."""
    import tempfile

    from ..preview.clip import video_frames
    from ..preview.video import write_video
    from ..render.camera import default_framing
    from ..render.raster import rasterize
    from ..render.shading import render_mesh
    from .decode import probe_video
    from .landmarks import track_landmarks

    camera = default_framing(head.v_template, RENDER_SIZE, yaw=yaw, pitch=pitch)
    image = render_mesh(camera, head.v_template, head.faces, head.vertex_colors, 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "view.mp4"
        write_video(path, list(video_frames([image] * 6)), 25.0, crf=12)
        found = track_landmarks(probe_video(path))
    if not found.found[-1]:
        raise VideoError(f"MediaPipe found no face on the built-in head seen from yaw {yaw}, pitch {pitch}.")
    uv = found.points[-1, :, :2]
    frags = rasterize(camera, head.v_template, head.faces)
    col = np.clip(uv[:, 0].astype(int), 0, RENDER_SIZE - 1)
    row = np.clip(uv[:, 1].astype(int), 0, RENDER_SIZE - 1)
    tri, w = frags.triangle_id[row, col], frags.barycentrics[row, col]
    out = np.einsum("kc,kcd->kd", w, head.v_template[head.faces[np.maximum(tri, 0)]])
    out[tri < 0] = np.nan
    return out


def _closest_on_part(head: HeadModel, points: np.ndarray, indices: np.ndarray):
    """The nearest triangle of each point [N, 3] (the skin's; an eyeball's for iris points) and the
    clamped barycentrics of its projection; iris centres go on the front of their eyeball."""
    from ..head.builtin import layout

    lay = layout.build_layout()
    parts = {"skin": np.all(head.faces < lay.num_skin, axis=1),
             "left": np.all(np.isin(head.faces, lay.eyeballs[0]), axis=1),
             "right": np.all(np.isin(head.faces, lay.eyeballs[1]), axis=1)}
    faces, bary = [], []
    for p, i in zip(points, indices):
        part = "left" if i in topology.LEFT_IRIS else "right" if i in topology.RIGHT_IRIS else "skin"
        if i in topology.IRIS_CENTRES:
            ball = lay.eyeballs[0] if part == "left" else lay.eyeballs[1]
            face, w = _on_vertex(head.faces, int(ball[np.argmax(head.v_template[ball, 2])]))
            faces.append(face)
            bary.append(w)
            continue
        subset = np.nonzero(parts[part])[0]
        tris = head.v_template[head.faces[subset]]                  # [F, 3, 3]
        near = np.argsort(np.sum((tris.mean(axis=1) - p) ** 2, axis=1))[:12]
        best = min(((_project(tris[f], p), f) for f in near), key=lambda item: item[0][0])
        faces.append(subset[best[1]])
        bary.append(best[0][1])
    return np.array(faces, np.int64), np.array(bary)


def _project(tri: np.ndarray, p: np.ndarray):
    """(distance, barycentrics [3]) of p's closest point on the plane of tri, weights clamped to the triangle."""
    a, b, c = tri
    m = np.stack([b - a, c - a], axis=1)
    uv, *_ = np.linalg.lstsq(m, p - a, rcond=None)
    w = np.clip(np.array([1.0 - uv.sum(), uv[0], uv[1]]), 0.0, None)
    w /= w.sum()
    return float(np.linalg.norm(w @ tri - p)), w


def _snap_slits(head: HeadModel, indices, faces, bary):
    """Put lid and inner-lip contour points on the nearest slit vertex of their own side of the slit."""
    from ..head.builtin import layout

    lay = layout.build_layout()
    left, right = lay.eyes
    rows = {topology.LIPS_UPPER_INNER: lay.mouth.upper, topology.LIPS_LOWER_INNER: lay.mouth.lower,
            topology.RIGHT_EYE_UPPER: right.upper, topology.RIGHT_EYE_LOWER: right.lower,
            topology.LEFT_EYE_UPPER: left.upper, topology.LEFT_EYE_LOWER: left.lower}
    corners = {78: lay.mouth.corners[0], 308: lay.mouth.corners[1], 33: right.corners[0], 133: right.corners[1],
               362: left.corners[0], 263: left.corners[1]}
    faces, bary = faces.copy(), bary.copy()
    where = {int(i): k for k, i in enumerate(indices)}
    for contour, vertices in rows.items():
        for i in contour[1:-1]:
            if i in where:
                p = np.einsum("c,cd->d", bary[where[i]], head.v_template[head.faces[faces[where[i]]]])
                vertex = int(vertices[np.argmin(np.abs(head.v_template[vertices, 0] - p[0]))])
                faces[where[i]], bary[where[i]] = _on_vertex(head.faces, vertex)
    for i, vertex in corners.items():
        if i in where:
            faces[where[i]], bary[where[i]] = _on_vertex(head.faces, int(vertex))
    return faces, bary


def _on_vertex(faces: np.ndarray, vertex: int):
    face = int(np.nonzero(np.any(faces == vertex, axis=1))[0][0])
    return face, (faces[face] == vertex).astype(np.float64)


if __name__ == "__main__":
    print("wrote", make_builtin_embedding())
