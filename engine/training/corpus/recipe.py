"""One corpus clip and one shard of clips, from a config and a seed.

The recipe of a clip:
1. draw the voice settings and the text;
2. synthesize: audio and the synthesizer's own phone timings;
3. pad it with silence on both sides;
4. draw the augmentation; apply its timing part (speed, tempo) to the audio
   and, exactly, to the phone times;
5. draw a speaking style and perform the target from the clean timings and
   the clean (retimed) voice;
6. apply the channel part (EQ, reverb, noise, clipping, level) to the audio.
"""

from __future__ import annotations

import numpy as np

from ...audio.load import Audio
from ...drivers.phonetic import perform
from ...drivers.phonetic.phones import SILENCE, Phone, clean_phones
from .augment import degrade, retime
from .config import CorpusConfig
from .shard import CorpusClip
from ...evaluation.sentences import SentenceGenerator
from .variation import VoiceSettings, sample_augmentation, sample_style, sample_voice

SEED_BITS = 2 ** 31


def synthesize(text: str, voice: VoiceSettings, synthesizer: str) -> tuple[Audio, list[Phone]]:
    """Audio [N] at 16 kHz and its phones from the configured synthesizer."""
    if synthesizer == "festival":
        from ...evaluation.festival import synthesize_festival
        return synthesize_festival(text, stretch=voice.stretch, f0_mean=voice.f0_mean,
                                   voice=voice.voice.removeprefix("festival:"))
    from .espeak import synthesize_espeak
    return synthesize_espeak(text, voice.voice, voice.rate, voice.pitch, voice.intonation)


def pad_silence(audio: Audio, phones: list[Phone], before: float, after: float) -> tuple[Audio, list[Phone]]:
    """Audio [N] -> [round(before * rate) + N + round(after * rate)] with silence both sides;
    phones shifted by the leading silence and framed by SIL phones."""
    lead, tail = int(round(before * audio.rate)), int(round(after * audio.rate))
    samples = np.concatenate([np.zeros(lead, np.float32), audio.samples, np.zeros(tail, np.float32)])
    shift, end = lead / audio.rate, samples.shape[0] / audio.rate
    moved = [Phone(p.label, p.start + shift, p.end + shift) for p in phones]
    framed = [Phone(SILENCE, 0.0, shift)] + moved + [Phone(SILENCE, moved[-1].end if moved else shift, end)]
    return Audio(samples, audio.rate, audio.source), clean_phones(framed)


def make_clip(config: CorpusConfig, rng: np.random.Generator, sentences: SentenceGenerator) -> CorpusClip:
    """One clip following the module's recipe; every draw comes from `rng` and `sentences`."""
    voice = sample_voice(rng, config)
    low, high = config.sentences_per_clip
    text = " ".join(sentences.sentences(int(rng.integers(low, high + 1))))
    audio, phones = synthesize(text, voice, config.synthesizer)
    audio, phones = pad_silence(audio, phones, *rng.uniform(*config.pad_range, size=2))
    augmentation = sample_augmentation(rng, config.augmentation, audio.rate)
    audio, phones = retime(audio, phones, augmentation)
    style = sample_style(rng, config.style_spread)
    target = perform(phones, audio, config.fps, style, seed=int(rng.integers(SEED_BITS)))
    heard = degrade(audio, augmentation, rng)
    record = {**augmentation.to_dict(), **voice.to_dict()}
    return CorpusClip(heard, phones, target, style, record, text, voice.voice)


def shard_plan(config: CorpusConfig) -> list[float]:
    """Seconds of audio each shard holds: full shards, then the remainder."""
    total = config.minutes * 60.0
    count = int(np.ceil(total / config.shard_seconds - 1e-9))
    return [min(config.shard_seconds, total - k * config.shard_seconds) for k in range(count)]


def make_shard(config: CorpusConfig, index: int, seconds: float) -> list[CorpusClip]:
    """Clips of shard `index` until they hold about `seconds` of audio (one more clip is made
    while more than half a mean clip is missing, so shards neither overshoot nor fall short on
    average); seeded by (config.seed, index), so a shard is the same whoever makes it, whenever."""
    seeds = np.random.SeedSequence([config.seed, index])
    rng_seed, text_seed = seeds.spawn(2)
    rng, sentences = np.random.default_rng(rng_seed), SentenceGenerator(text_seed)
    clips, made = [], 0.0
    while not clips or seconds - made > made / len(clips) / 2:
        clips.append(make_clip(config, rng, sentences))
        made += clips[-1].audio.duration
    return clips
