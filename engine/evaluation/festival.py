"""Festival as a second synthesizer: kal_diphone is kept for held-out evaluation, other voices
(ked_diphone, cmu_us_slt_arctic_hts) may join a training corpus.

It lives with evaluation (numpy only), which owns the held-out speech; the training corpus
(`engine.training.corpus`) borrows its voices, so training depends on evaluation and never the reverse.

A Scheme script synthesizes one utterance, writes the Segment relation's
phone names and end times (festival's own timings) to stdout and saves the
wave. The voices speak the "radio" phone set, mapped here to ARPAbet.
Diphone voices are concatenated recordings of a real speaker, so they bring
a human voice's spectrum that espeak's formant synthesis lacks.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..audio.load import ANALYSIS_RATE, Audio, load_audio
from ..errors import EngineError, InputError
from ..drivers.phonetic.phones import ARPABET, SILENCE, Phone, clean_phones
from .sentences import SentenceGenerator

FESTIVAL_TO_ARPABET = {
    "ax": "AH", "axr": "ER", "dx": "D", "el": "L", "em": "M", "en": "N", "hv": "HH", "nx": "N",
    "pau": SILENCE, "h#": SILENCE, "brth": SILENCE,
    **{p.lower(): p for p in ARPABET},
}
DEFAULT_STRETCH = 1.1        # kal_diphone's own Duration_Stretch
DEFAULT_F0_MEAN = 105.0      # kal_diphone's own target_f0_mean (Hz)
F0_STD_RATIO = 14.0 / 105.0  # kal_diphone's target_f0_std relative to its mean
STRETCH_LIMITS = (0.5, 2.0)
F0_LIMITS = (50.0, 300.0)
TIMEOUT_SECONDS = 60
HELDOUT_VOICE = "kal_diphone"
VOICE_PACKAGES = {  # festival voice -> the Debian package that installs it
    "kal_diphone": "festvox-kallpc16k",        # US English male (held out)
    "ked_diphone": "festvox-kdlpc16k",         # US English male
    "cmu_us_slt_arctic_hts": "festvox-us-slt-hts",  # US English female (HTS)
}
FESTIVAL_VOICES = tuple(VOICE_PACKAGES)
HELDOUT_STREAM = 7_000_001   # seeds the held-out sentences apart from any corpus shard
HELDOUT_SENTENCES = (1, 3)

SCRIPT = """(voice_{voice})
(Parameter.set 'Duration_Stretch {stretch})
(set! int_lr_params '((target_f0_mean {f0}) (target_f0_std {f0_std}) (model_f0_mean 170) (model_f0_std 34)))
(set! utt (Utterance Text "{text}"))
(utt.synth utt)
(utt.save.wave utt "{wave}" 'riff)
(mapcar (lambda (seg) (format t "%s %f\\n" (item.name seg) (item.feat seg "end")))
        (utt.relation.items utt 'Segment))
"""


def festival_label(name: str) -> str:
    """The ARPAbet label (or SIL) of one radio phone name; EngineError for an unknown name."""
    try:
        return FESTIVAL_TO_ARPABET[name.lower()]
    except KeyError:
        raise EngineError(f"Festival's phone '{name}' has no ARPAbet mapping; use one of {', '.join(FESTIVAL_VOICES)}.") from None


def synthesize_festival(text: str, stretch: float = 1.0, f0_mean: float = DEFAULT_F0_MEAN,
                        target_rate: int = ANALYSIS_RATE, voice: str = HELDOUT_VOICE) -> tuple[Audio, list[Phone]]:
    """Speech for `text` from festival and its phones with festival's own segment timings.

    `stretch` scales the voice's durations (1 = its own tempo, 1.2 = slower),
    `f0_mean` is the target mean pitch in Hz. Returns Audio (samples [N]
    float32 at `target_rate`) and phones covering [0, N / target_rate]. `voice` is one of
    FESTIVAL_VOICES (pitch and stretch are honoured by the diphone voices).
    """
    audio, segments = festival_utterance(text, stretch, f0_mean, target_rate, voice)
    return audio, phones_from_segments(segments, audio.duration)


def festival_utterance(text: str, stretch: float = 1.0, f0_mean: float = DEFAULT_F0_MEAN,
                       target_rate: int = ANALYSIS_RATE, voice: str = HELDOUT_VOICE) -> tuple[Audio, list[tuple[str, float]]]:
    """Festival's raw output: Audio [N] at `target_rate` and its Segment relation as
    (radio phone name, end seconds) pairs. Arguments as `synthesize_festival`."""
    _check_inputs(text, stretch, f0_mean)
    if voice not in VOICE_PACKAGES:
        raise InputError(f"Unknown festival voice '{voice}'; use one of {', '.join(FESTIVAL_VOICES)}.")
    with tempfile.TemporaryDirectory(prefix="festival-") as folder:
        wave, script = Path(folder) / "utt.wav", Path(folder) / "utt.scm"
        script.write_text(SCRIPT.format(voice=voice, stretch=DEFAULT_STRETCH * stretch, f0=f0_mean,
                                        f0_std=F0_STD_RATIO * f0_mean, text=_scheme_string(text), wave=wave))
        segments = _run_festival(script, voice)
        audio = load_audio(wave, rate=target_rate)
    return Audio(audio.samples, target_rate, f"festival:{voice}"), segments


def phones_from_segments(segments, duration: float) -> list[Phone]:
    """Phones from festival (name, end seconds) segments; a segment starts where the one before
    ends, a final stretch up to `duration` is silence."""
    phones, start = [], 0.0
    for name, end in segments:
        phones.append(Phone(festival_label(name), start, max(start, end)))
        start = max(start, end)
    if duration > start:
        phones.append(Phone(SILENCE, start, duration))
    return clean_phones(phones)


def heldout_festival_clips(n: int, seed: int = 0) -> list[tuple[Audio, list[Phone], str]]:
    """`n` festival clips (Audio, phones, text) for held-out evaluation, from sentences of the
    corpus generator seeded apart from any corpus shard."""
    draw_seed, text_seed = np.random.SeedSequence([seed, HELDOUT_STREAM]).spawn(2)
    rng, sentences = np.random.default_rng(draw_seed), SentenceGenerator(text_seed)
    clips = []
    for _ in range(n):
        text = " ".join(sentences.sentences(int(rng.integers(HELDOUT_SENTENCES[0], HELDOUT_SENTENCES[1] + 1))))
        audio, phones = synthesize_festival(text, stretch=float(rng.uniform(0.9, 1.15)),
                                            f0_mean=float(rng.uniform(90.0, 130.0)))
        clips.append((audio, phones, text))
    return clips


def _run_festival(script: Path, voice: str = HELDOUT_VOICE) -> list[tuple[str, float]]:
    """(name, end seconds) of every segment festival printed for the script."""
    if shutil.which("festival") is None:
        raise EngineError("Festival is not installed; install it with 'apt-get install festival festvox-kallpc16k'.")
    try:
        result = subprocess.run(["festival", "-b", str(script)], capture_output=True, text=True,
                                timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise EngineError(f"Festival took longer than {TIMEOUT_SECONDS} s for one utterance; "
                          "give it shorter text.") from None
    segments = []
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            segments.append((parts[0], float(parts[1])))
    if f"voice_{voice}" in result.stderr and "unbound variable" in result.stderr:
        raise EngineError(f"The festival voice '{voice}' is not installed; install it with "
                          f"'apt-get install {VOICE_PACKAGES[voice]}'.")
    if result.returncode != 0 or not segments:
        raise EngineError(f"Festival failed to synthesize ({result.stderr.strip()[:120] or 'no segments'}).")
    return segments


def _scheme_string(text: str) -> str:
    """Text safe inside a Scheme string literal."""
    return " ".join(text.replace("\\", " ").replace('"', "'").split())


def _check_inputs(text: str, stretch: float, f0_mean: float) -> None:
    if not text.strip():
        raise InputError("The text to synthesize is empty; give at least one word.")
    low, high = STRETCH_LIMITS
    if not low <= stretch <= high:
        raise InputError(f"The festival stretch must be between {low} and {high}, not {stretch}.")
    if not F0_LIMITS[0] <= f0_mean <= F0_LIMITS[1]:
        raise InputError(f"The festival pitch must be between {F0_LIMITS[0]} and {F0_LIMITS[1]} Hz, not {f0_mean}.")
