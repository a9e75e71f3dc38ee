"""One way for every training config dataclass to become JSON and back.

A recipe's config is saved beside its checkpoint (config.json) and read back
from files people write by hand, so unknown keys are errors that name the
known ones, and an unreadable file is one sentence.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

from ..errors import InputError


class ConfigFile:
    """Mixin for a dataclass config; `KIND` names it in messages ("ADF", "NLDF", ...)."""

    KIND = "training"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"Unknown {cls.KIND} config key(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}.")
        return cls(**values)

    def save(self, path: Path) -> Path:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2))
        return Path(path)

    @classmethod
    def load(cls, path: Path):
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"Cannot read the {cls.KIND} config '{path}' ({error}).") from None


def key_values(items, option: str = "--set") -> dict:
    """`option KEY=VALUE` items of a command line -> {key: value}, VALUE read as JSON or else kept as the
    string; InputError naming the item when it has no '='."""
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"Cannot read '{option} {item}'; write it as KEY=VALUE.")
        try:
            values[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            values[key.strip()] = value
    return values
