"""Training examples for ADF: corpus clips -> (features, targets, style code) and random windows.

Features are the normalised log-mel of engine.audio.features (the runtime
computes exactly the same); targets are the clip's channels resampled to the
network's 50 Hz; the style code comes from the clip's recorded SpeakingStyle;
the phone labels (PHONE_SET indices at 50 Hz) feed the auxiliary phone loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple, Optional, Sequence

import numpy as np

from ...drivers.adf.channels import MODEL_RATE, OUTPUT_CHANNELS, style_code
from ...audio.features import FeatureConfig, features_of, normalize_features
from ...errors import InputError
from ...drivers.phonetic.phones import PHONE_SET, SILENCE, clean_phones
from ...progress import Reporter, silent
from ..corpus import iter_corpus
from .model import STYLE_INPUTS


@dataclass
class Example:
    """One clip ready for training: mel [Tm, M], target [To, C], reference [To, K], style [S],
    phones [To] (PHONE_SET indices).

    A performance (a corpus clip, or perform() on a real voice's aligned phones) teaches every
    channel and the style. A tracked clip (a talking video) teaches only what a tracker sees
    reliably: how the inner-lip gap (jaw and lips together) moves, each frame weighted by its
    tracking confidence (frame_weight [To]); its channels one by one, its head pose and its
    style are not learned."""

    mel: np.ndarray
    target: np.ndarray
    reference: np.ndarray
    style: np.ndarray
    phones: np.ndarray
    weight: float = 1.0       # sampling weight per frame (the corpus's share in the mix)
    tracked: bool = False     # True: a tracked video (jaw + lip gap only, see above)
    frame_weight: Optional[np.ndarray] = None   # [To] in [0, 1]; None: every frame counts fully


class Batch(NamedTuple):
    """Training windows: mel [B, 2W, M], target [B, W, C], reference [B, W, K], style [S],
    mask [B, W] (frame weight: 0 on padding, the tracking confidence on tracked clips, else 1),
    phones [B, W] (-1 = no label), learn [B, C] (1 where a channel's L1 is learned) and
    tracked [B] (1.0 for tracked clips: the lip-gap loss instead of landmarks and style)."""

    mel: np.ndarray
    target: np.ndarray
    reference: np.ndarray
    style: np.ndarray
    mask: np.ndarray
    phones: np.ndarray
    learn: np.ndarray
    tracked: np.ndarray


TRACKED_CHANNELS = ()   # channels a tracked clip's L1 reads: none; its jaw and lips are read as the lip gap


def phone_labels(phones, frames: int) -> np.ndarray:
    """[frames] int64 PHONE_SET index of the phone at each MODEL_RATE frame centre (silence elsewhere);
    all -1 (no label: the phone loss skips them) when `phones` is None."""
    if phones is None:
        return np.full(frames, -1, np.int64)
    index = {label: k for k, label in enumerate(PHONE_SET)}
    out = np.full(frames, index[SILENCE], np.int64)
    for p in clean_phones(phones):
        a, b = int(np.ceil(p.start * MODEL_RATE - 0.5)), int(np.ceil(p.end * MODEL_RATE - 0.5))
        out[max(a, 0):max(min(b, frames), 0)] = index[p.label]
    return out


def channels_of(clip, names: Sequence[str], frames: int) -> np.ndarray:
    """clip values [T, C] at MODEL_RATE for `names` (zeros for channels it lacks), cut/padded to `frames`."""
    clip = clip.resample(MODEL_RATE) if abs(clip.fps - MODEL_RATE) > 1e-9 else clip
    out = np.zeros((frames, len(names)), np.float32)
    column = {n: k for k, n in enumerate(clip.names)}
    T = min(frames, clip.num_frames)
    for k, name in enumerate(names):
        if name in column:
            out[:T, k] = clip.values[:T, column[name]]
    return out


def example_of(audio, target_clip, style, features: FeatureConfig, phones=()) -> Example:
    """An Example from one voice, its target MotionClip, its SpeakingStyle and its phones."""
    mel = normalize_features(features_of(audio, features)).log_mel.astype(np.float32)
    frames = (mel.shape[0] + 1) // 2
    return Example(mel=mel, target=channels_of(target_clip, OUTPUT_CHANNELS, frames),
                   reference=channels_of(target_clip, STYLE_INPUTS, frames), style=style_code(style),
                   phones=phone_labels(phones, frames))


def load_examples(folders: Iterable, features: FeatureConfig, reporter: Optional[Reporter] = None,
                  limit: Optional[int] = None, weights: Sequence[float] = ()) -> list[Example]:
    """Every clip of the corpus folders as Examples (at most `limit`); `weights` (one per folder,
    default 1) scale how often each folder's frames are drawn."""
    reporter = reporter or silent()
    folders = list(folders)
    weights = list(weights) or [1.0] * len(folders)
    if len(weights) != len(folders) or min(weights) <= 0:
        raise InputError(f"Give one positive corpus weight per corpus ({len(folders)}), not {weights}.")
    examples = []
    for folder, weight in zip(folders, weights):
        reporter.stage(f"reading {folder}", 0)
        for clip in iter_corpus(folder):
            examples.append(example_of(clip.audio, clip.target, clip.style, features, clip.phones))
            examples[-1].weight = float(weight)
            reporter.advance(1)
            if limit is not None and len(examples) >= limit:
                return examples
    if not examples:
        raise InputError("The ADF corpora hold no clips; build one with python -m engine.training.corpus.")
    return examples


def learned_channels(example: Example) -> np.ndarray:
    """[C] 1 where the channel L1 reads the example's target: all for a performance, TRACKED_CHANNELS if tracked."""
    if not example.tracked:
        return np.ones(len(OUTPUT_CHANNELS), np.float32)
    return np.array([name in TRACKED_CHANNELS for name in OUTPUT_CHANNELS], np.float32)


def sample_batch(examples: Sequence[Example], batch: int, window_frames: int, rng: np.random.Generator) -> Batch:
    """A random Batch of windows (short clips are zero-padded, their padding masked)."""
    weights = np.array([e.target.shape[0] * e.weight for e in examples], np.float64)
    picks = rng.choice(len(examples), size=batch, p=weights / weights.sum())
    M, C, K = examples[0].mel.shape[1], examples[0].target.shape[1], examples[0].reference.shape[1]
    mel = np.zeros((batch, 2 * window_frames, M), np.float32)
    target = np.zeros((batch, window_frames, C), np.float32)
    reference = np.zeros((batch, window_frames, K), np.float32)
    mask = np.zeros((batch, window_frames), np.float32)
    phones = np.full((batch, window_frames), -1, np.int64)
    for b, k in enumerate(picks):
        e = examples[k]
        start = int(rng.integers(0, max(1, e.target.shape[0] - window_frames + 1)))
        n = min(window_frames, e.target.shape[0] - start)
        target[b, :n], reference[b, :n] = e.target[start:start + n], e.reference[start:start + n]
        mask[b, :n] = 1.0 if e.frame_weight is None else e.frame_weight[start:start + n]
        phones[b, :n] = e.phones[start:start + n]
        m = e.mel[2 * start:2 * start + 2 * n]
        mel[b, :m.shape[0]] = m
    chosen = [examples[k] for k in picks]
    return Batch(mel, target, reference, np.stack([e.style for e in chosen]), mask, phones,
                 np.stack([learned_channels(e) for e in chosen]),
                 np.array([float(e.tracked) for e in chosen], np.float32))


def mask_spectrogram(mel: np.ndarray, rng: np.random.Generator, time_masks: int, freq_masks: int,
                     time_width: int = 10, freq_width: int = 8) -> np.ndarray:
    """SpecAugment-style masking in place: per window, `time_masks` spans of up to `time_width`
    mel frames and `freq_masks` bands of up to `freq_width` mel bins set to the window's mean."""
    B, T, M = mel.shape
    for b in range(B):
        fill = float(mel[b].mean())
        for _ in range(time_masks):
            w = int(rng.integers(0, time_width + 1))
            t = int(rng.integers(0, max(1, T - w)))
            mel[b, t:t + w] = fill
        for _ in range(freq_masks):
            w = int(rng.integers(0, freq_width + 1))
            f = int(rng.integers(0, max(1, M - w)))
            mel[b, :, f:f + w] = fill
    return mel


def warp_frequency(mel: np.ndarray, rng: np.random.Generator, max_warp: float) -> np.ndarray:
    """Vocal-tract-length style warping in place: each window's mel bins are read at bin * a,
    a drawn from [1 - max_warp, 1 + max_warp] (a > 1 sounds like a longer tract, a deeper voice)."""
    B, _, M = mel.shape
    bins = np.arange(M, dtype=np.float64)
    for b in range(B):
        source = np.clip(bins * rng.uniform(1.0 - max_warp, 1.0 + max_warp), 0, M - 1)
        low = np.floor(source).astype(int)
        high, frac = np.minimum(low + 1, M - 1), (source - low).astype(np.float32)
        mel[b] = mel[b][:, low] * (1 - frac) + mel[b][:, high] * frac
    return mel
