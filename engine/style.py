"""Speaking style: how a voice is performed, separate from what is said.

The phonetic driver and the synthetic corpus read the same parameters, and
every corpus clip records the ones it was rendered with, so the neural
driver can learn them back from a reference performance.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from .errors import InputError, shown

RANGES = {
    "articulation": (0.0, 2.0),
    "smoothness": (0.25, 3.0),
    "smile": (-1.0, 1.0),
    "brow": (-1.0, 1.0),
    "brow_accent": (0.0, 3.0),
    "head_motion": (0.0, 3.0),
    "blink_rate": (0.0, 60.0),
}


@dataclass(frozen=True)
class SpeakingStyle:
    """Style parameters, each with its neutral default."""

    articulation: float = 1.0  # scale of mouth shapes and jaw opening (0 = still mouth)
    smoothness: float = 1.0    # coarticulation spread: >1 blends neighbouring phones more
    smile: float = 0.0         # constant mouth-corner bias: +1 smiling, -1 frowning
    brow: float = 0.0          # constant brow bias: +1 raised, -1 lowered
    brow_accent: float = 1.0   # how strongly pitch/energy accents lift the brows
    head_motion: float = 1.0   # energy of the head's nods and sway
    blink_rate: float = 17.0   # blinks per minute

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            low, high = RANGES[f.name]
            if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
                raise InputError(f"Style parameter '{f.name}' must be between {low} and {high}, not {shown(value)}.")

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> "SpeakingStyle":
        unknown = sorted(set(values) - set(RANGES))
        if unknown:
            raise InputError(f"Unknown style parameter(s) {', '.join(unknown)}; known: {', '.join(RANGES)}.")
        return cls(**{k: float(v) for k, v in values.items()})


NEUTRAL = SpeakingStyle()


PRESETS = {
    "neutral": NEUTRAL,
    "subtle": SpeakingStyle(articulation=0.6, smoothness=1.4, brow_accent=0.4, head_motion=0.4, blink_rate=12.0),
    "expressive": SpeakingStyle(articulation=1.4, smoothness=0.8, brow=0.2, brow_accent=2.0, head_motion=2.0,
                                blink_rate=22.0),
    "happy": SpeakingStyle(articulation=1.15, smile=0.7, brow=0.3, brow_accent=1.4, head_motion=1.3, blink_rate=18.0),
    "serious": SpeakingStyle(articulation=0.9, smoothness=1.1, smile=-0.3, brow=-0.5, brow_accent=0.5,
                             head_motion=0.5, blink_rate=10.0),
}


def preset(name: str) -> SpeakingStyle:
    """A named style preset; InputError naming the presets for an unknown name."""
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise InputError(f"Unknown style preset '{name}'; choose one of: {', '.join(PRESETS)}.") from None


def with_value(style: SpeakingStyle, name: str, value: float) -> SpeakingStyle:
    """`style` with one parameter replaced; InputError naming the known parameters for an unknown
    name, or giving the range for a value outside it."""
    if name not in RANGES:
        raise InputError(f"Unknown style parameter '{name}'; known: {', '.join(RANGES)}.")
    return replace(style, **{name: float(value)})


def from_items(items, base: SpeakingStyle | None = None) -> SpeakingStyle:
    """A style from preset names and NAME=VALUE parameters, applied in order on `base` (e.g. a
    reference clip's style; default neutral), as the CLI's repeated `--style` reads them.

    A preset replaces every parameter set before it; NAME=VALUE replaces one:
    ["subtle", "head_motion=2"] is the subtle preset with more head motion.
    """
    style = base or NEUTRAL
    for item in items:
        if "=" not in item:
            style = preset(item)
            continue
        name, _, value = (part.strip() for part in str(item).partition("="))
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"Cannot read the style parameter '{item}'; each takes one number, "
                             "e.g. smile=0.5.") from None
        style = with_value(style, name, number)
    return style
