"""eval-lipsync on real speech: every driver against people speaking on camera, tracked.

The truth is the talking video itself: the tracker (`engine.video`) fits the
built-in head to each frame, and each driver animates the video's own sound
at the video's frame rate. On the built-in head we compare what a viewer sees:

- the correlation of the posed head's inner-lip gap with the tracked one, at
  lag 0, at each clip's best lag within +-MAX_LAG frames (a driver early or
  late by a few frames is still judged on its shape), and at the one lag that
  is best for the driver over all clips;
- the lip-vertex error (mm) against the tracked fit (only the jaw of the pose
  applies, as in `phonetic.metrics`);
- head-motion statistics (spread and speed of the neck rotation) and blink
  statistics (blinks per minute, mean length) beside the tracked ones.

Frames the tracker bridged (no face seen) are left out of every figure.
Speakers are held out whole: EVAL_VIDEOS names the held-out clips with their
speaker, and none of these speakers is in a row that may train a shipped model.
Where the words are known (the recordings of ../shared/data/speech with
transcripts, no video) each driver's bilabial closure recall is measured
against the forced alignment of the words (`real_closure_clips`).

Tracked takes are cached (`tracked_take`): each video is tracked once.
Nothing here imports torch.

This module runs the evaluation; its parts are modules of their own, and their public names are
importable from here as before: the videos and takes (`takes`), the measures (`measures`), the scores
(`scores`), other languages (`languages`), the JSON and the plot (`real_report`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..motion import MotionClip
from ..progress import Reporter, silent
from .languages import LANGUAGES, language_recordings, language_statistics
from .measures import (BLINK_MIN_S, BLINK_RISE, CYCLE_MM, HEAD_CHANNELS, MAX_LAG, SHUT_MM, SMOOTH_S, SYLLABLE_DB,
                       MotionStats, lagged_correlations, lip_error_mm, loudness, motion_stats, opening_cycles, peaks)
from .real_report import plot_real_openings, write_real_evaluation
from .scores import RealSpeechEvaluation, VideoScore
from .takes import (EVAL_VIDEOS, QUICK_VIDEOS, SILENT_PEAK, TAKE_CACHE, TRAINING_VIDEOS, TrackedVideo,
                    held_out_videos, manifest_videos, real_videos, take_key, tracked_take)

__all__ = ["BLINK_MIN_S", "BLINK_RISE", "CYCLE_MM", "EVAL_VIDEOS", "HEAD_CHANNELS", "LANGUAGES", "MAX_LAG",
           "QUICK_VIDEOS", "SHUT_MM", "SILENT_PEAK", "SMOOTH_S", "SYLLABLE_DB", "TAKE_CACHE", "TRAINING_VIDEOS",
           "MotionStats", "RealSpeechEvaluation", "TrackedVideo", "VideoScore", "evaluate_real_speech",
           "held_out_videos", "known_word_recordings", "lagged_correlations", "language_recordings",
           "language_statistics", "lip_error_mm", "loudness", "manifest_videos", "motion_stats", "opening_cycles",
           "peaks", "plot_real_openings", "real_closure_clips", "real_videos", "take_key", "tracked_take",
           "write_real_evaluation"]


def evaluate_real_speech(videos: Sequence, cache: Path, drivers: Sequence[str] = ("adf", "phonetic", "energy"),
                         known_words: Sequence = (), reporter: Optional[Reporter] = None,
                         models: Optional[dict] = None, lead_ms: Optional[float] = None) -> RealSpeechEvaluation:
    """Score `drivers` on `videos` [(path, speaker)] (tracked once, cached under `cache`), and on
    `known_words` [(Audio, phones, text)] the bilabial closure recall (evaluate_lipsync's), where a
    driver "<name>+transcript" is given the words. Video drivers get no transcript. `models`
    {label: (driver, models folder)} adds drivers under their own label that run a model from a
    folder (e.g. {"adf new": ("adf", "runs/x/model")} beside the shipped "adf"); they are scored
    on the videos only. `lead_ms` is every driver's mouth lead (None: each driver's default)."""
    from ..animate import animate
    from ..audio import load_audio
    from ..head import load_head
    from ..drivers.phonetic.metrics import mouth_opening
    from ..video.errors import VideoError
    from .lipsync import evaluate_lipsync

    reporter = reporter or silent()
    head = load_head()
    models = dict(models or {})
    video_drivers = [d for d in drivers if "+" not in d] + [k for k in models if k not in drivers]
    result = RealSpeechEvaluation(drivers=list(video_drivers))
    reporter.stage("tracking and scoring real talking videos", len(videos))
    for k, (path, speaker) in enumerate(videos):
        audio = load_audio(path)
        if float(np.max(np.abs(audio.samples), initial=0.0)) < SILENT_PEAK:
            result.skipped.append(f"{path.name}: its sound is silent")
            continue
        try:
            take = tracked_take(path, cache, speaker)
        except VideoError as error:              # no face found, not a video: said, and left out
            result.skipped.append(f"{path.name}: {error}")
            continue
        tracked_open = mouth_opening(head, take.clip)
        result.tracked[path.name] = motion_stats(take.clip, take.good)
        result.curves[path.name] = {"tracked": tracked_open}
        result.fps[path.name] = take.fps
        for driver in video_drivers:
            name, folder = models.get(driver, (driver, None))
            clip = animate(audio, fps=take.fps, driver=name, models_dir=folder, lead_ms=lead_ms)
            result.scores.append(_video_score(head, take, clip, tracked_open, driver, result.curves[path.name]))
        voice = loudness(audio, take.fps, tracked_open.size)[take.good[:tracked_open.size]]
        result.cycles[path.name] = {"seconds": take.good.sum() / take.fps, "voice syllables": peaks(voice, SYLLABLE_DB),
                                    **{k: opening_cycles(v[take.good[:v.size]])
                                       for k, v in result.curves[path.name].items()}}
        reporter.update(k + 1)
    if known_words:
        result.closure = evaluate_lipsync(known_words, drivers=[d for d in drivers if d not in models],
                                          fps=30.0, reporter=reporter, lead_ms=lead_ms,
                                          speech="real speech with known words").scores
    return result


def _video_score(head, take: TrackedVideo, clip: MotionClip, tracked_open, driver, curves) -> VideoScore:
    from ..drivers.phonetic.metrics import mouth_opening

    opening = mouth_opening(head, clip)
    T = min(opening.size, tracked_open.size)
    curves[driver] = opening[:T]
    lags = lagged_correlations(opening[:T], tracked_open[:T], take.good[:T])
    best = max(lags, key=lags.get)
    return VideoScore(video=take.path.name, speaker=take.speaker, driver=driver, r_lag0=lags[0], r_best=lags[best],
                      best_lag=int(best), lip_error_mm=lip_error_mm(head, clip, take.clip, take.good),
                      frames=int(take.good[:T].sum()), motion=motion_stats(clip), r_by_lag=lags)


# -- known words (real recordings with transcripts) -------------------------------------------------

def _words(line: str) -> str:
    return " ".join(w for w in line.replace("<s>", " ").replace("</s>", " ").split() if not w.startswith("("))


def known_word_recordings(speech) -> list:
    """[(path, words)] of the recordings under `speech` (../shared/data/speech) whose words are known
    and that no model trains on: the LibriVox readings and the two-speaker conversation train the ADF
    (engine.training.adf.real_data), so JFK, the pocketsphinx cards and "go forward" measure it."""
    speech = Path(speech)
    rows = []
    cards = speech / "pocketsphinx" / "cards"
    if (cards / "cards.transcription").is_file():
        for line in (cards / "cards.transcription").read_text().splitlines():
            if "(" in line:
                rows.append((cards / (line.rsplit("(", 1)[1].strip(" )") + ".wav"), _words(line)))
    rows.append((speech / "whisper_jfk.flac", "and so my fellow americans ask not what your country can do for you "
                                              "ask what you can do for your country"))
    rows.append((speech / "pocketsphinx" / "goforward.wav", "go forward ten meters"))
    return [(p, w) for p, w in rows if p.is_file() and w]


def real_closure_clips(speech) -> list:
    """[(Audio, phones, words)] of known_word_recordings, the phones forced-aligned to the words
    (the best timing there is for a real voice; a phonetic driver given the words aligns the same)."""
    from ..audio import load_audio
    from ..drivers.phonetic.recognize import recognize_phones

    clips = []
    for path, words in known_word_recordings(speech):
        audio = load_audio(path)
        clips.append((audio, recognize_phones(audio.samples, audio.rate, transcript=words), words))
    return clips
