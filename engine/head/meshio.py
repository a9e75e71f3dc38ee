"""Write (and read back) triangle meshes as Wavefront OBJ and binary PLY.

Colours are per-vertex RGB in [0, 1]. OBJ carries them with the common
`v x y z r g b` extension (Blender, MeshLab and trimesh read it); PLY carries
them as uchar red/green/blue properties. The readers read what the writers
write (and simple files like them), not every variant of either format.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import os_reason, write_atomically

PLY_VERTEX = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
PLY_COLOR = [("red", "u1"), ("green", "u1"), ("blue", "u1")]
PLY_FACE = np.dtype([("n", "u1"), ("v", "<i4", (3,))])


def _checked(vertices, faces, colors):
    """vertices [V, 3] float, faces [F, 3] int, colors [V, 3] or None, validated."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if not np.all(np.isfinite(v)):
        raise InputError("The mesh has NaN or infinite vertex positions; check the expression and pose values.")
    if v.ndim != 2 or v.shape[1] != 3:
        raise InputError(f"Mesh vertices must be [V, 3]; got shape {v.shape}.")
    if f.ndim != 2 or f.shape[1] != 3:
        raise InputError(f"Mesh faces must be [F, 3] triangles; got shape {f.shape}.")
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise InputError("Mesh faces index vertices that do not exist.")
    if colors is not None:
        colors = np.asarray(colors, dtype=np.float64)
        if colors.shape != v.shape:
            raise InputError(f"Vertex colours must be [V, 3] = {v.shape}; got shape {colors.shape}.")
    return v, f, colors


def _write(path, data: bytes) -> None:
    """Write atomically (a full disk leaves no half mesh); the folder must exist."""
    try:
        write_atomically(Path(path), data, make_folder=False)
    except OSError as e:
        raise InputError(f"The mesh could not be written to '{path}' ({os_reason(e)}); choose a folder you can "
                         "write to and a name under 255 bytes.") from e


def write_obj(path, vertices, faces, colors=None) -> None:
    """Write an OBJ: vertices [V, 3], faces [F, 3] (0-based), colors [V, 3] in [0, 1] or None."""
    v, f, c = _checked(vertices, faces, colors)
    table = v if c is None else np.concatenate([v, np.clip(c, 0.0, 1.0)], axis=1)
    fmt = " ".join(["%.9g"] * table.shape[1])
    lines = ["v " + fmt % tuple(row) for row in table]
    lines += ["f %d %d %d" % tuple(tri) for tri in f + 1]
    _write(path, ("\n".join(["# talking-head mesh"] + lines) + "\n").encode("ascii"))


def read_obj(path):
    """Read an OBJ as written by `write_obj`.

    Returns vertices [V, 3], faces [F, 3] (0-based), colors [V, 3] or None.
    Face entries like `3/1/2` keep the vertex index; polygons are fanned.
    """
    verts, faces = [], []
    for line in Path(path).read_text(encoding="ascii", errors="replace").splitlines():
        parts = line.split()
        if parts and parts[0] == "v":
            verts.append([float(x) for x in parts[1:]])
        elif parts and parts[0] == "f":
            idx = [int(p.split("/")[0]) - 1 for p in parts[1:]]
            faces += [[idx[0], idx[k], idx[k + 1]] for k in range(1, len(idx) - 1)]
    table = np.array(verts, dtype=np.float64).reshape(len(verts), -1)
    colors = table[:, 3:6] if table.shape[1] >= 6 else None
    return table[:, :3], np.array(faces, dtype=np.int64).reshape(-1, 3), colors


def _ply_header(n_vertices: int, n_faces: int, with_color: bool) -> bytes:
    lines = ["ply", "format binary_little_endian 1.0", "comment talking-head mesh",
             f"element vertex {n_vertices}", "property float x", "property float y", "property float z"]
    if with_color:
        lines += ["property uchar red", "property uchar green", "property uchar blue"]
    lines += [f"element face {n_faces}", "property list uchar int vertex_indices", "end_header"]
    return ("\n".join(lines) + "\n").encode("ascii")


def write_ply(path, vertices, faces, colors=None) -> None:
    """Write a binary little-endian PLY: vertices [V, 3] (float32), faces [F, 3], colors [V, 3] in [0, 1]."""
    v, f, c = _checked(vertices, faces, colors)
    vert = np.zeros(len(v), dtype=PLY_VERTEX + (PLY_COLOR if c is not None else []))
    vert["x"], vert["y"], vert["z"] = v.T
    if c is not None:
        rgb = np.round(np.clip(c, 0.0, 1.0) * 255.0).astype(np.uint8)
        vert["red"], vert["green"], vert["blue"] = rgb.T
    face = np.zeros(len(f), dtype=PLY_FACE)
    face["n"], face["v"] = 3, f
    _write(path, _ply_header(len(v), len(f), c is not None) + vert.tobytes() + face.tobytes())


def _parse_ply_header(data: bytes):
    end = data.find(b"end_header\n")
    if not data.startswith(b"ply\n") or end < 0:
        raise InputError("The file is not a PLY written by this project.")
    header = data[:end].decode("ascii").splitlines()
    if "format binary_little_endian 1.0" not in header:
        raise InputError("Only binary little-endian PLY files can be read here.")
    counts = {ln.split()[1]: int(ln.split()[2]) for ln in header if ln.startswith("element")}
    return counts, "property uchar red" in header, end + len(b"end_header\n")


def read_ply(path):
    """Read a PLY as written by `write_ply`.

    Returns vertices [V, 3] (float32), faces [F, 3] (int64), colors [V, 3] in [0, 1] or None.
    """
    data = Path(path).read_bytes()
    counts, with_color, offset = _parse_ply_header(data)
    vdtype = np.dtype(PLY_VERTEX + (PLY_COLOR if with_color else []))
    vert = np.frombuffer(data, dtype=vdtype, count=counts["vertex"], offset=offset)
    face = np.frombuffer(data, dtype=PLY_FACE, count=counts["face"],
                         offset=offset + vdtype.itemsize * counts["vertex"])
    vertices = np.stack([vert["x"], vert["y"], vert["z"]], axis=1)
    colors = None
    if with_color:
        colors = np.stack([vert["red"], vert["green"], vert["blue"]], axis=1).astype(np.float64) / 255.0
    return vertices, face["v"].astype(np.int64), colors
