"""The lines of a batch: a folder of audio files, or a CSV manifest, read one line at a time.

A manifest is a CSV file with a header row. Its columns (only `audio` is required; an empty cell takes
the batch's default):

    audio       the voice file, absolute or relative to the manifest's folder
    id          the line's name, used for its output folder (default: the audio file's stem)
    transcript  the words spoken (text, or a .txt file beside the manifest); the phonetic driver aligns them
    style       style items separated by ';' or spaces: a preset and/or NAME=VALUE ("happy; smile=0.8")
    fps         frame rate of the clip
    formats     outputs separated by ';' ',' or spaces: npz json csv (ARKit) frames video
    look        an NLDF look to render (frames and video need one)
    driver      phonetic, adf or energy
    seed        seed of blinks, gaze and sway

An unknown column is an error (a typo never silently becomes a default). Lines are yielded as they
are read, so a manifest of any length takes the memory of one line; ids are made unique (`_2`, ...).
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterator, Optional

from ..audio.load import AUDIO_SUFFIXES
from ..errors import InputError

FORMATS = ("npz", "json", "csv", "frames", "video")
COLUMNS = ("audio", "id", "transcript", "style", "fps", "formats", "look", "driver", "seed")
ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_ID_CHARS = 120
MAX_FIELD_CHARS = 100_000   # a transcript cell longer than this is not a line of dialogue


@dataclass(frozen=True)
class BatchLine:
    """One dialogue line to animate: its voice, the style to speak it in, and what to write."""

    id: str                           # output folder name (letters, digits, . _ -)
    audio: str                        # absolute path of the voice file
    fps: float = 30.0
    formats: tuple = ("npz",)         # of FORMATS
    transcript: Optional[str] = None  # the words spoken, when known
    style: tuple = ()                 # style items: preset names and NAME=VALUE (`engine.style.from_items`)
    look: Optional[str] = None        # NLDF look for frames / video
    driver: Optional[str] = None      # None: the engine's default for the line
    seed: int = 0
    size: int = 256                   # rendered frame width and height
    row: int = 0                      # 1-based position in the manifest (the summary's order)
    problem: Optional[str] = None     # why the manifest's row cannot be done (the line fails with it)

    def to_json(self) -> dict:
        """The line as plain JSON values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, values: dict) -> "BatchLine":
        """The line `to_json` wrote."""
        fields = dict(values)
        fields["formats"], fields["style"] = tuple(fields["formats"]), tuple(fields["style"])
        return cls(**fields)


def read_lines(source, defaults: BatchLine) -> Iterator[BatchLine]:
    """The lines of `source` (a folder of audio files, sorted by name, or a CSV manifest), one at a time;
    each takes `defaults` (its `id` and `audio` unused) where the manifest says nothing. InputError with
    one sentence for a source that cannot be read or a malformed cell (naming its row)."""
    source = Path(source)
    rows = _folder_rows(source) if source.is_dir() else _manifest_rows(source)
    seen: set = set()
    for number, (cells, folder) in enumerate(rows, start=1):
        try:
            line = _line(cells, folder, defaults, number)
        except InputError as error:  # one bad row fails alone
            audio = next((str(v or "").strip() for k, v in cells.items() if (k or "").strip().lower() == "audio"), "")
            line = replace(defaults, id=_safe_id(Path(audio or f"row{number}").stem), audio=audio, row=number,
                           problem=str(error))
        yield replace(line, id=_unique(line.id, seen))


def count_lines(source) -> int:
    """How many lines `source` holds (read through once, nothing kept)."""
    source = Path(source)
    return sum(1 for _ in (_folder_rows(source) if source.is_dir() else _manifest_rows(source)))


def _folder_rows(folder: Path) -> Iterator[tuple]:
    names = sorted(entry.name for entry in os.scandir(folder)
                   if entry.is_file() and entry.name.lower().endswith(AUDIO_SUFFIXES))
    if not names:
        raise InputError(f"The folder '{folder}' has no audio files ({', '.join(AUDIO_SUFFIXES)}); give a folder "
                         "of voice files or a CSV manifest.")
    for name in names:
        yield {"audio": name}, folder


def _manifest_rows(path: Path) -> Iterator[tuple]:
    if not path.is_file():
        raise InputError(f"The lines '{path}' are neither a folder of audio files nor a CSV manifest that exists.")
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            _check_header(reader.fieldnames, path)
            for cells in reader:
                if any((value or "").strip() for value in cells.values() if isinstance(value, str)):
                    yield cells, path.parent
    except UnicodeDecodeError:
        raise InputError(f"The manifest '{path.name}' is not UTF-8 text; save it as UTF-8 CSV.") from None
    except csv.Error as error:
        raise InputError(f"The manifest '{path.name}' is not a readable CSV file ({error}).") from None


def _check_header(names, path: Path) -> None:
    names = [(n or "").strip().lower() for n in names or ()]
    if "audio" not in names:
        raise InputError(f"The manifest '{path.name}' has no 'audio' column; its first row must name the "
                         f"columns ({', '.join(COLUMNS)}).")
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise InputError(f"The manifest '{path.name}' has an unknown column '{unknown[0][:40]}'; the columns are: "
                         f"{', '.join(COLUMNS)}.")


def _line(cells: dict, folder: Path, defaults: BatchLine, row: int) -> BatchLine:
    """A BatchLine from one manifest row's cells (None keys: cells past the header, ignored)."""
    cells = {(k or "").strip().lower(): (v or "").strip() for k, v in cells.items()
             if k is not None and isinstance(v, str)}
    audio = cells.get("audio", "")
    if not audio:
        raise InputError(f"Row {row} of the manifest has no audio file; fill in its 'audio' cell.")
    path = Path(audio) if Path(audio).is_absolute() else folder / audio
    where = f"row {row} ({Path(audio).name[:60]})"
    return BatchLine(
        id=_safe_id(cells.get("id") or Path(audio).stem), audio=str(path.absolute()), row=row,
        fps=_number(cells.get("fps"), defaults.fps, float, "fps", where),
        formats=_formats(cells.get("formats"), defaults.formats, where),
        transcript=_transcript(cells.get("transcript"), folder, where) or defaults.transcript,
        style=_items(cells.get("style")) or defaults.style, look=cells.get("look") or defaults.look,
        driver=cells.get("driver") or defaults.driver, size=defaults.size,
        seed=_number(cells.get("seed"), defaults.seed, int, "seed", where))


def _items(text: Optional[str]) -> tuple:
    return tuple(item for item in re.split(r"[;\s]+", text or "") if item)


def _formats(text: Optional[str], default: tuple, where: str) -> tuple:
    formats = tuple(f.lower() for f in re.split(r"[;,\s]+", text or "") if f) or tuple(default)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InputError(f"The output format '{unknown[0][:20]}' of {where} is not one of: {', '.join(FORMATS)}.")
    return formats


def _number(text: Optional[str], default, kind, what: str, where: str):
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise InputError(f"The {what} '{text[:20]}' of {where} is not a number.") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"The {what} of {where} must be a finite number, not {text[:20]}.")
    return value


def _transcript(text: Optional[str], folder: Path, where: str) -> Optional[str]:
    """A transcript cell: the words, or the contents of the .txt file it names."""
    if not text:
        return None
    if text.lower().endswith((".txt", ".lab")):
        path = Path(text) if Path(text).is_absolute() else folder / text
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise InputError(f"The transcript file '{path.name}' of {where} cannot be read as UTF-8 text.") from None
    return text or None


def _safe_id(text: str) -> str:
    """`text` as a folder name: runs of other characters become '_', at most MAX_ID_CHARS long."""
    return ID_CHARACTERS.sub("_", text).strip("._")[:MAX_ID_CHARS] or "line"


def _unique(name: str, seen: set) -> str:
    candidate, n = name, 1
    while candidate.lower() in seen:
        n += 1
        candidate = f"{name}_{n}"
    seen.add(candidate.lower())
    return candidate
