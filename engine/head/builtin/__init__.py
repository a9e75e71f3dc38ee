"""The built-in head: a plausible human head generated entirely by this project's code.

`build_builtin_head()` returns a `HeadModel` in FLAME's structure and
conventions (Y up, +Z out of the face, +X the subject's left, metres):
a lofted skin with closed lips over a mouth cavity and eyelid openings,
two eyeballs skinned to the eye joints, 40 ARKit-named expression
components, 12 named identity components, a jaw corrective and the iBUG-68
landmark embedding. Deterministic; the arrays are built once per process, or read from
the user's cache of this very definition (`cache`).
"""

from __future__ import annotations

import functools

import numpy as np

from ..model import HeadModel
from .cache import cached_arrays

NAME = "builtin"
SOURCE = "built-in head v1"


@functools.lru_cache(maxsize=1)
def _arrays() -> dict:
    """The head's arrays, read from the user's cache when a process built this very head before (`cache`)."""
    return cached_arrays(build_arrays)


def build_arrays() -> dict:
    """The head's arrays, built from its definition (~0.45 s; its modules are imported only here)."""
    from . import appearance, embedding, expressions, layout, rig, shapes, surface
    from .fields import make_context

    lay = layout.build_layout()
    ctx = make_context(lay, surface.positions(lay))
    weights = rig.skinning_weights(ctx)
    exprdirs, expression_names = expressions.expression_basis(ctx, weights)
    shapedirs, shape_names = shapes.shape_basis(ctx)
    return dict(
        v_template=ctx.rest, faces=lay.faces, shapedirs=shapedirs, shape_names=shape_names,
        exprdirs=exprdirs, expression_names=expression_names,
        posedirs=rig.pose_correctives(weights), j_regressor=rig.joint_regressor(ctx, exprdirs), weights=weights,
        joint_limits=rig.joint_limits(), landmark_embedding=embedding.ibug68(ctx, lay.faces),
        regions=appearance.regions(ctx), vertex_colors=appearance.vertex_colors(ctx), mirror=lay.mirror,
    )


def build_builtin_head() -> HeadModel:
    """The built-in head as a fresh `HeadModel` (its arrays are copies of a per-process cache).

    About 5k vertices: v_template [V, 3], faces [F, 3], exprdirs [V, 3, 40],
    shapedirs [V, 3, 12], posedirs [V, 3, 36], j_regressor [5, V], weights [V, 5].
    """
    a = _arrays()
    emb = a["landmark_embedding"]
    return HeadModel(
        name=NAME, v_template=a["v_template"].copy(), faces=a["faces"].copy(),
        shapedirs=a["shapedirs"].copy(), shape_names=list(a["shape_names"]),
        exprdirs=a["exprdirs"].copy(), expression_names=list(a["expression_names"]),
        posedirs=a["posedirs"].copy(), j_regressor=a["j_regressor"].copy(), weights=a["weights"].copy(),
        joint_limits={k: (lo.copy(), hi.copy()) for k, (lo, hi) in a["joint_limits"].items()},
        landmark_embedding=type(emb)(emb.faces.copy(), emb.bary.copy(), emb.ids.copy()),
        regions={k: v.copy() for k, v in a["regions"].items()},
        vertex_colors=a["vertex_colors"].copy(), source=SOURCE,
    )


def mirror_vertices() -> np.ndarray:
    """For every vertex of the built-in head, the index of its mirror image in X [V]."""
    return _arrays()["mirror"].copy()
