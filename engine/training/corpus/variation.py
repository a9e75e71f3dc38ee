"""Seeded draws of what varies between clips: voice settings, speaking style, augmentation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...audio.load import ANALYSIS_RATE
from ...style import NEUTRAL, RANGES, SpeakingStyle
from .augment import Augmentation
from .config import AugmentationConfig, CorpusConfig

# Style draws: (kind, scale at style_spread 1). "log" multiplies the neutral value by
# exp(N(0, scale)); "add" adds N(0, scale). Results are clipped to the style's RANGES.
STYLE_SPREADS = {
    "articulation": ("log", 0.25),
    "smoothness": ("log", 0.3),
    "smile": ("add", 0.35),
    "brow": ("add", 0.3),
    "brow_accent": ("log", 0.45),
    "head_motion": ("log", 0.5),
    "blink_rate": ("log", 0.45),
}


@dataclass(frozen=True)
class VoiceSettings:
    """One clip's synthesizer settings: the espeak voice ("en-us+f3") with rate, pitch and
    intonation, or festival's duration stretch and mean pitch."""

    voice: str
    rate: int = 175
    pitch: int = 50
    intonation: int = 50
    stretch: float = 1.0
    f0_mean: float = 105.0

    def to_dict(self) -> dict[str, float]:
        """The numeric settings, named "synth_*" (the voice name is recorded apart)."""
        return {"synth_rate": float(self.rate), "synth_pitch": float(self.pitch),
                "synth_intonation": float(self.intonation), "synth_stretch": float(self.stretch),
                "synth_f0_mean": float(self.f0_mean)}


def sample_voice(rng: np.random.Generator, config: CorpusConfig) -> VoiceSettings:
    """Voice settings drawn uniformly from the config's lists and ranges."""
    if config.synthesizer == "festival":
        voices = config.festival_voices   # one voice draws nothing, so older corpora stay the same
        name = voices[int(rng.integers(len(voices)))] if len(voices) > 1 else voices[0]
        return VoiceSettings(f"festival:{name}", stretch=_uniform(rng, config.stretch_range),
                             f0_mean=_uniform(rng, config.f0_range))
    voice = config.voices[rng.integers(len(config.voices))]
    variant = config.variants[rng.integers(len(config.variants))]
    return VoiceSettings(f"{voice}+{variant}" if variant else voice,
                         rate=int(rng.integers(config.rate_range[0], config.rate_range[1] + 1)),
                         pitch=int(rng.integers(config.pitch_range[0], config.pitch_range[1] + 1)),
                         intonation=int(rng.integers(config.intonation_range[0], config.intonation_range[1] + 1)))


def sample_style(rng: np.random.Generator, spread: float = 1.0) -> SpeakingStyle:
    """A speaking style around NEUTRAL, each parameter drawn as STYLE_SPREADS says with its
    scale times `spread` (0 gives NEUTRAL) and clipped to its range."""
    neutral = NEUTRAL.to_dict()
    values = {}
    for name, (kind, scale) in STYLE_SPREADS.items():
        step = rng.normal(0.0, scale * spread) if spread > 0 else 0.0
        value = neutral[name] * math.exp(step) if kind == "log" else neutral[name] + step
        values[name] = float(np.clip(value, *RANGES[name]))
    return SpeakingStyle(**values)


def sample_augmentation(rng: np.random.Generator, config: AugmentationConfig,
                        rate: int = ANALYSIS_RATE) -> Augmentation:
    """An Augmentation: each kind applied with its probability, parameters drawn uniformly
    from its range. The speed is rounded so `rate * speed` is a whole number of Hz."""
    chosen = {name: rng.random() < p for name, p in (("speed", config.p_speed), ("tempo", config.p_tempo),
                                                     ("eq", config.p_eq), ("reverb", config.p_reverb),
                                                     ("noise", config.p_noise), ("clip", config.p_clip))}
    values = {"level_db": _uniform(rng, config.level_range)}
    if chosen["speed"]:
        values["speed"] = round(_uniform(rng, config.speed_range) * rate) / rate
    if chosen["tempo"]:
        values["tempo"] = _uniform(rng, config.tempo_range)
    if chosen["eq"]:
        bands = ("eq_low_db", "eq_mid_db", "eq_high_db")
        values.update({k: float(rng.uniform(-config.eq_db, config.eq_db)) for k in bands})
    if chosen["reverb"]:
        values.update(reverb_rt60=_uniform(rng, config.rt60_range), reverb_wet=_uniform(rng, config.wet_range))
    if chosen["noise"]:
        values.update(noise_snr_db=_uniform(rng, config.snr_range), noise_color=_uniform(rng, config.color_range))
    if chosen["clip"]:
        values["clip_drive_db"] = _uniform(rng, config.drive_range)
    return Augmentation(**values)


def _uniform(rng: np.random.Generator, bounds) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))
