"""A seeded English sentence generator for the synthetic corpus.

Templates filled from word lists chosen to cover every ARPAbet phone (ZH in
"measure", OY in "voice", UH in "book", ...): statements, questions, lists,
spelled-out numbers, short interjections and long sentences of two clauses.
The same seed gives the same sentences.
"""

from __future__ import annotations

import numpy as np

NAMES = ("Anna", "Joseph", "Charlotte", "Oliver", "Judy", "Thomas", "Zoe", "George", "Ruth", "Hugo",
         "Maya", "Nathan", "Sheila", "Victor", "Yusuf", "Beth", "Owen", "Gloria", "Roy", "Esther")
PRONOUNS = ("she", "he", "they", "we", "you", "I")
ADJECTIVES = ("yellow", "brown", "quiet", "loud", "enormous", "usual", "curious", "heavy", "smooth",
              "tiny", "orange", "beige", "cheerful", "thoughtful", "wooden", "golden", "strange",
              "noisy", "careful", "young", "ancient", "pleasant", "purple", "shiny", "foggy")
NOUNS = ("house", "book", "chair", "garage", "treasure", "voice", "bridge", "cloud", "mountain",
         "kitchen", "jacket", "window", "engine", "flower", "teacher", "judge", "village", "river",
         "picture", "toy", "coin", "ship", "machine", "garden", "puzzle", "cookie", "feather",
         "path", "thing", "song", "door", "bottle", "letter", "measure", "vision", "shoe", "boat",
         "bird", "nurse", "church", "sugar", "wolf", "oyster", "television", "decision", "leisure")
IRREGULAR_PLURALS = {"wolf": "wolves", "shoe": "shoes", "leisure": "leisure", "sugar": "sugar"}
PLACES = ("the harbour", "the old town", "the valley", "the station", "the market", "the forest",
          "the beach", "the museum", "the north", "the village square", "the library", "the zoo")
VERBS = (("find", "found"), ("carry", "carried"), ("push", "pushed"), ("watch", "watched"),
         ("measure", "measured"), ("enjoy", "enjoyed"), ("choose", "chose"), ("bring", "brought"),
         ("throw", "threw"), ("join", "joined"), ("paint", "painted"), ("judge", "judged"),
         ("buy", "bought"), ("hold", "held"), ("cook", "cooked"), ("move", "moved"),
         ("visit", "visited"), ("borrow", "borrowed"), ("fix", "fixed"), ("leave", "left"))
ADVERBS = ("quickly", "slowly", "yesterday", "this morning", "again", "together", "at night",
           "without a sound", "with pleasure", "as usual", "on Thursday", "every month")
INTERJECTIONS = ("Yes.", "Oh, really?", "Thank you.", "Well, maybe.", "No way!", "Good morning.",
                 "Wow!", "Hmm, I wonder.", "Of course.", "Excuse me?", "All right.", "Goodbye.")
CONNECTIVES = ("and", "but", "because", "although", "so", "while", "until")
ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
MAX_NUMBER = 999_999


def number_words(n: int) -> str:
    """An integer 0..999999 spelled out in English words ("four thousand and twelve")."""
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number_words handles 0..{MAX_NUMBER}, not {n}")
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else "-" + ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " and " + number_words(n % 100)
        return ONES[n // 100] + " hundred" + rest
    rest = n % 1000
    tail = "" if rest == 0 else (" and " if rest < 100 else " ") + number_words(rest)
    return number_words(n // 1000) + " thousand" + tail


def plural(noun: str) -> str:
    """The plural of a noun from NOUNS."""
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "sh", "ch", "x", "z")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


class SentenceGenerator:
    """Seeded English sentences: `sentence()` one at a time, `sentences(n)` a list."""

    def __init__(self, seed: int | np.random.SeedSequence = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def sentence(self) -> str:
        """One sentence, its kind drawn at random (statement, question, list, number, ...)."""
        kinds = (self._statement, self._question, self._list, self._number, self._short, self._long)
        weights = np.array([0.25, 0.2, 0.12, 0.13, 0.08, 0.22])
        return kinds[self.rng.choice(len(kinds), p=weights)]()

    def sentences(self, n: int) -> list[str]:
        """`n` sentences."""
        return [self.sentence() for _ in range(n)]

    def _pick(self, words):
        return words[self.rng.integers(len(words))]

    def _noun_phrase(self) -> str:
        article = self._pick(("the", "a", "my", "your", "this", "every"))
        adjective = self._pick(ADJECTIVES) + " " if self.rng.random() < 0.6 else ""
        rest = f"{adjective}{self._pick(NOUNS)}"
        article = "an" if article == "a" and rest[0] in "aeio" else article
        return f"{article} {rest}"

    def _subject(self) -> str:
        return self._pick(NAMES) if self.rng.random() < 0.5 else self._pick(PRONOUNS)

    def _clause(self) -> str:
        past = self._pick(VERBS)[1]
        where = f" near {self._pick(PLACES)}" if self.rng.random() < 0.4 else ""
        when = f" {self._pick(ADVERBS)}" if self.rng.random() < 0.4 else ""
        return f"{self._subject()} {past} {self._noun_phrase()}{where}{when}"

    def _statement(self) -> str:
        return _capitalised(self._clause()) + self._pick((".", ".", "!"))

    def _question(self) -> str:
        verb = self._pick(VERBS)[0]
        forms = (f"did {self._subject()} {verb} {self._noun_phrase()}",
                 f"where is {self._noun_phrase()}",
                 f"why would {self._pick(PRONOUNS)} {verb} {self._noun_phrase()} {self._pick(ADVERBS)}",
                 f"how many {plural(self._pick(NOUNS))} are in {self._pick(PLACES)}",
                 f"could you {verb} {self._noun_phrase()} for {self._pick(NAMES)}")
        return _capitalised(self._pick(forms)) + "?"

    def _list(self) -> str:
        items = [plural(self._pick(NOUNS)) for _ in range(self.rng.integers(3, 6))]
        listed = ", ".join(items[:-1]) + ", and " + items[-1]
        return f"{self._pick(NAMES)} {self._pick(VERBS)[1]} {listed}."

    def _number(self) -> str:
        n = int(self.rng.choice([self.rng.integers(2, 20), self.rng.integers(20, 1000),
                                 self.rng.integers(1000, MAX_NUMBER + 1)]))
        things = plural(self._pick(NOUNS))
        return _capitalised(f"{self._subject()} counted {number_words(n)} {things} in {self._pick(PLACES)}.")

    def _short(self) -> str:
        if self.rng.random() < 0.5:
            return self._pick(INTERJECTIONS)
        return f"{self._pick(('Hello', 'Thanks', 'Listen', 'Look'))}, {self._pick(NAMES)}."

    def _long(self) -> str:
        return _capitalised(f"{self._clause()}, {self._pick(CONNECTIVES)} {self._clause()}") + "."


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
