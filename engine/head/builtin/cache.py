"""A disk cache of the built-in head's arrays, so a process loads them (~15 ms) instead of building them (~0.45 s).

The file is keyed by a hash of the head's definition: every source file of this
package, the head model's module (joint names and counts), numpy's version and
this format's number. Any change to how the head is built names another file,
so a stale head is never read. The folder is `TALKING_HEAD_CACHE` when set
("off" or "0": no cache), else the platform's user cache folder
(`$XDG_CACHE_HOME` or ~/.cache, ~/Library/Caches, %LOCALAPPDATA%) under
talking-head/. Files are written atomically; one that is unreadable, damaged,
of another layout or not a plain-array npz is rebuilt over, and a folder that
cannot be written only means the head is built each time: the cache never
fails a caller.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ...files import FILE_ERRORS, FileRefused, read_npz, write_atomically
from ..model import LandmarkEmbedding

FORMAT = 1
ENVIRONMENT = "TALKING_HEAD_CACHE"
MAX_BYTES = 64 * 1024**2  # the head's arrays are ~13 MB
PLAIN = ("v_template", "faces", "shapedirs", "exprdirs", "posedirs", "j_regressor", "weights", "vertex_colors",
         "mirror")


def cache_folder() -> Optional[Path]:
    """Where the head's cache lives (None: caching is off)."""
    chosen = os.environ.get(ENVIRONMENT)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "0", "off", "no", "false") else Path(chosen)
    try:
        if sys.platform == "win32":
            base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        elif sys.platform == "darwin":
            base = str(Path.home() / "Library" / "Caches")
        else:
            base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except (RuntimeError, KeyError, OSError):  # no home folder to be found (a bare service account)
        return None
    return Path(base) / "talking-head"


def definition_key(sources: Optional[list] = None) -> Optional[str]:
    """A hash of everything the head's arrays are made from (None when a source cannot be read)."""
    here = Path(__file__).resolve().parent
    files = sources if sources is not None else sorted(here.glob("*.py")) + [here.parent / "model.py"]
    digest = hashlib.sha256(f"builtin head {FORMAT} numpy {np.__version__}".encode())
    try:
        for path in files:
            digest.update(Path(path).name.encode() + b"\0" + Path(path).read_bytes() + b"\0")
    except OSError:
        return None
    return digest.hexdigest()[:24] if files else None


def cached_arrays(build: Callable[[], dict], key: Optional[str] = None) -> dict:
    """The head's arrays from the cache file of `key` (default: `definition_key()`), else `build()`'s,
    which are then written there for the next process."""
    folder, key = cache_folder(), definition_key() if key is None else key
    if folder is None or key is None:
        return build()
    path = folder / f"builtin_head_{key}.npz"
    if path.is_file():
        try:
            return from_flat(read_npz(path, _allowed, max_bytes=MAX_BYTES))
        except FILE_ERRORS:  # damaged, truncated, another layout: build it again and write over it
            pass
    arrays = build()
    try:
        buffer = io.BytesIO()
        np.savez(buffer, **to_flat(arrays))
        write_atomically(path, buffer.getvalue())
    except OSError:  # a read-only or full disk: no cache, the head was built all the same
        pass
    return arrays


def _allowed(name: str, dtype: np.dtype, shape: tuple, headers: dict) -> Optional[str]:
    return None if dtype.kind in "iufU" else f"the cached head's array '{name}' is not numbers or text"


def to_flat(arrays: dict) -> dict:
    """The head's arrays (`builtin._arrays()`'s dict) as plain named arrays for an npz."""
    limits, regions, emb = arrays["joint_limits"], arrays["regions"], arrays["landmark_embedding"]
    flat = {name: arrays[name] for name in PLAIN}
    flat.update(shape_names=np.array(arrays["shape_names"], str),
                expression_names=np.array(arrays["expression_names"], str),
                limit_names=np.array(list(limits), str),
                limits=np.array([np.stack(limits[n]) for n in limits], np.float64).reshape(-1, 2, 3),
                region_names=np.array(list(regions), str),
                region_sizes=np.array([len(regions[r]) for r in regions], np.int64),
                region_indices=np.concatenate([np.asarray(regions[r]).ravel() for r in regions]),
                lmk_faces=emb.faces, lmk_bary=emb.bary, lmk_ids=emb.ids)
    return flat


def from_flat(flat: dict) -> dict:
    """`to_flat`'s arrays back as the head's arrays; FileRefused when they do not fit together."""
    try:
        vertices = flat["v_template"].shape[0]
        if flat["v_template"].shape != (vertices, 3) or flat["weights"].shape[0] != vertices \
                or flat["exprdirs"].shape[:2] != (vertices, 3) or flat["mirror"].shape != (vertices,) \
                or int(flat["region_sizes"].sum()) != flat["region_indices"].size \
                or len(flat["limit_names"]) != len(flat["limits"]):
            raise FileRefused("the cached head's arrays do not fit together")
        ends = np.cumsum(flat["region_sizes"])
        regions = {str(name): flat["region_indices"][end - size:end]
                   for name, size, end in zip(flat["region_names"], flat["region_sizes"], ends)}
        return {name: flat[name] for name in PLAIN} | dict(
            shape_names=[str(n) for n in flat["shape_names"]],
            expression_names=[str(n) for n in flat["expression_names"]],
            joint_limits={str(n): (lo, hi) for n, (lo, hi) in zip(flat["limit_names"], flat["limits"])},
            regions=regions,
            landmark_embedding=LandmarkEmbedding(flat["lmk_faces"], flat["lmk_bary"], flat["lmk_ids"]))
    except KeyError as missing:
        raise FileRefused(f"the cached head has no array {missing}") from None
