"""espeak-ng phoneme mnemonics (English tables) -> ARPAbet.

Covers every phoneme the English tables of espeak-ng 1.51 define (en, en-us,
en-us-nyc, en-rp, en-sc, en-n, en-wm, en-wi) and the base consonants they
inherit. Labels follow the CMU dictionary (American) so a British "lot" is
AA like the dictionary says; r-coloured diphthongs split into two phones
("A@" = AA R), as CMU spells them. A mnemonic mapped to no phones (the
linking glide ";") lengthens the phone before it.
"""

from __future__ import annotations

from ...errors import EngineError

PAUSE_PREFIX = "_"

ESPEAK_VOWELS = {
    "@": ("AH",), "@-": ("AH",), "@2": ("AH",), "@5": ("AH",), "@#": ("AH",), "@L": ("AH", "L"),
    "3": ("ER",), "3:": ("ER",),
    "a": ("AE",), "a/": ("AE",), "aa": ("AE",), "a#": ("AH",), "a2": ("AH",), "a#2": ("AH",),
    "A:": ("AA",), "A#": ("AA",), "A~": ("AA",), "A@": ("AA", "R"),
    "E": ("EH",), "E#": ("EH",), "E2": ("EH",), "e": ("EH",), "e#": ("EH",), "e:": ("EY",),
    "eI": ("EY",), "e@": ("EH", "R"),
    "I": ("IH",), "I#": ("IH",), "I2": ("IH",), "I2#": ("IH",), "IR": ("IH", "R"),
    "i": ("IY",), "i:": ("IY",), "i@": ("IY", "AH"), "i@3": ("IY", "R"),
    "0": ("AA",), "0#": ("AA",), "02": ("AA",),
    "O": ("AO",), "O:": ("AO",), "O2": ("AO",), "O~": ("AO",), "O@": ("AO", "R"), "o@": ("AO", "R"),
    "o": ("OW",), "o:": ("OW",), "oU": ("OW",), "oU#": ("OW",), "OI": ("OY",),
    "U": ("UH",), "U@": ("UH", "R"), "u": ("UW",), "u:": ("UW",),
    "V": ("AH",), "VR": ("AH", "R"),
    "aU": ("AW",), "aU@": ("AW", "ER"), "aI": ("AY",), "aI2": ("AY",), "aI@": ("AY", "ER"),
    "aI3": ("AY", "ER"),
}

ESPEAK_CONSONANTS = {
    "p": ("P",), "b": ("B",), "t": ("T",), "t#": ("T",), "t2": ("T",), "t[": ("T",), "?": ("T",),
    "d": ("D",), "d#": ("D",), "d[": ("D",), "*": ("D",), "k": ("K",), "c": ("K",), "q": ("K",),
    "g": ("G",), "Q": ("G",), "Q^": ("G",), 'Q"': ("G",),
    "f": ("F",), "v": ("V",), "v#": ("V",), "B": ("B",), "T": ("TH",), "D": ("DH",),
    "s": ("S",), "s.": ("S",), "s;": ("S",), "z": ("Z",), "z.": ("Z",), "z;": ("Z",), "z#": ("Z",),
    "z/2": ("Z",), "S": ("SH",), "S;": ("SH",), "Z": ("ZH",), "Z;": ("ZH",),
    "tS": ("CH",), "tS;": ("CH",), "dZ": ("JH",), "dZ;": ("JH",), "J": ("JH",),
    "h": ("HH",), "x": ("HH",), "X": ("HH",), "C": ("HH",), "#X1": ("HH",),
    "m": ("M",), "m-": ("M",), "n": ("N",), "n-": ("N",), "n.": ("N",), "n^": ("N",),
    "N": ("NG",), "N-": ("NG",),
    "l": ("L",), "l-": ("L",), "l/": ("L",), "l/2": ("L",), "l/3": ("L",), "l^": ("L",), "l.": ("L",),
    "l#": ("L",), "L": ("L",), "L/": ("L",),
    "r": ("R",), "r-": ("R",), "r/": ("R",), "r.": ("R",), "R": ("R",), "R2": ("R",), "R3": ("R",),
    'r"': ("R",), "**": ("R",),
    "j": ("Y",), "J^": ("Y",), "w": ("W",), "w#": ("W",),
    ";": (),
}

ESPEAK_TO_ARPABET = {**ESPEAK_VOWELS, **ESPEAK_CONSONANTS}


def is_pause(mnemonic: str) -> bool:
    """Whether an espeak mnemonic is a pause ("_", "_:", "_!", ...)."""
    return mnemonic.startswith(PAUSE_PREFIX) or mnemonic in ("", "||")


def arpabet_for(mnemonic: str) -> tuple[str, ...]:
    """The ARPAbet phones [0..2] of one espeak mnemonic; ("SIL",) for a pause.

    Raises EngineError for a mnemonic outside the English tables.
    """
    if is_pause(mnemonic):
        return ("SIL",)
    try:
        return ESPEAK_TO_ARPABET[mnemonic]
    except KeyError:
        raise EngineError(f"The espeak-ng phoneme '{mnemonic}' has no ARPAbet mapping; "
                          "add it to ESPEAK_TO_ARPABET or use an English voice.") from None
