"""The corpus recipe: one config dataclass per part, unknown keys are errors.

The resolved config is saved as `config.json` in the corpus folder; a later
run into the same folder must ask for the same corpus (it resumes) or is
refused, so shards of two recipes never mix.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ...errors import InputError

SYNTHESIZERS = ("espeak", "festival")
CONFIG_FILE = "config.json"
ESPEAK_VOICES = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-us-nyc", "en-029",
                 "en-gb-x-gbclan", "en-gb-x-gbcwmd")
ESPEAK_VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt2", "klatt3", "klatt4", "adam", "anika", "belinda", "steph",
                   "linda", "robert", "iven", "Alicia", "Andy", "Annie", "Michael", "john", "quincy")


@dataclass(frozen=True)
class AugmentationConfig:
    """How often each augmentation is applied (p_*) and the ranges its parameters are drawn from."""

    p_speed: float = 0.3                          # chance of a resampling speed change (pitch + tempo)
    speed_range: tuple = (0.94, 1.06)             # speed factor, about +-1 semitone
    p_tempo: float = 0.3                          # chance of a tempo change (pitch kept)
    tempo_range: tuple = (0.85, 1.2)              # tempo factor (> 1 faster)
    p_eq: float = 0.5                             # chance of a three-band EQ
    eq_db: float = 8.0                            # each band's gain is drawn from [-eq_db, eq_db]
    p_reverb: float = 0.3                         # chance of reverberation
    rt60_range: tuple = (0.15, 0.8)               # reverberation time, seconds
    wet_range: tuple = (0.1, 0.5)                 # reverberant share of the mix
    p_noise: float = 0.5                          # chance of added noise
    snr_range: tuple = (5.0, 35.0)                # speech-to-noise ratio, dB
    color_range: tuple = (0.0, 2.0)               # noise colour: 0 white .. 2 brown
    p_clip: float = 0.1                           # chance of hard clipping
    drive_range: tuple = (3.0, 15.0)              # gain into the clipper, dB
    level_range: tuple = (-30.0, -1.0)            # final peak level, dB full scale (always applied)


@dataclass(frozen=True)
class CorpusConfig:
    """What corpus to make; everything that changes the shards' content is here."""

    minutes: float = 3.0                          # total minutes of speech audio to generate
    shard_seconds: float = 30.0                   # audio per shard file (the unit of work and of resuming)
    fps: float = 30.0                             # frame rate of the target motion
    seed: int = 0                                 # seeds texts, voices, styles, augmentations per shard
    synthesizer: str = "espeak"                   # "espeak" (training) or "festival" (held-out voice)
    voices: tuple = ESPEAK_VOICES                 # espeak-ng voice names drawn from
    variants: tuple = ESPEAK_VARIANTS             # espeak-ng variants drawn from ("" = the voice's own)
    rate_range: tuple = (130, 230)                # espeak words per minute
    pitch_range: tuple = (25, 75)                 # espeak base pitch, 0..100
    intonation_range: tuple = (25, 85)            # espeak pitch range (intonation), 0..100
    stretch_range: tuple = (0.85, 1.2)            # festival duration stretch (> 1 slower)
    f0_range: tuple = (85.0, 140.0)               # festival mean pitch, Hz
    festival_voices: tuple = ("kal_diphone",)     # festival voices drawn from (kal_diphone is the held-out one)
    sentences_per_clip: tuple = (1, 3)            # sentences spoken in one clip (inclusive)
    pad_range: tuple = (0.05, 0.6)                # silence added before and after each clip, seconds
    style_spread: float = 1.0                     # spread of the speaking styles (0 = all neutral)
    augmentation: AugmentationConfig = field(default_factory=AugmentationConfig)

    def __post_init__(self) -> None:
        _check_config(self)

    def to_dict(self) -> dict:
        """A JSON-ready dict (tuples as lists)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, values: dict) -> "CorpusConfig":
        """A config from a dict such as `to_dict` writes; unknown keys are an InputError."""
        values = dict(values)
        augmentation = _known(AugmentationConfig, values.pop("augmentation", {}), "augmentation ")
        return cls(**_known(cls, values, ""), augmentation=AugmentationConfig(**augmentation))


def _known(cls, values: dict, where: str) -> dict:
    """`values` with lists as tuples; InputError naming the first unknown key."""
    if not isinstance(values, dict):
        raise InputError(f"The corpus {where}config must be a mapping of names to values.")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InputError(f"Unknown corpus {where}setting '{unknown[0]}'; known: {', '.join(sorted(names))}.")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def _check_config(config: CorpusConfig) -> None:
    if config.synthesizer not in SYNTHESIZERS:
        raise InputError(f"Unknown synthesizer '{config.synthesizer}'; use 'espeak' or 'festival'.")
    for name in ("minutes", "shard_seconds", "fps"):
        value = getattr(config, name)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InputError(f"The corpus setting '{name}' must be a positive number, not {value!r}.")
    if not config.voices or not config.variants:
        raise InputError("The corpus needs at least one voice and one variant ('' is the voice's own).")
    from ...evaluation.festival import FESTIVAL_VOICES
    unknown = [v for v in config.festival_voices if v not in FESTIVAL_VOICES]
    if not config.festival_voices or unknown:
        raise InputError(f"The festival voices must be some of {', '.join(FESTIVAL_VOICES)}, "
                         f"not {list(config.festival_voices)}.")
    if config.style_spread < 0:
        raise InputError(f"The style spread must be 0 or more, not {config.style_spread}.")
    for holder in (config, config.augmentation):
        for f in fields(holder):
            value = getattr(holder, f.name)
            if f.name.endswith("_range") or f.name == "sentences_per_clip":
                _check_range(f.name, value)
            elif f.name.startswith("p_") and not 0.0 <= value <= 1.0:
                raise InputError(f"The probability '{f.name}' must be between 0 and 1, not {value}.")


def _check_range(name: str, value) -> None:
    if not (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
            and value[0] <= value[1]):
        raise InputError(f"The corpus setting '{name}' must be a [low, high] pair with low <= high, not {value!r}.")


def save_or_check_config(config: CorpusConfig, folder: Path) -> None:
    """Write `config.json` into a new corpus folder, or refuse (InputError) when the folder
    already holds a corpus made with a different config."""
    path = Path(folder) / CONFIG_FILE
    if path.exists():
        saved = read_config(folder)
        if saved != config:
            changed = sorted(k for k, v in config.to_dict().items() if saved.to_dict().get(k) != v)
            raise InputError(f"'{folder}' holds a corpus made with other settings ({', '.join(changed)}); "
                             "use a new folder or the same settings.")
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    tmp.replace(path)


def read_config(folder: Path) -> CorpusConfig:
    """The config saved in a corpus folder; InputError when it is missing or unreadable."""
    path = Path(folder) / CONFIG_FILE
    try:
        return CorpusConfig.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise InputError(f"'{folder}' is not a corpus folder (it has no {CONFIG_FILE}).") from None
    except (json.JSONDecodeError, TypeError) as error:
        raise InputError(f"The corpus config '{path}' is unreadable ({error}); "
                         "delete the folder and rebuild.") from None
