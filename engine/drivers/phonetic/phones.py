"""Phones: the unit every speech component speaks in.

A `Phone` is one ARPAbet phone (CMU dictionary set, stress digits removed)
or "SIL" for silence, with its start and end time in seconds. Recognition
(pocketsphinx), the synthesizers of the training corpus (espeak-ng,
festival) and the coarticulation model all exchange `list[Phone]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

SILENCE = "SIL"
VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
CONSONANTS = ("B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R",
              "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH")
ARPABET = VOWELS + CONSONANTS
PHONE_SET = ARPABET + (SILENCE,)
BILABIALS = ("P", "B", "M")
LABIODENTALS = ("F", "V")


@dataclass(frozen=True)
class Phone:
    """One phone: an ARPAbet label (or "SIL") from `start` to `end` seconds."""

    label: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def normalize_label(label: str) -> str:
    """An ARPAbet label as PHONE_SET spells it: upper case, stress digit dropped;
    fillers and unknown labels ("+NSN+", "sil", "pau", "") become SILENCE."""
    core = label.strip().upper().rstrip("012")
    return core if core in ARPABET else SILENCE


def clean_phones(phones: Iterable[Phone], min_duration: float = 1e-3) -> list[Phone]:
    """Phones sorted by start, labels normalised, overlaps trimmed, neighbouring
    silences merged and slivers shorter than `min_duration` dropped."""
    out: list[Phone] = []
    for p in sorted(phones, key=lambda p: p.start):
        label, start = normalize_label(p.label), max(p.start, out[-1].end if out else p.start)
        if p.end - start < min_duration:
            continue
        if out and label == SILENCE and out[-1].label == SILENCE:
            out[-1] = Phone(SILENCE, out[-1].start, p.end)
        else:
            out.append(Phone(label, start, p.end))
    return out


def phone_table(phones: Sequence[Phone]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels [P] str, starts [P] float64 s, ends [P] float64 s): the columns, for storage."""
    labels = np.array([p.label for p in phones], dtype="<U3")
    starts = np.array([p.start for p in phones], dtype=np.float64)
    ends = np.array([p.end for p in phones], dtype=np.float64)
    return labels, starts, ends


def phones_from_table(labels, starts, ends) -> list[Phone]:
    """The inverse of `phone_table`."""
    return [Phone(str(label), float(s), float(e)) for label, s, e in zip(labels, starts, ends)]
