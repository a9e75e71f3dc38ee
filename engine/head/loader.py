"""Load a head: the built-in one, a FLAME `.pkl`, or our `.npz`; save heads as `.npz`.

The `.npz` holds FLAME's keys as plain arrays (v_template, f, shapedirs,
posedirs, J_regressor, weights, kintree_table), so a FLAME file converted
with other tools loads too (its shapedirs split 300 shape + the rest
expression). Files written by `save_head_npz` add `exprdirs` (then
`shapedirs` is the shape basis only), component names, joint limits,
regions, the landmark embedding and vertex colours. No pickles are ever
loaded from an `.npz`.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..errors import HeadModelError
from ..files import (FILE_ERRORS, FileRefused, elements, npy_header, npy_header_text, read_npz,
                     write_atomically)
from .flame_file import (DATA_ERRORS, MAX_COMPONENTS, MAX_VERTICES, _reason, flame_arrays, head_from_arrays,
                         load_flame_pickle, read_bytes, to_array, unpickle_restricted)
from .model import HeadModel, LandmarkEmbedding

NPZ_FORMAT = "talking-head head npz 1"


def load_head(path=None, landmarks=None) -> HeadModel:
    """The head at `path` (None: the built-in head), optionally with a landmark embedding file.

    `.pkl` is read as a FLAME model, `.npz` as a saved head; anything else is
    an error. Raises HeadModelError with one sentence.
    """
    if path is None:
        head = _builtin_head()
    else:
        suffix = Path(path).suffix.lower()
        if suffix not in (".pkl", ".npz"):
            raise HeadModelError(f"'{path}' is not a head model file: use a FLAME .pkl or a head .npz.")
        head = load_flame_pickle(path) if suffix == ".pkl" else load_head_npz(path)
    if landmarks is not None:
        head.landmark_embedding = fitted_embedding(load_landmark_embedding(landmarks), head, landmarks)
    return head


def _builtin_head() -> HeadModel:
    try:
        from .builtin import build_builtin_head
    except ImportError as e:
        if not (e.name or "").startswith(__package__ + ".builtin"):
            raise
        raise HeadModelError("The built-in head is missing from this installation; "
                             "reinstall the add-on or choose a FLAME file.") from None
    return build_builtin_head()


def fitted_embedding(embedding: LandmarkEmbedding, head: HeadModel, path) -> LandmarkEmbedding:
    """`embedding` after checking that its triangles exist on `head`."""
    if embedding.faces.size and embedding.faces.max() >= len(head.faces):
        raise HeadModelError(f"The landmark embedding '{path}' uses triangle {int(embedding.faces.max())}, "
                             f"but the head '{head.name}' has only {len(head.faces)} triangles.")
    return embedding


# ---- npz -------------------------------------------------------------------

def save_head_npz(head: HeadModel, path) -> None:
    """Write `head` to `path` as an uncompressed `.npz` that `load_head` reads back exactly."""
    path = Path(path)
    buffer = io.BytesIO()
    np.savez(buffer, **head_to_npz_arrays(head))
    try:
        write_atomically(path, buffer.getvalue(), make_folder=False)
    except OSError as e:
        raise HeadModelError(f"The head could not be saved to '{path}' ({e.strerror or e}); "
                             "choose a folder you can write to.") from e


def head_to_npz_arrays(head: HeadModel) -> dict:
    """Plain arrays (no Python objects) for every field of `head`."""
    out = {"format": np.array(NPZ_FORMAT), "name": np.array(head.name),
           "v_template": head.v_template, "f": head.faces, "shapedirs": head.shapedirs,
           "exprdirs": head.exprdirs, "posedirs": head.posedirs, "J_regressor": head.j_regressor,
           "weights": head.weights, "kintree_table": np.stack([head.parents, np.arange(len(head.parents))]),
           "shape_names": _strings(head.shape_names), "expression_names": _strings(head.expression_names),
           "joint_names": _strings(head.joint_names)}
    names = list(head.joint_limits)
    out["joint_limit_names"] = _strings(names)
    out["joint_limits"] = np.array([np.stack(head.joint_limits[n]) for n in names], np.float64).reshape(-1, 2, 3)
    regions = list(head.regions)
    out["region_names"] = _strings(regions)
    out["region_sizes"] = np.array([len(head.regions[r]) for r in regions], np.int64)
    out["region_indices"] = np.concatenate([np.asarray(head.regions[r], np.int64).ravel() for r in regions]
                                           or [np.zeros(0, np.int64)])
    if head.landmark_embedding is not None:
        lmk = head.landmark_embedding
        out.update(lmk_faces=lmk.faces, lmk_bary=lmk.bary, lmk_ids=lmk.ids)
    if head.vertex_colors is not None:
        out["vertex_colors"] = head.vertex_colors
    return out


def _strings(names) -> np.ndarray:
    return np.array([str(n) for n in names], dtype=str).reshape(-1)


def load_head_npz(path) -> HeadModel:
    """A HeadModel from an `.npz` (ours, or FLAME keys as plain arrays)."""
    path = Path(path)
    data = read_npz_mapping(path, path, "FLAME model file", _head_member_allowed)
    try:
        extra = _npz_extras(data, path)
        name = str(data["name"]) if "name" in data else path.stem
        return head_from_arrays(flame_arrays(data, path), name, str(path), dtype=None, **extra)
    except DATA_ERRORS as e:
        raise HeadModelError(f"'{path}' is not a usable head model ({_reason(e)}).") from e


TEXT_KEYS = ("format", "name", "shape_names", "expression_names", "joint_names", "joint_limit_names",
             "region_names")
MAX_JOINT_ENTRIES, MAX_REGIONS, MAX_LANDMARKS = 64, 4096, 100_000
MAX_LANDMARK_FILE_BYTES = 64 * 1024**2  # FLAME's and DECA's embeddings are a few kB


def _head_member_limits(V: int) -> dict:
    """The most values each member of a head .npz may hold, for a head of V vertices."""
    return {"format": 1, "name": 1, "v_template": 3 * V, "f": 3 * (4 * V + 16),
            "shapedirs": 3 * V * MAX_COMPONENTS, "exprdirs": 3 * V * MAX_COMPONENTS, "posedirs": 3 * V * 36,
            "J_regressor": 5 * V, "weights": 5 * V, "kintree_table": 10, "vertex_colors": 3 * V,
            "shape_names": MAX_COMPONENTS, "expression_names": MAX_COMPONENTS, "joint_names": MAX_JOINT_ENTRIES,
            "joint_limit_names": MAX_JOINT_ENTRIES, "joint_limits": 6 * MAX_JOINT_ENTRIES,
            "region_names": MAX_REGIONS, "region_sizes": MAX_REGIONS, "region_indices": 16 * V,
            "lmk_faces": MAX_LANDMARKS, "lmk_bary": 3 * MAX_LANDMARKS, "lmk_ids": MAX_LANDMARKS,
            "faces": MAX_LANDMARKS, "bary": 3 * MAX_LANDMARKS, "ids": MAX_LANDMARKS,
            **{k: MAX_LANDMARKS for k in ("full_lmk_faces_idx", "lmk_face_idx", "static_lmk_faces_idx")},
            **{k: 3 * MAX_LANDMARKS for k in ("full_lmk_bary_coords", "lmk_b_coords", "static_lmk_bary_coords")}}


def _head_member_allowed(name: str, dtype, shape: tuple, headers: dict):
    """None when member `name` of a head .npz may be read; else why not (see `engine.files.read_npz`)."""
    template = headers.get("v_template", (None, ()))[1]
    V = template[0] if len(template) == 2 else 0
    if V > MAX_VERTICES:
        return f"its template has {V} vertices, more than any head ({MAX_VERTICES})"
    limit = _head_member_limits(V).get(name, 0)
    count = int(np.prod(shape, dtype=np.float64)) if shape else 1
    if count > limit:
        return f"'{name}' holds {count} values, more than a head of {V} vertices has ({limit})"
    if (dtype.kind == "U") != (name in TEXT_KEYS) or (dtype.kind == "U" and dtype.itemsize > 4 * 1024):
        return f"'{name}' holds {dtype} values, which that entry never does"
    return None


def _npz_extras(d: dict, path) -> dict:
    extra = {}
    for key in ("shape_names", "expression_names"):
        if key in d:
            extra[key] = [str(n) for n in d[key]]
    if "joint_names" in d:
        extra["joint_names"] = tuple(str(n) for n in d["joint_names"])
    if "joint_limit_names" in d:
        limits = d["joint_limits"]
        extra["joint_limits"] = {str(n): (limits[i, 0], limits[i, 1]) for i, n in enumerate(d["joint_limit_names"])}
    if "region_names" in d:
        parts = np.split(d["region_indices"], np.cumsum(d["region_sizes"])[:-1]) if len(d["region_sizes"]) else []
        extra["regions"] = {str(n): p for n, p in zip(d["region_names"], parts)}
    if "lmk_faces" in d:
        extra["landmark_embedding"] = checked_embedding(d["lmk_faces"], d["lmk_bary"], d["lmk_ids"], path)
    if "vertex_colors" in d:
        extra["vertex_colors"] = d["vertex_colors"]
    return extra


def read_npz_mapping(source, path, what: str, allowed=None) -> dict:
    """The arrays of the `.npz` at `source` (a path, or bytes of `path`) that `allowed` accepts.

    Only numeric and text arrays are read (never pickled objects), each after
    its header passes `allowed` (default: the members and sizes of a head
    file, see `_head_member_allowed`). HeadModelError for any bad file.
    """
    allowed = allowed or _head_member_allowed
    try:
        head = source[:4] if isinstance(source, bytes) else Path(source).open("rb").read(4)
        if head[:2] != b"PK":
            raise HeadModelError(f"'{path}' is not a {what}: it is not an .npz (zip) archive.")
        source = source if isinstance(source, bytes) else str(source)
        return read_npz(source, allowed, keys=set(_head_member_limits(0)))
    except FileRefused as e:
        raise HeadModelError(f"'{path}' is not a {what} this add-on reads: {e}.") from e
    except FILE_ERRORS as e:
        raise HeadModelError(f"'{path}' is not a {what}: it is not a valid .npz ({_reason(e)}).") from e


# ---- landmark embeddings -------------------------------------------------

LANDMARK_KEYS = (("faces", "bary"), ("full_lmk_faces_idx", "full_lmk_bary_coords"),
                 ("lmk_face_idx", "lmk_b_coords"), ("static_lmk_faces_idx", "static_lmk_bary_coords"))


def load_landmark_embedding(path) -> LandmarkEmbedding:
    """Landmarks as barycentric points on a FLAME-topology mesh.

    Accepts FLAME's `flame_static_embedding.pkl` (51 points, iBUG ids 17..67),
    DECA's `landmark_embedding.npy` (68 points, ids 0..67, from its
    `full_lmk_*` arrays, else the 51 `static_lmk_*` ones) and our `.npz`
    (faces [L], bary [L, 3], ids [L]). Raises HeadModelError otherwise.
    """
    path = Path(path)
    raw = read_bytes(path, "landmark embedding", limit=MAX_LANDMARK_FILE_BYTES)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        data = read_npz_mapping(raw, path, "landmark embedding file", _landmark_member_allowed)
    elif suffix == ".npy":
        data = _read_npy_object(raw, path)
    elif suffix == ".pkl":
        data = unpickle_restricted(raw, path, "landmark embedding file")
    else:
        raise HeadModelError(f"'{path}' is not a landmark embedding: use a .pkl, .npy or .npz file.")
    return _embedding_from_mapping(data, path)


def _read_npy_object(raw: bytes, path):
    """A .npy array; an object array (a pickled dict) goes through the data-only unpickler."""
    f = io.BytesIO(raw)
    try:
        descr = npy_header_text(f)[0]
    except FILE_ERRORS as e:
        raise HeadModelError(f"'{path}' is not a valid .npy file ({_reason(e)}).") from e
    if descr == "|O":
        arr = unpickle_restricted(raw[f.tell():], path, "landmark embedding file")  # object items, plain values
        return arr.item() if isinstance(arr, np.ndarray) and arr.size == 1 else arr
    f.seek(0)
    try:
        dtype, shape, fortran = npy_header(f)
        count = elements(shape)
        data = f.read(count * dtype.itemsize)
        if dtype.kind not in "biuf" or len(data) != count * dtype.itemsize:
            raise FileRefused("its array is not numbers, or is cut short")
        return np.frombuffer(data, dtype, count).reshape(shape, order="F" if fortran else "C").copy()
    except FILE_ERRORS as e:
        raise HeadModelError(f"'{path}' is not a valid .npy file ({_reason(e)}).") from e


def _landmark_member_allowed(name: str, dtype, shape: tuple, headers: dict):
    """None when member `name` of a landmark .npz may be read (faces, bary, ids and the lmk_ names)."""
    count = int(np.prod(shape, dtype=np.float64)) if shape else 1
    limit = _head_member_limits(0).get(name, 0) if "lmk" in name or name in ("faces", "bary", "ids") else 0
    if count > limit or dtype.kind not in "biuf":
        return f"'{name}' is not a landmark array of at most {limit} numbers"
    return None


def _default_ids(count: int, path) -> np.ndarray:
    if count == 68:
        return np.arange(68, dtype=np.int64)
    if count == 51:
        return np.arange(17, 68, dtype=np.int64)
    raise HeadModelError(f"'{path}' has {count} landmarks; without an 'ids' array it must have 51 or 68.")


def _embedding_from_mapping(data, path) -> LandmarkEmbedding:
    if not isinstance(data, dict):
        raise HeadModelError(f"'{path}' is not a landmark embedding: it holds a {type(data).__name__}.")
    for faces_key, bary_key in LANDMARK_KEYS:
        if faces_key in data and bary_key in data:
            try:
                faces = to_array(data[faces_key]).reshape(-1)
                bary = to_array(data[bary_key]).astype(np.float64).reshape(-1, 3)
                ids = to_array(data["ids"]).reshape(-1) if "ids" in data else None
            except DATA_ERRORS as e:
                raise HeadModelError(f"'{path}' has unreadable landmark arrays ({_reason(e)}).") from e
            ids = _default_ids(len(faces), path) if ids is None else ids.astype(np.int64)
            return checked_embedding(faces, bary, ids, path)
    raise HeadModelError(f"'{path}' is not a landmark embedding: it has no lmk_face_idx/lmk_b_coords, "
                         "full_lmk_faces_idx/full_lmk_bary_coords or faces/bary arrays.")


def checked_embedding(faces, bary, ids, path) -> LandmarkEmbedding:
    """A LandmarkEmbedding after checking lengths, integer faces and finite weights."""
    faces = np.asarray(faces)
    if len(faces) != len(bary) or len(ids) != len(faces):
        raise HeadModelError(f"'{path}' has {len(faces)} landmark triangles, {len(bary)} weight rows "
                             f"and {len(ids)} ids; they must match.")
    if faces.size and (not np.all(np.mod(faces, 1) == 0) or faces.min() < 0):
        raise HeadModelError(f"'{path}' has landmark triangle indices that are not non-negative integers.")
    if not np.all(np.isfinite(bary)):
        raise HeadModelError(f"'{path}' has NaN or infinite landmark weights.")
    return LandmarkEmbedding(faces=faces.astype(np.int64), bary=bary, ids=np.asarray(ids, np.int64))
