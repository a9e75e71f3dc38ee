"""Phone recognition: speech samples -> timed ARPAbet phones, with pocketsphinx.

Without a transcript: all-phone recognition (a phone loop under the phone
trigram model of the pocketsphinx wheel). Long audio is cut at pauses into
chunks that worker processes decode in parallel, one Decoder per worker.
With a transcript: forced alignment of its dictionary pronunciations (words
missing from the dictionary get a letter-to-sound guess); when the alignment
fails, all-phone recognition takes over and the reporter says so.

Audio reaches pocketsphinx as 16 kHz int16 PCM, peak-normalised, padded with PAD_SECONDS of
silence at both ends and dithered. Digital silence (espeak-ng writes it) made the aligner fail
on 18 of 31 test clips, and drags the cepstral mean of long files with pauses so far that right
transcripts score like wrong ones. Dither at -80 / -60 / -50 dBFS: espeak bilabials found by
all-phone 93 / 101 / 127 of 209, phone error rate .63 / .60 / .57 (real speech: 9 / 10 / 10 of
19 bilabials); right transcripts score at worst -38 / -30 / -27 per frame on single clips and
-49 / -43 / -38 on 110 s of espeak clips with pauses. Alignment therefore dithers at -50 dBFS;
all-phone search at about -66 dBFS, because festival speech loses most of its closures at
-50 (see ALL_PHONE_DITHER_RMS).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Optional, Sequence

import numpy as np

from ...audio.load import ANALYSIS_RATE, audio_from_array
from ...children import die_with_parent
from ...errors import InputError, ModelError
from ...progress import Reporter, silent
from .phones import SILENCE, Phone, clean_phones, normalize_label
from .spelling import letter_to_sound, transcript_words

RATE = ANALYSIS_RATE                 # pocketsphinx's en-us model wants 16 kHz
FRAME_RATE = 100                     # pocketsphinx frames per second (10 ms hop)
FRAME_SAMPLES = RATE // FRAME_RATE   # 160
PAD_SECONDS = 0.1                    # silence added at both ends of what the decoder hears
# Gaussian noise added before decoding (digital silence breaks pocketsphinx's search). Alignment
# needs a quiet room's floor, -50 dBFS (3e-4 made 16 of 93 alignments fail); all-phone search is
# hurt by it: closure recall on 10 held-out festival clips (seed 1) / 20 augmented espeak clips,
# by dither: 1e-4 .95/.37, 5e-4 .90/.45, 1e-3 .90/.45, 3e-3 .65/.51.
ALIGN_DITHER_RMS = 3e-3
ALL_PHONE_DITHER_RMS = 5e-4
DITHER_SEED = 0                      # fixed, so a chunk decodes the same on any worker
TARGET_PEAK = 0.9                    # peak after normalisation
MAX_GAIN = 100.0                     # 40 dB: quieter input stays quiet rather than amplifying noise

# All-phone search settings, measured on 31 espeak-ng clips (3 voices x 10 sentences + the
# shipped sample), 9 real clips (test_sentence + 8 ALSA voice prompts) and zozo.wav. Speed: one
# thread, decoding only, 64 s of mixed speech; PER: phone error rate against forced alignment
# of the known text; "bil": its P/B/M with a recognised P/B/M within 50 ms.
#   default (lw 6.5, beam/pbeam 1e-48, topn 4)   27x  PER espeak .66 real .56  bil espeak 56/207 real 1/5
#   lw 2                                          25x  PER .58 / .53            bil 89/207, 2/5
#   lw 1                                          25x  PER .61 / .63            bil 96/207, 4/5
#   lw 1, beam=pbeam 1e-6                         45x  PER .62 / .63            bil 97/207, 4/5
#   lw 1, beam=pbeam 1e-6, topn 2  (chosen)       55x  PER .63 / .60            bil 99/207, 4/5
#   lw 1, beam=pbeam 1e-7, topn 2                 47x  PER .62 / .60            bil 97/207, 4/5
#   lw 1, beam=pbeam 1e-5                         94x  collapses: PER .75 / .71, bil 56/207, 1/5
#   lw 1, ds 2                                    37x  bil 82/207, 1/5 (skipped frames lose stops)
# pip, wip, silprob, fillprob and maxhmmpf changed nothing that mattered; the chosen setting kept
# its accuracy at 20 dB SNR white noise and -26 dB level. recognize_phones end to end (90 s, clips
# with pauses / 72 s of continuous conversation): 50x / 43x on 1 worker, 89x / 74x on 2.
ALLPHONE_SETTINGS = {"lw": 1.0, "beam": 1e-6, "pbeam": 1e-6, "topn": 2}
# Alignment: no language model; no lattice best-path pass, which dropped the last word of 2 of
# 31 clips (0 without it). Wider beams (1e-80) made 20 of 31 fail.
ALIGN_SETTINGS = {"lm": None, "bestpath": False}
# A transcript fits the audio when its aligned speech phones score above this per 10 ms frame
# (pocketsphinx log units, relative to each frame's best senone). Right transcripts: real speech
# -8 to -18 (also 2 min long), espeak clips -17 to -31, 110 s of mixed espeak voices -38. Wrong
# transcripts (3 for each of 36 clips): 79 fail to align, 20 score -40 to -65, 9 score -29 to -40.
MISMATCH_SCORE = -42.0

CHUNK_SECONDS = 10.0                 # longest chunk a worker decodes at a time (15 s: 10% slower)
MIN_PARALLEL_SECONDS = 20.0          # shorter audio decodes in-process (a pool costs ~0.2 s)
SPLIT_REACH = 0.25                   # a cut moves up to this fraction of a chunk to find a pause
PAUSE_SECONDS = 0.2                  # energy is averaged over this long to find pauses
QUIET_DB = 1.0                       # frames this close to the quietest are equally good cuts
SPEECH_BELOW_LOUD_DB = 40.0          # frames quieter than the loud level minus this are silence
SPEECH_FLOOR_DB = -60.0              # ... and never louder than this
TRIM_MARGIN_SECONDS = 0.2            # silence kept around speech at a chunk's ends
ENERGY_BLOCK_FRAMES = 6000          # frames (60 s) of energy computed at a time
ENERGY_FLOOR = 1e-10                 # -100 dB: digital silence
STAGE = "recognising phones"
ALIGN_STAGE = "aligning phones to the transcript"
FALLBACK_MESSAGE = "The transcript does not match the audio; recognising phones without it."
REINSTALL = "reinstall it with 'pip install pocketsphinx==5.1.1'"


def recognize_phones(samples: np.ndarray, rate: int = RATE, transcript: Optional[str] = None,
                     workers: int = 2, reporter: Optional[Reporter] = None) -> list[Phone]:
    """Timed phones of speech samples [N] (or [N, channels]) at `rate` Hz, covering the audio.

    With a `transcript`, its words are force-aligned to the whole audio in one pass on one core
    (~25x real time and ~5 MB of memory per second of audio: fine up to a few minutes); if that
    fails or the words do not fit the sounds, or without one, all-phone recognition runs in
    chunks cut at pauses on `workers` processes. Raises AudioError for empty or non-finite
    samples, ModelError when pocketsphinx's model is missing, InputError for workers < 1.
    """
    reporter = reporter or silent()
    if workers < 1:
        raise InputError(f"workers must be at least 1, not {workers}.")
    speech = audio_from_array(samples, rate, RATE).samples
    gain = level_gain(speech)  # applied chunk by chunk: no scaled copy of a long file
    message = ""
    if transcript and transcript_words(transcript):
        phones = align_transcript(speech, transcript, reporter, gain)
        if phones is not None:
            return phones
        message = FALLBACK_MESSAGE
    return recognize_all_phones(speech, workers, reporter, message, gain)


def level_gain(samples: np.ndarray) -> float:
    """The gain that brings samples [N] to TARGET_PEAK (at most MAX_GAIN): pocketsphinx is
    level-sensitive."""
    peak = max(float(samples.max()), -float(samples.min()))  # no |samples| copy of a long file
    return MAX_GAIN if peak * MAX_GAIN <= TARGET_PEAK else TARGET_PEAK / peak



# ----------------------------------------------------------------------------- the model

def model_paths() -> dict[str, str]:
    """The English model files of the pocketsphinx wheel: {"hmm", "dict", "allphone"} paths."""
    try:
        import pocketsphinx
        root = os.path.join(pocketsphinx.get_model_path(), "en-us")
    except ImportError:
        raise ModelError(f"pocketsphinx is not installed; {REINSTALL}.") from None
    paths = {"hmm": os.path.join(root, "en-us"), "dict": os.path.join(root, "cmudict-en-us.dict"),
             "allphone": os.path.join(root, "en-us-phone.lm.bin")}
    missing = [p for p in paths.values() if not os.path.exists(p)]
    if missing:
        raise ModelError(f"pocketsphinx's English model is missing ({missing[0]}); {REINSTALL}.")
    return paths


def new_decoder(all_phones: bool):
    """A quiet pocketsphinx Decoder: all-phone search, or (False) ready for forced alignment."""
    from pocketsphinx import Decoder

    paths = model_paths()
    options = {"hmm": paths["hmm"], "dict": paths["dict"], "loglevel": "FATAL"}
    options.update({"allphone": paths["allphone"], **ALLPHONE_SETTINGS} if all_phones else ALIGN_SETTINGS)
    try:
        return Decoder(**options)
    except (RuntimeError, ValueError) as error:
        raise ModelError(f"pocketsphinx could not load its English model ({error}); {REINSTALL}.") from None


def to_pcm(samples: np.ndarray, dither: float, gain: float = 1.0) -> bytes:
    """samples [N] float at 16 kHz -> int16 PCM bytes [N + 2 * pad]: scaled by `gain`, padded,
    dithered (noise of RMS `dither`), clipped."""
    pad = np.zeros(round(PAD_SECONDS * RATE), dtype=np.float32)
    padded = np.concatenate([pad, np.multiply(samples, gain, dtype=np.float32), pad])
    padded += np.random.default_rng(DITHER_SEED).normal(0.0, dither, padded.shape).astype(np.float32)
    return (np.clip(padded, -1.0, 1.0) * 32767.0).astype(np.int16).tobytes()


def run_utterance(decoder, pcm: bytes) -> None:
    """Decode `pcm` as one whole utterance."""
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def unpadded(segments, duration: float) -> list[Phone]:
    """(label, start s, end s) on the padded timeline -> Phones on [0, duration], labels normalised."""
    phones = []
    for label, start, end in segments:
        start, end = max(0.0, start - PAD_SECONDS), min(duration, end - PAD_SECONDS)
        if end > start:
            phones.append(Phone(normalize_label(label), start, end))
    return phones


def covering(phones: Sequence[Phone], duration: float) -> list[Phone]:
    """Clean phones with SIL filling every gap, so they cover [0, duration] in order."""
    filled, t = [], 0.0
    for p in clean_phones(phones):
        if p.start > t:
            filled.append(Phone(SILENCE, t, p.start))
        filled.append(p)
        t = p.end
    if duration > t:
        filled.append(Phone(SILENCE, t, duration))
    return clean_phones(filled)


# ----------------------------------------------------------------------------- all-phone

def decode_all_phones(decoder, samples: np.ndarray, gain: float = 1.0) -> list[Phone]:
    """Phones of one chunk samples [N] (16 kHz), in seconds from the chunk's start."""
    decoder.reinit_feat()  # forget the last chunk's cepstral mean: a chunk decodes the same anywhere
    run_utterance(decoder, to_pcm(samples, ALL_PHONE_DITHER_RMS, gain))
    segments = [(s.word, s.start_frame / FRAME_RATE, (s.end_frame + 1) / FRAME_RATE) for s in decoder.seg()]
    return unpadded(segments, len(samples) / RATE)


def recognize_all_phones(samples: np.ndarray, workers: int, reporter: Reporter, message: str = "",
                         gain: float = 1.0) -> list[Phone]:
    """All-phone recognition of samples [N] (16 kHz, heard scaled by `gain`): chunks at pauses
    on `workers` processes."""
    spans = speech_spans(samples, chunk_count(len(samples) / RATE, workers), gain)
    reporter.stage(STAGE, len(spans), message)
    results = decode_chunks([samples[a:b] for a, b in spans], workers, reporter, gain)
    phones = [Phone(p.label, p.start + a / RATE, p.end + a / RATE)
              for (a, _), chunk in zip(spans, results) for p in chunk]
    return covering(phones, len(samples) / RATE)


def chunk_count(duration: float, workers: int) -> int:
    """How many chunks to cut `duration` seconds into: at most CHUNK_SECONDS each, and a
    multiple of `workers` so the workers finish together (1 worker below MIN_PARALLEL_SECONDS)."""
    workers = 1 if duration < MIN_PARALLEL_SECONDS else workers
    return workers * max(1, math.ceil(duration / (CHUNK_SECONDS * workers)))


def frame_energy_db(samples: np.ndarray) -> np.ndarray:
    """Energy [F] in dB (floor -100) of the 10 ms frames of samples [N] at 16 kHz, F = ceil(N / 160)."""
    frames = math.ceil(len(samples) / FRAME_SAMPLES)
    power = np.empty(frames)
    for first in range(0, frames, ENERGY_BLOCK_FRAMES):  # a block at a time: memory stays bounded
        block = samples[first * FRAME_SAMPLES:(first + ENERGY_BLOCK_FRAMES) * FRAME_SAMPLES].astype(np.float64)
        count = math.ceil(len(block) / FRAME_SAMPLES)
        padded = np.zeros(count * FRAME_SAMPLES)
        padded[:len(block)] = block
        power[first:first + count] = np.mean(padded.reshape(count, FRAME_SAMPLES) ** 2, axis=1)
    return 10.0 * np.log10(power + ENERGY_FLOOR)


def split_at_pauses(energy_db: np.ndarray, n_chunks: int) -> np.ndarray:
    """Cut frames [n_chunks + 1], 0 first and F last: each inner cut is the quietest point
    (energy averaged over PAUSE_SECONDS) within SPLIT_REACH of a chunk of its even cut."""
    n_frames = len(energy_db)
    width = round(PAUSE_SECONDS * FRAME_RATE)
    pause = np.convolve(energy_db, np.ones(width) / width, mode="same")
    cuts = [0]
    for k in range(1, n_chunks):
        target, reach = k * n_frames / n_chunks, SPLIT_REACH * n_frames / n_chunks
        high = min(n_frames - 1, int(target + reach))
        low = min(high, max(cuts[-1] + 1, int(target - reach)))
        window = pause[low:high + 1]
        quiet = np.flatnonzero(window <= window.min() + QUIET_DB) + low
        cuts.append(int(quiet[np.argmin(np.abs(quiet - target))]))
    return np.array(cuts + [n_frames])


def speech_spans(samples: np.ndarray, n_chunks: int, gain: float = 1.0) -> list[tuple[int, int]]:
    """Sample ranges (start, stop) of the chunks to decode: cut at pauses, silent ends trimmed
    (keeping TRIM_MARGIN_SECONDS), chunks with no speech at all left out."""
    energy = frame_energy_db(samples) + 20.0 * math.log10(gain)
    threshold = max(SPEECH_FLOOR_DB, float(np.percentile(energy, 95)) - SPEECH_BELOW_LOUD_DB)
    margin = round(TRIM_MARGIN_SECONDS * FRAME_RATE)
    cuts = split_at_pauses(energy, n_chunks)
    spans = []
    for first, last in zip(cuts[:-1], cuts[1:]):
        loud = np.flatnonzero(energy[first:last] > threshold)
        if loud.size:
            start, stop = max(first, first + loud[0] - margin), min(last, first + loud[-1] + 1 + margin)
            spans.append((int(start) * FRAME_SAMPLES, min(len(samples), int(stop) * FRAME_SAMPLES)))
    return spans


def decode_chunks(chunks: list[np.ndarray], workers: int, reporter: Reporter,
                  gain: float = 1.0) -> list[list[Phone]]:
    """Phones of each chunk [N_i] (in its own seconds), in order; one step of progress per chunk."""
    if not chunks:
        return []
    with all_phone_decoder() as decoder:
        if workers > 1 and len(chunks) > 1:
            return decode_in_pool(chunks, workers, reporter, gain)
        results = []
        for chunk in chunks:
            reporter.cancel.check()
            results.append(decode_all_phones(decoder, chunk, gain))
            reporter.advance()
        return results


_decoder = None  # this process's all-phone Decoder (~0.1 s to make), kept for the next job
_decoder_lock = threading.Lock()


@contextmanager
def all_phone_decoder():
    """This process's all-phone Decoder, for one job at a time; dropped if a job breaks off."""
    global _decoder
    model_paths()  # the model may have gone since the decoder was made
    with _decoder_lock:
        try:
            _decoder = _decoder or new_decoder(all_phones=True)
            yield _decoder
        except BaseException:
            _decoder = None  # it may be mid-utterance
            raise


def _start_worker(parent: int) -> None:
    global _decoder
    die_with_parent(parent)  # a worker outliving a killed parent would hold its pipes (and a Ray actor's sockets)
    _decoder = _decoder or new_decoder(all_phones=True)  # made here when spawned, inherited when forked


def _decode_in_worker(samples: np.ndarray, gain: float) -> list[Phone]:
    return decode_all_phones(_decoder, samples, gain)


def worker_context():
    """The multiprocessing context of the recognition workers: fork where the platform has it
    (workers start at once and share the parent's audio pages copy-on-write, and scripts need
    no `if __name__ == "__main__"` guard), else spawn."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


def decode_in_pool(chunks: list[np.ndarray], workers: int, reporter: Reporter,
                   gain: float = 1.0) -> list[list[Phone]]:
    """`decode_chunks` on a pool of `workers` processes (see `worker_context`)."""
    results: list = [None] * len(chunks)
    with ProcessPoolExecutor(min(workers, len(chunks)), mp_context=worker_context(),
                             initializer=_start_worker, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_decode_in_worker, chunk, gain): i for i, chunk in enumerate(chunks)}
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                reporter.advance()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


# ----------------------------------------------------------------------------- alignment

def align_transcript(samples: np.ndarray, transcript: str, reporter: Reporter,
                     gain: float = 1.0) -> Optional[list[Phone]]:
    """Phones of `transcript` force-aligned to samples [N] (16 kHz) in one pass over the whole
    audio, covering it; None when pocketsphinx cannot align them (the text does not match)."""
    words = transcript_words(transcript)
    decoder = new_decoder(all_phones=False)
    add_missing_words(decoder, words)
    pcm, duration = to_pcm(samples, ALIGN_DITHER_RMS, gain), len(samples) / RATE
    reporter.stage(ALIGN_STAGE, 2)
    try:
        decoder.set_align_text(" ".join(words))
        run_utterance(decoder, pcm)
        reporter.advance()
        decoder.set_alignment()
        run_utterance(decoder, pcm)
        alignment = decoder.get_alignment()
    except RuntimeError:
        return None
    if alignment is None or aligned_words(alignment) != words:
        return None  # no alignment, or a partial one that skipped words
    entries = [(p.name, p.start, p.duration, p.score) for word in alignment for p in word]
    speech = [(frames, score) for name, _, frames, score in entries if normalize_label(name) != SILENCE]
    if speech and sum(s for _, s in speech) / sum(f for f, _ in speech) < MISMATCH_SCORE:
        return None  # aligned, but to sounds that are not these words
    reporter.advance()
    segments = [(name, start / FRAME_RATE, (start + frames) / FRAME_RATE) for name, start, frames, _ in entries]
    return covering(unpadded(segments, duration), duration)


def aligned_words(alignment) -> list[str]:
    """The words of a pocketsphinx alignment, fillers ("<sil>", "[NOISE]") dropped, "to(2)" -> "to"."""
    names = (re.sub(r"\(\d+\)$", "", word.name) for word in alignment)
    return [name for name in names if name and name[0] not in "<[+"]


def add_missing_words(decoder, words: Sequence[str]) -> None:
    """Give every word the dictionary lacks a letter-to-sound pronunciation."""
    for word in sorted(set(words)):
        if decoder.lookup_word(word) is None:
            decoder.add_word(word, letter_to_sound(word), True)
