"""Tiny dialogue batches the batch tests make themselves: cuts of the shipped sample voice and a manifest."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SAMPLE = Path(__file__).resolve().parents[3] / "engine" / "data" / "voices" / "sample_en.wav"


def voice_cuts(folder: Path, seconds=(1.0, 1.2, 0.9), start_s: float = 0.5) -> list:
    """One WAV per length in `seconds` (each at most 9 s), each starting 0.3 s after the one before in the
    10 s sample voice; their paths."""
    import soundfile

    samples, rate = soundfile.read(SAMPLE, dtype="float32")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, length in enumerate(seconds):
        at = int((start_s + 0.3 * k) % (len(samples) / rate - length) * rate)
        paths.append(folder / f"line{k + 1}.wav")
        soundfile.write(paths[-1], samples[at:at + int(length * rate)], rate)
    return paths


def long_voice(path: Path, seconds: float) -> Path:
    """The sample voice repeated to `seconds` (longer than the sample) as one WAV."""
    import soundfile

    samples, rate = soundfile.read(SAMPLE, dtype="float32")
    soundfile.write(path, np.resize(samples, int(seconds * rate)), rate)
    return path


def silent_voice(path: Path, seconds: float = 1.0) -> Path:
    import soundfile

    soundfile.write(path, np.zeros(int(seconds * 16000), np.float32), 16000)
    return path


def write_manifest(path: Path, rows: list, columns=("id", "audio", "style", "fps", "formats", "driver")) -> Path:
    """A CSV manifest of `rows` (dicts; missing cells empty)."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def summary(out: Path) -> list:
    """The rows of OUT/summary.csv, as dicts."""
    with open(out / "summary.csv", newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def leftovers(out: Path) -> list:
    """Half-written files outside OUT/.work (there must never be any)."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")
                  if (p.name.endswith((".part", ".partial.mp4")) or ".partial." in p.name)
                  and ".work" not in p.relative_to(out).parts)
