"""Visemes: what each phone asks of the mouth, as built-in-head channel values.

Each ARPAbet phone maps to one viseme (diphthongs to two, first and second
half). A viseme is a target for the mouth channels (jaw rotation in radians,
ARKit-named expression weights) plus how strongly it holds its lips and jaw
against its neighbours (its *dominance*, see coarticulation.py):

- bilabials (p, b, m) dominate the lips completely: they always close;
- f and v roll the lower lip under the upper teeth;
- rounded vowels (uw, ow, w, r) pucker, and their rounding spreads widely
  onto the consonants around them;
- most other consonants are weak on the lips (the vowels' lip shapes show
  through them) and open the jaw a little.

Targets are read on the built-in head, where the inner-lip gap is about
98 mm/rad of jaw minus 27 mm per unit of `mouthClose` (see LIP_GAP_MM).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .phones import ARPABET, SILENCE

JAW = "jaw_rx"
SIDED = ("mouthStretch", "mouthSmile", "mouthLowerDown", "mouthUpperUp", "mouthPress", "mouthFrown")
# The inner-lip gap (mm) of the built-in head per unit of each channel, near rest (measured from its
# iBUG landmarks 62/66; a test checks these against the head). Lip closure is solved with it.
LIP_GAP_MM = {JAW: 98.0, "mouthClose": -27.0, "mouthFunnel": 9.0, "mouthLowerDownLeft": 2.5,
              "mouthLowerDownRight": 2.5, "mouthUpperUpLeft": 2.1, "mouthUpperUpRight": 2.1,
              "mouthRollLower": -1.5, "mouthShrugLower": -1.7}


@dataclass(frozen=True)
class Viseme:
    """A mouth target: channel values (sided stems expand to Left/Right) and dominances.

    `lips` and `jaw` are the dominance magnitudes on the lip channels and the
    jaw; `spread` scales how far (in time) the lip dominance reaches.
    """

    name: str
    target: dict = field(default_factory=dict)
    lips: float = 1.0
    jaw: float = 1.0
    spread: float = 1.0

    def channels(self) -> dict[str, float]:
        """The target with sided stems expanded, e.g. mouthStretch -> mouthStretchLeft/Right."""
        out = {}
        for name, value in self.target.items():
            if name in SIDED:
                out[name + "Left"] = out[name + "Right"] = value
            else:
                out[name] = value
        return out


def _v(name, lips=1.0, jaw=1.0, spread=1.0, **target) -> Viseme:
    return Viseme(name, dict(target), lips, jaw, spread)


VISEMES = {v.name: v for v in (
    _v("rest", lips=0.6, jaw=0.6, spread=1.5, jaw_rx=0.0),
    _v("pause", lips=0.1, jaw=0.15, jaw_rx=0.0),  # a short pause inside speech: the mouth barely moves
    _v("bilabial", lips=1.5, jaw=2.0, jaw_rx=0.01, mouthPress=0.35, mouthRollUpper=0.1),
    _v("labiodental", lips=2.5, jaw=1.5, jaw_rx=0.05, mouthRollLower=0.65, mouthUpperUp=0.25, mouthShrugUpper=0.15),
    _v("dental", lips=0.5, jaw=1.2, jaw_rx=0.08, mouthStretch=0.12, mouthUpperUp=0.1),
    _v("alveolar", lips=0.3, jaw=0.9, jaw_rx=0.06, mouthStretch=0.1),
    _v("sibilant", lips=0.6, jaw=1.4, jaw_rx=0.035, mouthStretch=0.25, mouthUpperUp=0.12, mouthLowerDown=0.1),
    _v("postalveolar", lips=3.0, jaw=1.4, spread=1.3, jaw_rx=0.05, mouthFunnel=0.55, mouthPucker=0.3, mouthUpperUp=0.2),
    _v("velar", lips=0.25, jaw=0.7, jaw_rx=0.09),
    _v("glottal", lips=0.1, jaw=0.3, jaw_rx=0.1),
    _v("liquid", lips=0.4, jaw=0.8, jaw_rx=0.08, mouthStretch=0.05),
    _v("rhotic", lips=2.0, jaw=0.9, spread=1.5, jaw_rx=0.06, mouthFunnel=0.3, mouthPucker=0.35),
    _v("glide_w", lips=4.0, jaw=1.0, spread=1.8, jaw_rx=0.04, mouthPucker=0.85, mouthFunnel=0.35),
    _v("glide_y", lips=0.8, jaw=1.0, jaw_rx=0.05, mouthStretch=0.3),
    _v("open", lips=1.0, jaw=2.0, jaw_rx=0.26, mouthLowerDown=0.3, mouthUpperUp=0.1),
    _v("open_front", lips=1.0, jaw=2.0, jaw_rx=0.21, mouthStretch=0.3, mouthLowerDown=0.25),
    _v("mid", lips=0.8, jaw=2.0, jaw_rx=0.17, mouthLowerDown=0.15),
    _v("mid_front", lips=1.0, jaw=2.0, jaw_rx=0.15, mouthStretch=0.3, mouthLowerDown=0.1),
    _v("close_front", lips=1.2, jaw=2.0, jaw_rx=0.06, mouthStretch=0.5, mouthSmile=0.15),
    _v("near_close", lips=1.0, jaw=2.0, jaw_rx=0.1, mouthStretch=0.3),
    _v("open_round", lips=2.0, jaw=2.0, spread=1.5, jaw_rx=0.21, mouthFunnel=0.45, mouthPucker=0.15),
    _v("mid_round", lips=2.5, jaw=2.0, spread=1.6, jaw_rx=0.15, mouthFunnel=0.5, mouthPucker=0.4),
    _v("close_round", lips=3.0, jaw=2.0, spread=1.8, jaw_rx=0.06, mouthPucker=0.85, mouthFunnel=0.4),
    _v("rcolored", lips=1.5, jaw=2.0, spread=1.4, jaw_rx=0.1, mouthFunnel=0.3, mouthPucker=0.25),
)}

# Phone -> viseme names: one for monophthongs and consonants, two (first and second half) for diphthongs.
PHONE_VISEMES = {
    "P": ("bilabial",), "B": ("bilabial",), "M": ("bilabial",),
    "F": ("labiodental",), "V": ("labiodental",),
    "TH": ("dental",), "DH": ("dental",),
    "T": ("alveolar",), "D": ("alveolar",), "N": ("alveolar",),
    "S": ("sibilant",), "Z": ("sibilant",),
    "SH": ("postalveolar",), "ZH": ("postalveolar",), "CH": ("postalveolar",), "JH": ("postalveolar",),
    "K": ("velar",), "G": ("velar",), "NG": ("velar",),
    "HH": ("glottal",), "L": ("liquid",), "R": ("rhotic",), "W": ("glide_w",), "Y": ("glide_y",),
    "AA": ("open",), "AE": ("open_front",), "AH": ("mid",), "AO": ("open_round",),
    "EH": ("mid_front",), "ER": ("rcolored",), "IH": ("near_close",), "IY": ("close_front",),
    "UH": ("mid_round",), "UW": ("close_round",), "OW": ("open_round", "mid_round"),
    "AW": ("open", "close_round"), "AY": ("open", "close_front"), "EY": ("mid_front", "close_front"),
    "OY": ("open_round", "close_front"),
    SILENCE: ("rest",),
}
assert set(PHONE_VISEMES) == set(ARPABET) | {SILENCE}

MOUTH_CHANNELS = tuple(sorted({c for v in VISEMES.values() for c in v.channels()} | {"mouthClose"}))
LIP_CHANNELS = tuple(c for c in MOUTH_CHANNELS if c != JAW)


def lip_gap_mm(values: dict) -> "float | object":
    """The built-in head's inner-lip gap (mm, negative = pressed) predicted from channel values
    (scalars or arrays [T]) by the linear model LIP_GAP_MM."""
    return sum(coefficient * values[name] for name, coefficient in LIP_GAP_MM.items() if name in values)
