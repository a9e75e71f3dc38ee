"""Spelling for forced alignment: transcript text -> dictionary words, and letter-to-sound
pronunciations (ARPAbet) for words pocketsphinx's dictionary does not have.

Rules, not a trained model: a few dozen grapheme rules (silent e, soft c/g, doubled
consonants, kn/wr at a word's start) are enough to align an unknown name or word roughly,
which is all the lip sync needs from it.
"""

from __future__ import annotations

import re
import unicodedata

NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                "fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
VOWEL_LETTERS = "aeiouy"
# (graphemes, ARPAbet), longest first: the first that matches at a position wins.
LETTER_RULES = (
    ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ough", "AO"), ("augh", "AO"), ("eigh", "EY"),
    ("tch", "CH"), ("dge", "JH"), ("igh", "AY"), ("sch", "S K"),
    ("ch", "CH"), ("sh", "SH"), ("th", "TH"), ("ph", "F"), ("wh", "W"), ("ck", "K"), ("ng", "NG"),
    ("qu", "K W"), ("gh", ""), ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"),
    ("oi", "OY"), ("oy", "OY"), ("ai", "EY"), ("ay", "EY"), ("au", "AO"), ("aw", "AO"), ("ei", "EY"),
    ("ey", "IY"), ("ie", "IY"), ("oa", "OW"), ("ue", "UW"), ("ew", "UW"),
    ("ar", "AA R"), ("or", "AO R"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"),
    ("a", "AE"), ("e", "EH"), ("i", "IH"), ("o", "AA"), ("u", "AH"), ("y", "IY"),
    ("b", "B"), ("c", "K"), ("d", "D"), ("f", "F"), ("g", "G"), ("h", "HH"), ("j", "JH"), ("k", "K"),
    ("l", "L"), ("m", "M"), ("n", "N"), ("p", "P"), ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"),
    ("v", "V"), ("w", "W"), ("x", "K S"), ("z", "Z"),
)
WORD_START_RULES = {"kn": "N", "wr": "R", "y": "Y"}
SOFT_CONSONANTS = {"c": "S", "g": "JH"}      # before e, i, y
LONG_VOWELS = {"a": "EY", "e": "IY", "i": "AY", "o": "OW", "u": "UW", "y": "AY"}  # before consonant + silent e


def transcript_words(text: str) -> list[str]:
    """Words of a transcript as the dictionary spells them: lower case, accents and punctuation
    dropped (apostrophes inside words kept), numbers spelled out ("It's 42!" -> it's forty two)."""
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    words = []
    for token in re.findall(r"[a-z]+(?:'[a-z]+)*|[0-9]+", plain):
        words += number_words(token) if token.isdigit() else [token]
    return words


def number_words(digits: str) -> list[str]:
    """"7" -> [seven], "42" -> [forty, two]; longer numbers digit by digit ("2024" -> two zero two four)."""
    if len(digits) > 2 or (len(digits) == 2 and digits[0] == "0"):
        return [NUMBER_WORDS[int(d)] for d in digits]
    n = int(digits)
    if n < len(NUMBER_WORDS):
        return [NUMBER_WORDS[n]]
    return [TENS_WORDS[n // 10 - 2]] + ([NUMBER_WORDS[n % 10]] if n % 10 else [])


def letter_to_sound(word: str) -> str:
    """A rule-based ARPAbet guess for an English word, space-separated ("blorptastic" ->
    "B L AO R P T AE S T IH K"); for words the pronouncing dictionary lacks."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    silent_e = len(letters) > 2 and letters.endswith("e") and letters[-2] not in VOWEL_LETTERS
    phones, i = [], 0
    while i < len(letters):
        graphemes, sound = grapheme_at(letters, i, silent_e)
        phones += [p for p in sound.split() if not phones or p != phones[-1]]
        i += len(graphemes)
    return " ".join(phones) or "AH"


def grapheme_at(letters: str, i: int, silent_e: bool) -> tuple[str, str]:
    """The graphemes starting at letters[i] and their phones (possibly none)."""
    letter, after = letters[i], letters[i + 1:i + 2]
    if silent_e and i == len(letters) - 1:
        return letter, ""
    for start, sound in WORD_START_RULES.items():
        if i == 0 and letters.startswith(start):
            return start, sound
    if i > 0 and letter == letters[i - 1] and letter not in VOWEL_LETTERS:
        return letter, ""  # a doubled consonant sounds once
    if letter in SOFT_CONSONANTS and after and after in "eiy":
        return letter, SOFT_CONSONANTS[letter]
    closed_by_e = silent_e and i == len(letters) - 3 and after not in VOWEL_LETTERS
    if closed_by_e and letter in LONG_VOWELS and (i == 0 or letters[i - 1] not in VOWEL_LETTERS):
        return letter, LONG_VOWELS[letter]
    return next((g, sound) for g, sound in LETTER_RULES if letters.startswith(g, i))
