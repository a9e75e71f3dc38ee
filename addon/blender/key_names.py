"""What a head's shape-key names say: FLAME expression components and pose correctives.

Two kinds of FLAME head reach the add-on:
- ours, from `head_object.add_head` on a FLAME file: expression keys
  `exp000`..`exp099`, correctives `pose:<joint>:<rc>`;
- the FLAME Blender add-on's (TimoBolkart/FLAME-Blender-Add-on, its
  `flame_tools/__init__.py`): keys `Shape1`..`Shape300` (identity),
  `Exp1`..`Exp100` (expression) and `Pose1`..`Pose18`, where `Pose<n>` is
  entry (n - 1) % 9 of the row-major (R - I) of the neck (n <= 9) or the jaw
  (n > 9), as its "Set poseshapes" operator computes them.

A FLAME expression key is a principal component: its sign means nothing and
its name says nothing an ARKit-named clip could match, so such heads are
retargeted by fit with signed weights (see `fitting`).
"""

from __future__ import annotations

import re

from .head_object import CORRECTIVE_PREFIX
from ..engine_link import engine

FLAME_EXPRESSION_KEY = re.compile(r"^exp_?(\d+)$", re.IGNORECASE)  # Exp1.., Exp001.., exp000..
FLAME_ADDON_CORRECTIVE = re.compile(r"^Pose(\d+)$")                # Pose1..Pose18 (..Pose36 with the eyes)
MIN_FLAME_EXPRESSIONS = 10  # fewer Exp keys than this is a coincidence of names, not a FLAME head
JOINTS = engine.head.model.JOINT_NAMES


def flame_expression_keys(names) -> list:
    """The names [K] that are FLAME expression components, in component order."""
    found = [(int(m.group(1)), n) for n in names for m in [FLAME_EXPRESSION_KEY.match(n)] if m]
    return [n for _, n in sorted(found)]


def looks_like_flame(names) -> bool:
    """True when the shape-key names include at least `MIN_FLAME_EXPRESSIONS` FLAME expression keys."""
    return len(flame_expression_keys(names)) >= MIN_FLAME_EXPRESSIONS


def corrective_keys(names) -> dict:
    """{key name: (joint, row, column)} for every pose-corrective key among `names`.

    Ours (`pose:jaw:21`) always; the FLAME add-on's `Pose<n>` only when the
    names look like a FLAME head (elsewhere "Pose3" may be an artist's key).
    """
    names = list(names)
    flame = looks_like_flame(names)
    out = {}
    for name in names:
        entry = _ours(name) if name.startswith(CORRECTIVE_PREFIX) else (_flame_addon(name) if flame else None)
        if entry is not None:
            out[name] = entry
    return out


def _ours(name: str):
    parts = name.split(":")
    if len(parts) != 3 or parts[1] not in JOINTS or len(parts[2]) != 2 or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2][0]), int(parts[2][1])


def _flame_addon(name: str):
    match = FLAME_ADDON_CORRECTIVE.match(name)
    n = int(match.group(1)) - 1 if match else -1
    if not 0 <= n < 9 * (len(JOINTS) - 1):
        return None
    row, column = divmod(n % 9, 3)
    return JOINTS[1 + n // 9], row, column
