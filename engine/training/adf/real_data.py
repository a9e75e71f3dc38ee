"""Real speech for ADF training: real voices whose words are known, and tracked talking videos.

- **Known words** (`known_voice_examples`): recordings of ../shared/data/speech whose
  transcripts are known and whose licences allow training (KNOWN_VOICES_TRAINING; the other
  recordings with words, JFK, the pocketsphinx cards and "go forward", stay for evaluation).
  The words are force-aligned (the phonetic driver's aligner), and each recording becomes
  `copies` examples with the corpus's augmentations (speed, tempo, EQ, reverb, noise,
  clipping, level) and a drawn speaking style; the target is perform() on the retimed phones,
  exactly as a corpus clip's, so these teach every channel and the phone labels.
- **Tracked videos** (`tracked_examples`): the (voice, tracked clip, confidence) pairs of
  engine.training.real_pairs. They teach the jaw and the inner-lip gap, each frame weighted by
  its tracking confidence (Example.tracked); what the tracker fits loosely (the split of a
  mouth shape into blendshapes, brows, head pose) is left to the performances.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ...audio import load_audio
from ...audio.load import Audio
from ...audio.features import FeatureConfig
from ...drivers.adf.channels import MODEL_RATE
from ...drivers.phonetic import perform
from ...drivers.phonetic.phones import Phone, clean_phones
from ...errors import InputError
from ...progress import Reporter, silent
from ...style import NEUTRAL
from ..corpus.augment import degrade, retime
from ..corpus.config import AugmentationConfig
from ..corpus.variation import sample_augmentation, sample_style
from .data import example_of

TARGET_FPS = 30.0     # perform() renders targets at the corpus's rate; example_of resamples to MODEL_RATE
SEED_BITS = 2 ** 31
# Recordings with known words that may train a shipped model, and whose speakers are not in the
# known-words evaluation (engine.evaluation.real.known_word_recordings leaves these out).
KNOWN_VOICES_TRAINING = ("librivox", "pyannote_sample.wav")


def known_voice_recordings(speech) -> list:
    """[(Audio, words, start s, end s)] of the training recordings under `speech`: each LibriVox
    reading whole, and each turn of the two-speaker conversation cut by its timed transcript (.stm)."""
    speech = Path(speech)
    if not speech.is_dir():
        raise InputError(f"The known-voices folder '{speech}' does not exist.")
    rows = []
    for txt in sorted((speech / "librivox").glob("*.txt")):
        if txt.with_suffix(".wav").is_file():
            audio = load_audio(txt.with_suffix(".wav"))
            rows.append((audio, txt.read_text(encoding="utf-8").strip(), 0.0, audio.duration))
    stm = speech / "pyannote_sample.stm"
    if stm.is_file() and stm.with_suffix(".wav").is_file():
        audio = load_audio(stm.with_suffix(".wav"))
        for line in stm.read_text(encoding="utf-8").splitlines():
            parts = line.split(maxsplit=5)
            if len(parts) == 6:
                rows.append((audio, parts[5], float(parts[3]), float(parts[4])))
    if not rows:
        raise InputError(f"'{speech}' holds none of the known-word training recordings (librivox/, pyannote_sample).")
    return rows


def cut(audio: Audio, start: float, end: float, pad: float = 0.15) -> Audio:
    """audio between start - pad and end + pad seconds (clamped to the recording)."""
    a, b = max(0, int((start - pad) * audio.rate)), min(audio.samples.size, int((end + pad) * audio.rate))
    return Audio(audio.samples[a:b].copy(), audio.rate, audio.source)


def words_of(text: str) -> str:
    """The words of a transcript line, lower case, without punctuation."""
    kept = "".join(ch.lower() if ch.isalpha() or ch in " '" else " " for ch in text)
    return " ".join(kept.split())


def augmented_examples(audio: Audio, phones: list, features: FeatureConfig, copies: int,
                       rng: np.random.Generator) -> list:
    """`copies` Examples of one aligned recording, each retimed and degraded by a drawn corpus
    augmentation, in a drawn style, its target perform() on the retimed phones."""
    out = []
    for _ in range(copies):
        augmentation = sample_augmentation(rng, AugmentationConfig(), audio.rate)
        voice, timed = retime(audio, phones, augmentation)
        style = sample_style(rng)
        target = perform(timed, voice, TARGET_FPS, style, seed=int(rng.integers(SEED_BITS)))
        out.append(example_of(degrade(voice, augmentation, rng), target, style, features, timed))
    return out


def known_voice_examples(speech, features: FeatureConfig, copies: int, seed: int = 0,
                         reporter: Optional[Reporter] = None) -> list:
    """Examples of every known-word training recording under `speech` (see the module docstring);
    a recording whose words pocketsphinx cannot align to its sound is left out (its phones would be
    a recogniser's guess, not known)."""
    reporter = reporter or silent()
    rows = known_voice_recordings(speech)
    rng = np.random.default_rng(seed)
    examples = []
    reporter.stage("aligning real voices with their words", len(rows))
    for k, (audio, text, start, end) in enumerate(rows):
        piece = cut(audio, start, end)
        phones = aligned_phones(piece, words_of(text))
        if phones is not None:
            examples += augmented_examples(piece, phones, features, copies, rng)
        reporter.update(k + 1)
    return examples


def aligned_phones(audio: Audio, words: str) -> Optional[list]:
    """The phones of `words` force-aligned to `audio`, or None when they do not align."""
    from ...drivers.phonetic.recognize import RATE, align_transcript, audio_from_array, level_gain

    speech = audio_from_array(audio.samples, audio.rate, RATE).samples
    phones = align_transcript(speech, words, silent(), level_gain(speech))
    return None if phones is None else clean_phones([Phone(p.label, p.start, p.end) for p in phones])


def tracked_examples(folders, features: FeatureConfig, reporter: Optional[Reporter] = None) -> list:
    """Examples (tracked=True) of every `<stem>.pair.npz` in `folders` (engine.training.real_pairs):
    the video's voice, its tracked clip as the target, the pair's weight per frame at MODEL_RATE."""
    from ..real_pairs import load_pair

    reporter = reporter or silent()
    paths = [p for folder in folders for p in sorted(Path(folder).glob("*.pair.npz"))]
    if not paths:
        raise InputError(f"The tracked folders {', '.join(map(str, folders))} hold no .pair.npz files; "
                         "make them with python -m engine.training.real_pairs.")
    examples = []
    reporter.stage("reading tracked videos", len(paths))
    for k, path in enumerate(paths):
        pair = load_pair(path)
        example = example_of(pair.audio, pair.clip, NEUTRAL, features, phones=None)
        example.tracked = True
        example.frame_weight = frame_weights(pair.weight, pair.clip.fps, example.target.shape[0])
        examples.append(example)
        reporter.update(k + 1)
    return examples


def frame_weights(weight: np.ndarray, fps: float, frames: int) -> np.ndarray:
    """Per-video-frame weights [T] at `fps` -> [frames] at MODEL_RATE (the video frame shown at each
    model frame's time; 0 past the video's end)."""
    index = np.floor(np.arange(frames) / MODEL_RATE * fps + 1e-6).astype(int)
    out = np.zeros(frames, np.float32)
    inside = index < weight.size
    out[inside] = weight[index[inside]]
    return out
