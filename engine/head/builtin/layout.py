"""The built-in head's topology: a lofted grid with mouth and eye slits, a mouth cavity, two eyeballs.

The skin is a grid of `NUM_COLUMNS` columns (angles around the vertical
axis, denser at the face) by one row per entry of `row_params()` (heights
along the profile), capped by one pole vertex at the crown and open at the
neck. A slit is a row segment whose vertices are duplicated: the faces above
use the upper copies, the faces below the originals, so the two lips (or two
eyelids) coincide at rest but can part. The mouth slit's loop continues into
a closed pocket (the cavity); the eye slits stay open and show the eyeballs.

Vertex order: skin grid (row-major), crown pole, mouth upper copies, left
eye upper copies, right eye upper copies, cavity, left eyeball, right eyeball.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import profile

NUM_COLUMNS = 84
FRONT_DENSITY = 0.5           # 0: uniform columns; towards 1: denser at the face
MOUTH_HALF_WIDTH = 0.025      # metres, mouth corner |x|
EYE_INNER_X = 0.021          # metres, inner eye corner |x|
EYE_OUTER_X = 0.0442          # metres, outer eye corner |x|
CAVITY_RINGS = 5              # rings of the mouth pocket behind the lips
EYEBALL_LONGITUDES = 20
EYEBALL_POLAR = np.array([0.0, 0.12, 0.22, 0.34, 0.46, 0.56, 0.68, 0.85, 1.05,
                          1.3, 1.6, 1.9, 2.2, 2.5, 2.8, np.pi])  # radians from the gaze axis


@dataclass
class Slit:
    """A duplicated row segment: `corners` (-x, +x) grid vertices, `lower` [n]
    original vertices and `upper` [n] their copies, both ordered by increasing x,
    and the grid `columns` [n] they lie on."""

    corners: tuple
    lower: np.ndarray
    upper: np.ndarray
    columns: np.ndarray
    row: int

    def loop(self) -> np.ndarray:
        """The slit's closed boundary loop [2n + 2]: -x corner, upper copies, +x corner, lower back."""
        return np.concatenate([[self.corners[0]], self.upper, [self.corners[1]], self.lower[::-1]])


@dataclass
class Layout:
    """Topology and per-vertex grid coordinates of the built-in head.

    theta [C] column angles (0 faces +Z, positive towards +X); rows [R]
    profile parameters; grid_col, grid_row [G] of every skin vertex (the pole
    has column -1, row R); faces [F, 3]; mirror [V] the vertex that is each
    vertex's mirror image in X; cavity_loop [Vc] the loop position behind
    which each cavity vertex lies and cavity_ring [Vc] its depth ring (the
    last cavity vertex is the back of the pocket, ring CAVITY_RINGS + 1).
    """

    theta: np.ndarray
    rows: np.ndarray
    grid_col: np.ndarray
    grid_row: np.ndarray
    mouth: Slit
    eyes: tuple            # (left (+x), right (-x)) Slit
    cavity: np.ndarray
    cavity_loop: np.ndarray
    cavity_ring: np.ndarray
    eyeballs: tuple        # (left, right) vertex index arrays
    faces: np.ndarray
    mirror: np.ndarray
    num_vertices: int

    @property
    def num_skin(self) -> int:
        """Skin vertices (grid, pole and slit copies): [0, num_skin)."""
        return self.grid_col.shape[0]


def column_angles() -> np.ndarray:
    """Column angles [C], mirror-symmetric (column k mirrors column C - k), column C/2 at the front."""
    s = 2.0 * np.arange(NUM_COLUMNS) / NUM_COLUMNS - 1.0
    return np.pi * ((1.0 - FRONT_DENSITY) * s + FRONT_DENSITY * s ** 3)


def mirror_column(k):
    """The column that mirrors column k in X."""
    return (NUM_COLUMNS - np.asarray(k)) % NUM_COLUMNS


def nearest_column(theta: np.ndarray, row_u: float, x: float) -> int:
    """The front column whose point at row `row_u` is nearest to the given x (> 0)."""
    xs = profile.loft(theta, np.full_like(theta, row_u))[:, 0]
    front = (np.abs(theta) < np.pi / 2) & (theta >= 0)
    return int(np.argmin(np.where(front, np.abs(xs - x), np.inf)))


def _grid_faces(C: int, R: int) -> list:
    """Quads of the skin grid split into two triangles each, diagonals mirrored across x = 0."""
    faces = []
    theta = column_angles()
    for r in range(R - 1):
        for k in range(C):
            k1 = (k + 1) % C
            a, b, c, d = r * C + k, r * C + k1, (r + 1) * C + k1, (r + 1) * C + k
            if theta[k] >= 0 or k == 0:
                faces += [(a, b, c), (a, c, d)]
            else:
                faces += [(a, b, d), (b, c, d)]
    pole = R * C
    faces += [((R - 1) * C + k, (R - 1) * C + (k + 1) % C, pole) for k in range(C)]
    return faces


def _cut_slit(faces: np.ndarray, C: int, row: int, cols: np.ndarray, first_copy: int) -> Slit:
    """Duplicate the grid vertices of `row` at columns `cols`: faces above the row take the copies."""
    originals = row * C + cols
    copies = first_copy + np.arange(cols.size)
    remap = dict(zip(originals.tolist(), copies.tolist()))
    above = np.any(faces >= (row + 1) * C, axis=1) & np.all(faces >= row * C, axis=1)
    for f in np.nonzero(above)[0]:
        faces[f] = [remap.get(int(v), int(v)) for v in faces[f]]
    corners = (row * C + cols[0] - 1, row * C + cols[-1] + 1)
    return Slit(corners, originals, copies, cols, row)


def _cavity_faces(loop: np.ndarray, first: int) -> tuple:
    """A pocket of CAVITY_RINGS rings behind the slit loop [n], closed by one back vertex.

    Returns the faces and, per cavity vertex, its loop position and ring.
    """
    n = loop.size
    rings = [loop] + [first + i * n + np.arange(n) for i in range(CAVITY_RINGS)]
    back = first + CAVITY_RINGS * n
    faces = []
    for a, b in zip(rings[:-1], rings[1:]):
        for j in range(n):
            j1 = (j + 1) % n
            faces += [(a[j], b[j1], a[j1]), (a[j], b[j], b[j1])]
    last = rings[-1]
    faces += [(last[j], back, last[(j + 1) % n]) for j in range(n)]
    positions = np.concatenate([np.tile(np.arange(n), CAVITY_RINGS), [0]])
    ring = np.concatenate([np.repeat(np.arange(1, CAVITY_RINGS + 1), n), [CAVITY_RINGS + 1]])
    return faces, positions, ring


def _eyeball_faces(first: int) -> list:
    """Faces of a UV sphere whose rings are EYEBALL_POLAR around the gaze axis, starting at vertex `first`."""
    L, P = EYEBALL_LONGITUDES, EYEBALL_POLAR.size
    front, back = first, first + 1 + (P - 2) * L
    ring = lambda i: first + 1 + (i - 1) * L + np.arange(L)  # noqa: E731
    faces = [(front, ring(1)[j], ring(1)[(j + 1) % L]) for j in range(L)]
    for i in range(1, P - 2):
        a, b = ring(i), ring(i + 1)
        for j in range(L):
            j1 = (j + 1) % L
            faces += [(a[j], b[j], b[j1]), (a[j], b[j1], a[j1])]
    faces += [(ring(P - 2)[j], back, ring(P - 2)[(j + 1) % L]) for j in range(L)]
    return faces


def eyeball_size() -> int:
    """Vertices of one eyeball."""
    return 2 + (EYEBALL_POLAR.size - 2) * EYEBALL_LONGITUDES


def build_layout() -> Layout:
    """The complete topology of the built-in head (deterministic)."""
    theta, rows = column_angles(), profile.row_params()
    C, R = NUM_COLUMNS, rows.size
    faces = np.array(_grid_faces(C, R), dtype=np.int64)
    mouth_row, eye_row = _row_of(rows, profile.MOUTH_KEY), _row_of(rows, profile.EYE_KEY)
    mc = nearest_column(theta, profile.MOUTH_KEY, MOUTH_HALF_WIDTH)
    ein = nearest_column(theta, profile.EYE_KEY, EYE_INNER_X)
    eout = nearest_column(theta, profile.EYE_KEY, EYE_OUTER_X)
    nxt = R * C + 1
    mouth = _cut_slit(faces, C, mouth_row, np.arange(C - mc + 1, mc), nxt)
    nxt += mouth.upper.size
    left = _cut_slit(faces, C, eye_row, np.arange(ein + 1, eout), nxt)
    nxt += left.upper.size
    right = _cut_slit(faces, C, eye_row, np.arange(C - eout + 1, C - ein), nxt)
    nxt += right.upper.size
    grid_col, grid_row = _grid_coordinates(C, R, (mouth, left, right))
    cav_faces, cav_loop, cav_ring = _cavity_faces(mouth.loop(), nxt)
    cavity = nxt + np.arange(cav_loop.size)
    nxt += cavity.size
    eyeballs = (nxt + np.arange(eyeball_size()), nxt + eyeball_size() + np.arange(eyeball_size()))
    all_faces = np.concatenate([faces, np.array(cav_faces), np.array(_eyeball_faces(eyeballs[0][0])),
                                np.array(_eyeball_faces(eyeballs[1][0]))]).astype(np.int64)
    layout = Layout(theta, rows, grid_col, grid_row, mouth, (left, right), cavity, cav_loop, cav_ring,
                    eyeballs, all_faces, np.zeros(0, np.int64), int(eyeballs[1][-1] + 1))
    layout.mirror = _mirror(layout)
    return layout


def _row_of(rows: np.ndarray, key: int) -> int:
    return int(np.argmin(np.abs(rows - key)))


def _grid_coordinates(C: int, R: int, slits) -> tuple:
    """Column and row [G] of every skin vertex (pole: column -1, row R; copies: their original's)."""
    cols = [np.tile(np.arange(C), R), [-1]] + [s.columns for s in slits]
    rows = [np.repeat(np.arange(R), C), [R]] + [np.full(s.columns.size, s.row) for s in slits]
    return np.concatenate(cols).astype(np.int64), np.concatenate(rows).astype(np.int64)


def _mirror(layout: Layout) -> np.ndarray:
    """The mirror image in X of every vertex [V] (an involution)."""
    G = layout.num_skin
    copy = np.arange(G) > layout.rows.size * NUM_COLUMNS
    key = {(int(r), int(c), bool(p)): i for i, (r, c, p) in
           enumerate(zip(layout.grid_row, layout.grid_col, copy))}
    mirror = np.arange(layout.num_vertices)
    for i in range(G):
        c = layout.grid_col[i]
        mc = -1 if c < 0 else int(mirror_column(c))
        mirror[i] = key[(int(layout.grid_row[i]), mc, bool(copy[i]))]
    loop = layout.mouth.loop()
    position = {int(v): j for j, v in enumerate(loop)}
    loop_mirror = np.array([position[int(mirror[v])] for v in loop])
    n = loop.size
    ring, pos = layout.cavity_ring, layout.cavity_loop
    target = np.where(ring <= CAVITY_RINGS, (ring - 1) * n + loop_mirror[pos], layout.cavity.size - 1)
    mirror[layout.cavity] = layout.cavity[target]
    L = EYEBALL_LONGITUDES
    local = np.arange(eyeball_size())
    lon = (local - 1) % L
    swapped = np.where((local == 0) | (local == local[-1]), local, local - lon + (L // 2 - lon) % L)
    left, right = layout.eyeballs
    mirror[left], mirror[right] = right[swapped], left[swapped]
    return mirror

