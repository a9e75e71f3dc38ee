"""Corpus clips and the shard files that hold them.

A shard is one `.npz` (np.load(allow_pickle=False) reads it) holding several
clips, each array concatenated over clips with an offsets array [clips + 1]:

    audio [S] int16 at `rate` Hz          audio_offsets
    phone_labels [P], phone_starts [P], phone_ends [P] (seconds)   phone_offsets
    target_values [F, C] float32 at `fps`, target_names [C]         target_offsets
    target_metadata [clips] JSON strings
    style_values [clips, 7], style_names [7]
    augmentation_values [clips, K], augmentation_names [K]
    texts [clips], voices [clips], clip_seconds [clips]

A shard is written to a temporary name and renamed when complete, so a
file named `shard_*.npz` is always whole.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ...audio.load import Audio
from ...errors import InputError
from ...motion import MotionClip
from ...drivers.phonetic.phones import phone_table, phones_from_table
from ...style import RANGES, SpeakingStyle

FORMAT_VERSION = 1
INT16_MAX = 32767
SHARD_PATTERN = "shard_*.npz"
PARTIAL_SUFFIX = ".partial"
STYLE_NAMES = tuple(RANGES)


@dataclass
class CorpusClip:
    """One training example: the (augmented) voice, the synthesizer's phones aligned with it,
    the target performance, and how it was made."""

    audio: Audio              # samples [N] float32 at audio.rate
    phones: list              # list[Phone], seconds, aligned with `audio`
    target: MotionClip        # values [T, C] at target.fps, rendered from the clean timings
    style: SpeakingStyle      # the style the target was performed in
    augmentation: dict        # {name: float}: augmentation and synthesizer settings
    text: str                 # what was said
    voice: str                # synthesizer voice ("en-us+f3", "festival:kal_diphone")


def shard_name(index: int) -> str:
    """The file name of shard `index`."""
    return f"shard_{index:05d}.npz"


def save_shard(clips: Sequence[CorpusClip], path: Path) -> Path:
    """Write clips to `path` atomically (a temporary name, then a rename); returns `path`."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}{PARTIAL_SUFFIX}-{os.getpid()}")
    with open(tmp, "wb") as f:
        np.savez(f, **shard_arrays(clips))
    os.replace(tmp, path)
    return path


def shard_arrays(clips: Sequence[CorpusClip]) -> dict[str, np.ndarray]:
    """The arrays of a shard file (see the module docstring) for `clips`."""
    if not clips:
        raise ValueError("a shard needs at least one clip")
    names, fps, rate = clips[0].target.names, clips[0].target.fps, clips[0].audio.rate
    if any(c.target.names != names or c.target.fps != fps or c.audio.rate != rate for c in clips):
        raise ValueError("all clips of a shard must share target channels, fps and audio rate")
    labels, starts, ends = zip(*(phone_table(c.phones) for c in clips))
    augmentation_names = sorted(clips[0].augmentation)
    return {
        "format_version": np.array(FORMAT_VERSION), "rate": np.array(rate), "fps": np.array(fps),
        "audio": np.concatenate([_to_int16(c.audio.samples) for c in clips]),
        "audio_offsets": _offsets([c.audio.samples.shape[0] for c in clips]),
        "phone_labels": np.concatenate(labels), "phone_starts": np.concatenate(starts),
        "phone_ends": np.concatenate(ends), "phone_offsets": _offsets([len(c.phones) for c in clips]),
        "target_names": np.array(names), "target_values": np.concatenate([c.target.values for c in clips]),
        "target_offsets": _offsets([c.target.num_frames for c in clips]),
        "target_metadata": np.array([json.dumps(c.target.metadata) for c in clips]),
        "style_names": np.array(STYLE_NAMES),
        "style_values": np.array([[c.style.to_dict()[n] for n in STYLE_NAMES] for c in clips]),
        "augmentation_names": np.array(augmentation_names),
        "augmentation_values": np.array([[c.augmentation[n] for n in augmentation_names] for c in clips], float),
        "texts": np.array([c.text for c in clips]), "voices": np.array([c.voice for c in clips]),
        "clip_seconds": np.array([c.audio.duration for c in clips]),
    }


def load_shard(path) -> list[CorpusClip]:
    """The clips of one shard file; InputError when it is missing or not a corpus shard."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as error:
        raise InputError(f"'{path}' is not a readable corpus shard ({error}).") from None
    if int(arrays.get("format_version", -1)) != FORMAT_VERSION:
        raise InputError(f"'{path}' is not a corpus shard of format {FORMAT_VERSION}; rebuild the corpus.")
    return [_clip(arrays, k, str(path)) for k in range(len(arrays["texts"]))]


def shard_seconds(path) -> tuple[int, float]:
    """(clips, seconds of audio) of a shard, read without loading its audio."""
    with np.load(path, allow_pickle=False) as data:
        seconds = data["clip_seconds"]
    return int(seconds.shape[0]), float(seconds.sum())


def shard_paths(folder) -> list[Path]:
    """The finished shard files of a corpus folder, in order (partial files are not among them)."""
    return sorted(Path(folder).glob(SHARD_PATTERN))


def iter_corpus(folder) -> Iterator[CorpusClip]:
    """Every clip of every finished shard in a corpus folder, shard by shard."""
    paths = shard_paths(folder)
    if not paths:
        raise InputError(f"'{folder}' holds no corpus shards; build one with 'python -m engine.training.corpus'.")
    for path in paths:
        yield from load_shard(path)


def _clip(arrays: dict, k: int, source: str) -> CorpusClip:
    """Clip `k` of a shard's arrays."""
    a0, a1 = arrays["audio_offsets"][k:k + 2]
    p0, p1 = arrays["phone_offsets"][k:k + 2]
    t0, t1 = arrays["target_offsets"][k:k + 2]
    audio = Audio(arrays["audio"][a0:a1].astype(np.float32) / INT16_MAX, int(arrays["rate"]), f"{source}#{k}")
    phones = phones_from_table(arrays["phone_labels"][p0:p1], arrays["phone_starts"][p0:p1],
                               arrays["phone_ends"][p0:p1])
    target = MotionClip([str(n) for n in arrays["target_names"]], arrays["target_values"][t0:t1],
                        float(arrays["fps"]), metadata=json.loads(str(arrays["target_metadata"][k])))
    style = SpeakingStyle(**{str(n): float(v) for n, v in zip(arrays["style_names"], arrays["style_values"][k])})
    augmentation = {str(n): float(v) for n, v in zip(arrays["augmentation_names"], arrays["augmentation_values"][k])}
    return CorpusClip(audio, phones, target, style, augmentation, str(arrays["texts"][k]), str(arrays["voices"][k]))


def _to_int16(samples: np.ndarray) -> np.ndarray:
    return np.round(np.clip(samples, -1.0, 1.0) * INT16_MAX).astype(np.int16)


def _offsets(lengths) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
