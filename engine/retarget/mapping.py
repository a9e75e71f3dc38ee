"""Mapping: which targets (shape keys, bones) of a rig each clip channel drives, and how much.

A shape key k receives  value_k(t) = sum over channels c of weight_ck * channel_c(t).
The mapping is plain data the user can read and edit as JSON:

    {"format": "talking-head-mapping", "version": 1, "method": "name",
     "targets": {"eyeBlinkLeft": [["EyeBlink_L", 1.0]], "jawOpen": [["JawOpen", 1.0]]},
     "unmapped": ["cheekPuff"],
     "bones": {"jaw": "Jaw_Bone", "neck": "neck_01"}}

`bones` maps a FLAME joint (global, neck, jaw, eye_left, eye_right) to a bone
of the target's armature that receives that joint's rotation. When reading,
a channel's targets may also be written "Key" (weight 1) or {"Key": 0.5}.

Weights are zero or more: a rig's shape keys are one-sided (0 rest, 1 full).
A mapping onto two-sided keys, whose sign means nothing (the principal
components of a FLAME head's expression space, `Exp1`.. or `exp000`..), says
`"signed": true` and may then have negative weights.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..head.model import JOINT_NAMES

FORMAT_NAME = "talking-head-mapping"
FORMAT_VERSION = 1
METHODS = ("name", "fit", "edited")


class MappingError(InputError):
    """A mapping is malformed, or names targets or bones the rig does not have."""


@dataclass
class Mapping:
    """Clip channel -> [(target name, weight)], the channels with no target, and joint -> bone.

    targets {channel: [(target, weight), ...]}, unmapped [channel names],
    bones {FLAME joint: bone name}, method "name" / "fit" / "edited",
    signed: the targets are two-sided, so weights may be negative (else >= 0).
    """

    targets: dict = field(default_factory=dict)
    unmapped: list = field(default_factory=list)
    bones: dict = field(default_factory=dict)
    method: str = "edited"
    signed: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.signed, bool):
            raise MappingError("The mapping's 'signed' must be true or false.")
        self.targets = _parse_targets(self.targets, self.signed)
        if isinstance(self.unmapped, str) or not all(isinstance(n, str) for n in self.unmapped):
            raise MappingError("The mapping's 'unmapped' must be a list of channel names.")
        self.unmapped = list(self.unmapped)
        self.bones = _parse_bones(self.bones)
        if self.method not in METHODS:
            raise MappingError(f"The mapping's method '{self.method}' is unknown; use one of {', '.join(METHODS)}.")

    def target_names(self) -> list:
        """Every target the mapping drives, in order of first appearance."""
        seen = {}
        for pairs in self.targets.values():
            for target, _ in pairs:
                seen.setdefault(target, None)
        return list(seen)

    def restricted_to(self, target_names) -> "Mapping":
        """The same mapping onto only the targets in `target_names` (another mesh of the character that
        carries some of them); channels left with no target become unmapped, bones are kept."""
        known = set(target_names)
        kept = {c: [(t, w) for t, w in pairs if t in known] for c, pairs in self.targets.items()}
        return Mapping(targets={c: p for c, p in kept.items() if p},
                       unmapped=list(self.unmapped) + [c for c, p in kept.items() if not p],
                       bones=dict(self.bones), method=self.method, signed=self.signed)

    def validate(self, target_names=None, bone_names=None) -> None:
        """Raise MappingError when a target is not in `target_names` or a bone not in `bone_names`."""
        if target_names is not None:
            known = set(target_names)
            for channel, pairs in self.targets.items():
                missing = [t for t, _ in pairs if t not in known]
                if missing:
                    raise MappingError(f"The mapping sends '{channel}' to '{missing[0]}', which the target does "
                                       "not have; rebuild the mapping or correct the name.")
        if bone_names is not None:
            known = set(bone_names)
            for joint, bone in self.bones.items():
                if bone not in known:
                    raise MappingError(f"The mapping puts the {joint} joint on bone '{bone}', which the armature "
                                       "does not have; choose another bone or correct the name.")

    def weights(self, channel_names) -> tuple:
        """(targets [K], W [C, K]): W[c, k] is the weight of channel_names[c] (case-insensitive) on target k."""
        channel_names = list(channel_names)
        column = {str(n).lower(): c for c, n in enumerate(channel_names)}
        targets = self.target_names()
        index = {t: k for k, t in enumerate(targets)}
        W = np.zeros((len(channel_names), len(targets)))
        for channel, pairs in self.targets.items():
            c = column.get(channel.lower())
            if c is not None:
                for target, weight in pairs:
                    W[c, index[target]] += weight
        used = W.any(axis=0)
        return [t for t, u in zip(targets, used) if u], W[:, used]

    def apply(self, channel_names, values) -> tuple:
        """(targets [K], target values [T, K] = values [T, C] @ W) for clip channels `channel_names` [C]."""
        targets, W = self.weights(channel_names)
        return targets, np.asarray(values, dtype=np.float64) @ W

    def to_dict(self) -> dict:
        """Plain JSON-ready data (see the module docstring)."""
        data = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "method": self.method}
        if self.signed:
            data["signed"] = True
        data.update(targets={c: [[t, w] for t, w in pairs] for c, pairs in self.targets.items()},
                    unmapped=list(self.unmapped), bones=dict(self.bones))
        return data

    def to_json(self) -> str:
        """The mapping as JSON text, one channel per line."""
        data = self.to_dict()
        targets = ",\n".join(f"  {json.dumps(c)}: {json.dumps(p)}" for c, p in data.pop("targets").items())
        head = json.dumps({k: data[k] for k in ("format", "version", "method", "signed") if k in data})[:-1]
        tail = json.dumps({k: data[k] for k in ("unmapped", "bones")})[1:]
        return f"{head},\n \"targets\": {{\n{targets}\n }},\n {tail}\n"

    @classmethod
    def from_dict(cls, data) -> "Mapping":
        """A Mapping from `to_dict`'s layout (format and version checked when present)."""
        if not isinstance(data, dict):
            raise MappingError("A mapping must be a JSON object with 'targets', 'unmapped' and 'bones'.")
        if data.get("format", FORMAT_NAME) != FORMAT_NAME or data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
            raise MappingError(f"This is not a version-{FORMAT_VERSION} talking-head mapping; rebuild the mapping.")
        unknown = set(data) - {"format", "version", "method", "signed", "targets", "unmapped", "bones"}
        if unknown:
            raise MappingError(f"The mapping has an unknown field '{sorted(unknown)[0]}'; "
                               "use targets, unmapped and bones.")
        return cls(targets=data.get("targets", {}), unmapped=data.get("unmapped", []),
                   bones=data.get("bones", {}), method=data.get("method", "edited"),
                   signed=data.get("signed", False))

    @classmethod
    def from_json(cls, text: str) -> "Mapping":
        """A Mapping from JSON text; malformed text is a MappingError naming the line."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            where = f" at line {error.lineno}" if hasattr(error, "lineno") else ""
            raise MappingError(f"The mapping is not valid JSON{where}; fix it or rebuild the mapping.") from None
        return cls.from_dict(data)


def _parse_targets(targets, signed: bool = False) -> dict:
    """{channel: [(target, weight)]} from the accepted spellings, with weights checked (>= 0 unless `signed`)."""
    if not isinstance(targets, dict):
        raise MappingError("The mapping's 'targets' must map channel names to lists of [target, weight] pairs.")
    out = {}
    for channel, value in targets.items():
        pairs = _pairs(channel, value)
        for target, weight in pairs:
            if not math.isfinite(weight):
                raise MappingError(f"The mapping gives '{channel}' the weight {weight} on '{target}'; "
                                   "weights must be finite numbers.")
            if weight < 0 and not signed:
                raise MappingError(f"The mapping gives '{channel}' the weight {weight} on '{target}'; "
                                   "weights must be finite and zero or more (unless the mapping says "
                                   "\"signed\": true, for two-sided keys such as FLAME's expressions).")
        out[str(channel)] = pairs
    return out


def _pairs(channel, value) -> list:
    if isinstance(value, str):
        return [(value, 1.0)]
    if isinstance(value, dict):
        value = list(value.items())
    if isinstance(value, (list, tuple)):
        try:
            return [(item, 1.0) if isinstance(item, str) else _pair(item) for item in value]
        except (TypeError, ValueError):
            pass
    raise MappingError(f"The mapping's entry for '{channel}' must be a list of [target, weight] pairs.")


def _pair(item) -> tuple:
    target, weight = item
    if not isinstance(target, str) or isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise TypeError
    return (target, float(weight))


def _parse_bones(bones) -> dict:
    if not isinstance(bones, dict) or not all(isinstance(b, str) and b for b in bones.values()):
        raise MappingError("The mapping's 'bones' must map joint names to bone names.")
    unknown = [j for j in bones if j not in JOINT_NAMES]
    if unknown:
        raise MappingError(f"The mapping's bones name an unknown joint '{unknown[0]}'; "
                           f"use {', '.join(JOINT_NAMES)}.")
    return dict(bones)
