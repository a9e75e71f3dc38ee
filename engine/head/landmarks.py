"""Landmark positions of any posed head that carries a landmark embedding."""

from __future__ import annotations

import numpy as np

from ..errors import HeadModelError
from .model import HeadModel


def landmarks(head: HeadModel, vertices: np.ndarray) -> np.ndarray:
    """Landmarks [T, L, 3] of posed vertices [T, V, 3] (e.g. from `head.forward`), or [L, 3] from [V, 3].

    The points come in the embedding's order; `head.landmark_embedding.ids`
    gives their iBUG-68 numbers.
    """
    emb = head.landmark_embedding
    if emb is None:
        raise HeadModelError(f"The head '{head.name}' has no landmark embedding; use a head that has one.")
    verts = np.asarray(vertices)
    single = verts.ndim == 2
    if single:
        verts = verts[None]
    if verts.ndim != 3 or verts.shape[1:] != (head.num_vertices, 3):
        raise HeadModelError(
            f"Vertices of shape {np.shape(vertices)} do not fit the head '{head.name}' "
            f"({head.num_vertices} vertices); expected [T, {head.num_vertices}, 3].")
    corners = verts[:, head.faces[emb.faces]]              # [T, L, 3, 3]
    points = np.einsum("tlkc,lk->tlc", corners, emb.bary.astype(verts.dtype))
    return points[0] if single else points
