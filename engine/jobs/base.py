"""A job description: a frozen dataclass of plain JSON values with a versioned JSON form.

Each kind of job (animate, track, render, ...) subclasses `Job`, names its
`kind`, declares its fields with their types (str, int, float, bool, dict,
tuple of str, or Optional of one of them) and writes `validate()`. The base
class gives every kind the same contract:

- constructing a job checks each field's type (an int is accepted for a float;
  a list for a tuple), so a job object is always well-typed;
- `to_json()` is a dict of JSON values with "kind" and "version" added;
  `from_json(dict or text)` refuses another kind, a missing or newer version,
  unknown fields and missing required fields, each with one sentence
  (`InvalidJob`), and `from_json(job.to_json()) == job`.
"""

from __future__ import annotations

import json
import numbers
import typing
from dataclasses import MISSING, dataclass, fields
from typing import ClassVar, Union

from ..errors import InputError, shown

RESERVED = ("kind", "version")   # the JSON keys every job has besides its fields


class InvalidJob(InputError):
    """A job description cannot be read: not a JSON object, another kind or a newer version, or a field
    that is unknown, missing or of the wrong type."""


@dataclass(frozen=True)
class Job:
    """The fields every job kind shares none of; subclasses add theirs (see the module docstring)."""

    kind: ClassVar[str] = ""
    version: ClassVar[int] = 1

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in fields(self):
            value = _typed(getattr(self, f.name), hints[f.name], f.name, self.kind)
            object.__setattr__(self, f.name, value)

    def validate(self) -> None:
        """Raise one sentence (an InputError subclass, or ModelError) when the job cannot work."""
        raise NotImplementedError

    def to_json(self) -> dict:
        """The job as JSON values: {"kind": ..., "version": ..., field: value, ...}."""
        values = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        return {"kind": self.kind, "version": self.version, **values}

    @classmethod
    def from_json(cls, data) -> "Job":
        """The job of `data` (a dict, or its JSON text); InvalidJob with one sentence when it is not one."""
        data = _object(data)
        if data.get("kind") != cls.kind:
            raise InvalidJob(f"The job's kind is {shown(data.get('kind'))[:40]}, not '{cls.kind}'.")
        check_version(data, cls.kind, cls.version)
        values = {k: v for k, v in data.items() if k not in RESERVED}
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise InvalidJob(f"The {cls.kind} job has unknown field(s) {', '.join(u[:40] for u in unknown[:8])}; "
                             f"known: {', '.join(names)}.")
        missing = [f.name for f in fields(cls) if f.name not in values and _required(f)]
        if missing:
            raise InvalidJob(f"The {cls.kind} job lacks its field(s) {', '.join(missing)}.")
        return cls(**values)


def check_version(data: dict, kind: str, newest: int) -> None:
    """InvalidJob unless data["version"] is a whole number from 1 to `newest` (what this engine reads)."""
    version = data.get("version")
    if version is None:
        raise InvalidJob(f"The {kind} job has no version; write \"version\": {newest}.")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidJob(f"The {kind} job's version must be a whole number from 1, not {shown(version)[:40]}.")
    if version > newest:
        raise InvalidJob(f"The {kind} job is of version {version}, newer than this engine reads ({newest}); "
                         "update the engine.")


def parse(data) -> dict:
    """A job's JSON object from a dict or its JSON text; InvalidJob when it is neither."""
    return _object(data)


def _object(data) -> dict:
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as error:
            raise InvalidJob(f"The job is not valid JSON ({error}).") from None
    if not isinstance(data, dict):
        raise InvalidJob(f"A job must be a JSON object, not {type(data).__name__}.")
    return data


def _required(f) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


_HINTS: dict = {}


def _hints(cls) -> dict:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


TYPE_WORDS = {str: "text", int: "a whole number", float: "a number", bool: "true or false", dict: "an object"}


def _typed(value, hint, name: str, kind: str):
    """`value` as field `name` of type `hint` holds it (float for int, tuple for list); InvalidJob if it is not."""
    if typing.get_origin(hint) is Union:
        if value is None:
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if typing.get_origin(hint) is tuple:
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise InvalidJob(f"The {kind} job's field '{name}' must be a list of text, not {shown(value)[:60]}.")
    base = typing.get_origin(hint) or hint
    if _is(value, base):
        return float(value) if base is float else int(value) if base is int else value
    raise InvalidJob(f"The {kind} job's field '{name}' must be {TYPE_WORDS[base]}, not {shown(value)[:60]}.")


def _is(value, base) -> bool:
    if base in (int, float) and isinstance(value, bool):
        return False
    if base is int:
        return isinstance(value, numbers.Integral)
    if base is float:
        return isinstance(value, numbers.Real)
    if base is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    return isinstance(value, base)


def _plain(value):
    """A field's value as JSON: tuples become lists, dicts and their lists are copied."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
