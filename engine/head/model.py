"""HeadModel: a FLAME-structured head (template, bases, joints, skinning).

Conventions (FLAME's): Y up, +Z out of the face, +X to the subject's left,
metres. Five joints in FLAME order with parents [-1, 0, 1, 1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import HeadModelError
from . import lbs as _lbs

JOINT_NAMES = ("global", "neck", "jaw", "eye_left", "eye_right")
PARENTS = np.array([-1, 0, 1, 1, 1], dtype=np.int64)
NUM_JOINTS = len(JOINT_NAMES)
POSE_FEATURES = 9 * (NUM_JOINTS - 1)  # 36, as in FLAME
FLOAT_ARRAYS = ("v_template", "shapedirs", "exprdirs", "posedirs", "j_regressor", "weights")


@dataclass
class LandmarkEmbedding:
    """Surface points as barycentric coordinates on triangles.

    faces [L] triangle indices, bary [L, 3] weights, ids [L] the iBUG-68
    number of each point (0..67; a 51-point FLAME embedding has 17..67).
    """

    faces: np.ndarray
    bary: np.ndarray
    ids: np.ndarray


@dataclass
class HeadModel:
    """A head in FLAME's structure.

    v_template [V, 3], faces [F, 3], shapedirs [V, 3, S] with `shape_names`,
    exprdirs [V, 3, E] with `expression_names`, posedirs [V, 3, 36],
    j_regressor [5, V], weights [V, 5], parents [5].
    `joint_limits` maps a joint name to (low [3], high [3]) axis-angle bounds
    in radians, `regions` maps a region name ("lips", "mouth", "brows",
    "eyes", ...) to vertex indices, `vertex_colors` [V, 3] in [0, 1].
    """

    name: str
    v_template: np.ndarray
    faces: np.ndarray
    shapedirs: np.ndarray
    shape_names: list
    exprdirs: np.ndarray
    expression_names: list
    posedirs: np.ndarray
    j_regressor: np.ndarray
    weights: np.ndarray
    parents: np.ndarray = field(default_factory=lambda: PARENTS.copy())
    joint_names: tuple = JOINT_NAMES
    joint_limits: dict = field(default_factory=dict)
    landmark_embedding: Optional[LandmarkEmbedding] = None
    regions: dict = field(default_factory=dict)
    vertex_colors: Optional[np.ndarray] = None
    source: str = ""

    def __post_init__(self) -> None:
        with np.errstate(over="ignore", invalid="ignore"):  # out-of-range values: validate() names them
            for name in FLOAT_ARRAYS:  # FLAME computes in float32; half the memory traffic of float64
                setattr(self, name, np.asarray(getattr(self, name), dtype=np.float32))
        validate(self)

    @property
    def num_vertices(self) -> int:
        return self.v_template.shape[0]

    def expression_index(self, name: str) -> int:
        """Index of an expression component by name (case-insensitive)."""
        lowered = [n.lower() for n in self.expression_names]
        try:
            return lowered.index(name.lower())
        except ValueError:
            raise HeadModelError(f"The head '{self.name}' has no expression named '{name}'.") from None

    def forward(self, expression=None, pose=None, shape=None, translation=None):
        """Posed vertices and joints for a batch of frames.

        expression [T, E] (or [E]), pose [T, 5, 3] axis-angle (or [5, 3]),
        shape [S] or [T, S], translation [T, 3]; any may be None (zeros).
        Returns vertices [T, V, 3] and joints [T, 5, 3] (float32).
        """
        T = _batch_size(expression, pose, translation)
        S, E = self.shapedirs.shape[2], self.exprdirs.shape[2]
        expression = _batched(expression, T, (E,), "expression")
        pose = _batched(pose, T, (NUM_JOINTS, 3), "pose")
        shape = _batched(shape, T, (S,), "shape")
        coeffs = np.concatenate([shape, expression], axis=1)
        dirs = np.concatenate([self.shapedirs, self.exprdirs], axis=2)
        verts, joints = _lbs.lbs(coeffs, pose.reshape(T, -1), self.v_template, dirs,
                                 self.posedirs, self.j_regressor, self.parents, self.weights)
        if translation is not None:
            t = _batched(translation, T, (3,), "translation")[:, None, :]
            verts, joints = verts + t, joints + t
        return verts.astype(np.float32), joints.astype(np.float32)

    def rest_joints(self, shape=None) -> np.ndarray:
        """Joint locations [5, 3] of the unposed (optionally shaped) head."""
        shaped = self.v_template + (0 if shape is None else
                                    _lbs.blend_shapes(np.atleast_2d(shape), self.shapedirs)[0])
        return self.j_regressor @ shaped


def _batch_size(*arrays) -> int:
    for a, rank in zip(arrays, (2, 3, 2)):
        if a is not None and np.ndim(a) == rank:
            return int(np.shape(a)[0])
    return 1


def _batched(a, T: int, tail: tuple, what: str) -> np.ndarray:
    if a is None:
        return np.zeros((T,) + tail, dtype=np.float32)
    a = np.asarray(a, dtype=np.float32)
    if a.shape == tail:
        a = np.broadcast_to(a, (T,) + tail)
    if a.shape != (T,) + tail:
        raise HeadModelError(f"The {what} array has shape {a.shape}; expected {(T,) + tail}.")
    return a


def validate(head: HeadModel) -> None:
    """Check every array's shape and values; raise HeadModelError with the first problem."""
    V = head.v_template.shape[0] if head.v_template.ndim == 2 else -1
    checks = [
        (head.v_template.ndim == 2 and head.v_template.shape[1] == 3, "v_template must be [V, 3]"),
        (head.faces.ndim == 2 and head.faces.shape[1] == 3, "faces must be [F, 3]"),
        (head.shapedirs.shape[:2] == (V, 3), "shapedirs must be [V, 3, S]"),
        (head.exprdirs.shape[:2] == (V, 3), "exprdirs must be [V, 3, E]"),
        (head.posedirs.shape == (V, 3, POSE_FEATURES), f"posedirs must be [V, 3, {POSE_FEATURES}]"),
        (head.j_regressor.shape == (NUM_JOINTS, V), f"the joint regressor must be [{NUM_JOINTS}, V]"),
        (head.weights.shape == (V, NUM_JOINTS), f"skinning weights must be [V, {NUM_JOINTS}]"),
        (list(head.parents) == list(PARENTS), "the kinematic tree must be FLAME's (parents -1, 0, 1, 1, 1)"),
        (len(head.expression_names) == head.exprdirs.shape[2], "there must be one name per expression component"),
        (len(head.shape_names) == head.shapedirs.shape[2], "there must be one name per shape component"),
    ]
    for ok, rule in checks:
        if not ok:
            raise HeadModelError(f"The head model '{head.source or head.name}' is malformed: {rule}.")
    if head.faces.size and (head.faces.min() < 0 or head.faces.max() >= V):
        raise HeadModelError(f"The head model '{head.source or head.name}' has faces that index missing vertices.")
    for arr, what in ((head.v_template, "template"), (head.exprdirs, "expression basis"),
                      (head.shapedirs, "shape basis"), (head.weights, "skinning weights"),
                      (head.posedirs, "pose correctives"), (head.j_regressor, "joint regressor")):
        if not np.all(np.isfinite(arr)) or (arr.size and np.abs(arr).max() > MAX_ABS_VALUE):
            raise HeadModelError(f"The head model '{head.source or head.name}' has NaN, infinite or absurdly large values "
                                 f"in its {what}.")
    _validate_optional(head, V)


MAX_ABS_VALUE = 1e6   # metres, or metres per unit of a basis: far past any head


def _validate_optional(head: HeadModel, V: int) -> None:
    """The optional fields: names, joint limits, regions, vertex colours, landmark embedding."""
    def bad(rule: str):
        raise HeadModelError(f"The head model '{head.source or head.name}' is malformed: {rule}.")

    names = list(head.shape_names) + list(head.expression_names) + list(head.joint_names)
    if not all(isinstance(n, str) and 0 < len(n) <= 256 for n in names) or len(head.joint_names) != NUM_JOINTS:
        bad("its component and joint names must be short non-empty text, with one name per joint")
    for joint, limits in head.joint_limits.items():
        low, high = (np.asarray(x, dtype=np.float64) for x in limits)
        if joint not in head.joint_names or low.shape != (3,) or high.shape != (3,) \
                or not np.all(np.isfinite(low) & np.isfinite(high) & (low <= high)):
            bad(f"the joint limits of '{joint}' must be finite [3] low <= high bounds of one of its joints")
    for region, indices in head.regions.items():
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu" or (indices.size and (indices.min() < 0 or indices.max() >= V)):
            bad(f"the region '{region}' must list vertex indices of this head")
    colors = head.vertex_colors
    if colors is not None and (np.asarray(colors).shape != (V, 3) or np.asarray(colors).dtype.kind != "f"
                               or not np.all((np.asarray(colors) >= 0) & (np.asarray(colors) <= 1))):
        bad(f"vertex colours must be [{V}, 3] numbers in [0, 1]")
    lmk = head.landmark_embedding
    if lmk is not None and (np.asarray(lmk.faces).size and np.asarray(lmk.faces).max() >= len(head.faces)):
        bad("its landmark embedding uses triangles the head does not have")
