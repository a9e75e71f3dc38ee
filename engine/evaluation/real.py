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
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..motion import MotionClip
from ..progress import Reporter, silent

TAKE_CACHE = Path(__file__).resolve().parents[2] / "out" / "real_speech" / "takes"   # tracked takes, kept
MAX_LAG = 5                   # frames either way searched for the best-lag correlation
BLINK_RISE = 0.3              # an eye is closed where eyeBlink rises this far above the clip's median
BLINK_MIN_S = 0.06            # ... for at least this long (shorter rises are tracking noise)
SMOOTH_S = 0.2                # head rotation is averaged over this window before its speed is taken
SILENT_PEAK = 1e-4            # a video whose sound peaks below this is silent (skipped)
HEAD_CHANNELS = ("neck_rx", "neck_ry", "neck_rz")

# The held-out real speakers: the videos whose rows are "evaluation" only (their speakers can never
# train a shipped model). speaker names come from the source datasets (MEAD ids; LRS3 talk ids).
EVAL_VIDEOS = {
    "eamm_crop_M030_sad_3_001.mp4": "MEAD M030",
    "mead_M030_level_3_angry_016.mp4": "MEAD M030",
    "mead_M003_level_1_disgusted_015.mp4": "MEAD M003",
    "mead_M026_level_3_disgusted_018.mp4": "MEAD M026",
    "mead_W023_level_2_surprised_010.mp4": "MEAD W023",
    "mead_W036_level_3_happy_007.mp4": "MEAD W036",
    "mead_W040_level_3_happy_029.mp4": "MEAD W040",
    # eamm_video_disgusted / _sad / _surprised are left out: their sound tracks are digital silence.
    "lrs3_0Fi83BHQsMA_00002.mp4": "LRS3 0Fi83BHQsMA",
    "lrs3_OzA6jRYjVQs_00004.mp4": "LRS3 OzA6jRYjVQs",
    "lrs3_PbgB2TaYhio_00007.mp4": "LRS3 PbgB2TaYhio",
    "lrs3_QoT0S2vu9m4_00002.mp4": "LRS3 QoT0S2vu9m4",
    "vexpress_RD_Radio10_0_clip_0.mp4": "V-Express RD_Radio10",
    "wav2lipgfpgan_kim_7s_raw.mp4": "Wav2Lip-GFPGAN kim",
}
# The rows that may train a shipped model (one speaker a clip as far as is known). No driver shipped today
# learned from any video, so today they are unseen too: `real_videos(folder, "all")` adds them.
TRAINING_VIDEOS = tuple(f"{n}.mp4" for n in (
    "liveportrait_d11", "liveportrait_d12", "liveportrait_d6", "liveportrait_s13", "pcavs_Audio_Source_00015",
    "pcavs_Audio_Source_00086", "pcavs_Audio_Source_00373", "pcavs_Audio_Source_681100216",
    "pcavs_Audio_Source_741400104", "pcavs_Input_00002", "pcavs_Input_00010", "pcavs_Input_00098",
    "pcavs_Pose_Source_00473", "pcavs_Pose_Source_517600055", "pcavs_Pose_Source_620900105",
    "pcavs_Pose_Source_731200067", "pcavs_Pose_Source_741400163", "pcavs_Pose_Source_796100172",
    "real3dportrait_May_5s", "retalking_1", "retalking_4", "retalking_5"))
QUICK_VIDEOS = ("mead_M003_level_1_disgusted_015.mp4", "mead_W036_level_3_happy_007.mp4",
                "lrs3_QoT0S2vu9m4_00002.mp4", "wav2lipgfpgan_kim_7s_raw.mp4")


# -- tracked takes, cached ------------------------------------------------------------------------

@dataclass
class TrackedVideo:
    """A tracked talking video: the clip on the built-in head [T frames at the video's fps],
    which frames were tracked well (good [T] bool: not bridged), the tracker's per-frame
    confidence [T] in [0, 1] (0 where bridged), and its speaker."""

    path: Path
    speaker: str
    clip: MotionClip
    good: np.ndarray
    confidence: Optional[np.ndarray] = None

    @property
    def fps(self) -> float:
        return float(self.clip.fps)


def _cache_key(path: Path) -> str:
    from ..video.track import TRACKER

    stat = path.stat()
    return hashlib.sha1(f"{path.name}|{stat.st_size}|{TRACKER}".encode()).hexdigest()[:12]


def tracked_take(path, cache: Path, speaker: str = "", reporter: Optional[Reporter] = None) -> TrackedVideo:
    """Track the video at `path` once: the take is saved under `cache` (named by the file, its size
    and the tracker) and read from there on later calls; a video the tracker refuses (VideoError,
    e.g. no face) is remembered there too and raises the same sentence again."""
    from ..video.track import sidecar_path

    from ..video.errors import VideoError

    path = Path(path)
    saved = Path(cache) / f"{path.stem}-{_cache_key(path)}.npz"
    failed = saved.with_suffix(".failed.txt")      # a video that cannot be tracked is not tried again
    if failed.is_file():
        raise VideoError(failed.read_text(encoding="utf-8"))
    if not saved.is_file():
        from ..video import save_take, track_video

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                take = track_video(path, reporter=reporter)
        except VideoError as error:
            failed.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(str(error), encoding="utf-8")
            raise
        save_take(take, saved)
    clip = MotionClip.load(saved)
    with np.load(sidecar_path(saved)) as arrays:
        good = ~arrays["bridged"].astype(bool)[:clip.num_frames]
        confidence = arrays["confidence"][:clip.num_frames] if "confidence" in arrays else good.astype(float)
    return TrackedVideo(path, speaker, clip, good, np.where(good, confidence, 0.0))


def held_out_videos(folder, quick: bool = False) -> list:
    """[(path, speaker)] of the held-out EVAL_VIDEOS present in `folder` (quick: QUICK_VIDEOS)."""
    names = QUICK_VIDEOS if quick else tuple(EVAL_VIDEOS)
    return [(Path(folder) / n, EVAL_VIDEOS[n]) for n in names if (Path(folder) / n).is_file()]


def real_videos(folder, which: str = "held-out", quick: bool = False) -> list:
    """[(path, speaker)]: the held-out speakers, or with which="all" also the TRAINING_VIDEOS (each its
    own speaker; unseen by every driver until a model trains on them)."""
    rows = held_out_videos(folder, quick)
    if which == "all" and not quick:
        rows += [(Path(folder) / n, Path(n).stem) for n in TRAINING_VIDEOS if (Path(folder) / n).is_file()]
    return rows


def manifest_videos(manifest) -> list:
    """[(path, speaker)] from a manifest file: one video a line, optionally `<tab or ;>speaker`
    (paths relative to the manifest; '#' starts a comment)."""
    from ..errors import InputError

    manifest = Path(manifest)
    if not manifest.is_file():
        raise InputError(f"The video manifest '{manifest}' does not exist.")
    rows = []
    for line in manifest.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, speaker = line.replace("\t", ";").partition(";")
            path = Path(name.strip())
            rows.append((path if path.is_absolute() else manifest.parent / path, speaker.strip() or path.stem))
    return rows


# -- measures ---------------------------------------------------------------------------------------

def lagged_correlations(predicted: np.ndarray, tracked: np.ndarray, good: np.ndarray,
                        max_lag: int = MAX_LAG) -> dict:
    """{lag: Pearson r} of predicted[t + lag] with tracked[t] over good frames t, for |lag| <= max_lag.
    predicted, tracked, good: [T] (equal length). A constant track scores 0."""
    out = {}
    T = min(predicted.size, tracked.size, good.size)
    for lag in range(-max_lag, max_lag + 1):
        t = np.arange(max(0, -lag), min(T, T - lag))
        t = t[good[t]]
        a, b = predicted[t + lag], tracked[t]
        out[lag] = float(np.corrcoef(a, b)[0, 1]) if t.size > 2 and a.std() > 1e-9 and b.std() > 1e-9 else 0.0
    return out


def lip_error_mm(head, predicted: MotionClip, tracked: MotionClip, good: np.ndarray) -> float:
    """Mean over good frames of the largest distance (mm) between the 20 iBUG lip points of the two
    clips posed on `head` (jaw only of the pose, as `phonetic.metrics.lip_vertex_error`)."""
    from ..drivers.phonetic.metrics import LIP_LANDMARKS, _lip_points

    a = _lip_points(head, predicted, LIP_LANDMARKS)
    b = _lip_points(head, tracked, LIP_LANDMARKS)
    T = min(a.shape[0], b.shape[0], good.size)
    distance = np.max(np.linalg.norm(a[:T] - b[:T], axis=-1), axis=1)
    return float(1000.0 * np.mean(distance[good[:T]]))


@dataclass
class MotionStats:
    """Head motion and blinks of a clip: neck rotation spread (deg, mean of the three axes' standard
    deviations) and speed (deg/s, mean frame-to-frame change), blinks per minute, mean blink length (s)."""

    head_sd_deg: float
    head_speed_deg_s: float
    blinks_per_min: float
    blink_s: float


def _channel(clip: MotionClip, name: str) -> np.ndarray:
    return clip.values[:, clip.names.index(name)] if name in clip.names else np.zeros(clip.num_frames)


def motion_stats(clip: MotionClip, good: Optional[np.ndarray] = None) -> MotionStats:
    """MotionStats of `clip` over its good frames [T] bool (None: all). The head's speed is taken
    after a SMOOTH_S moving average (a tracker's frame-to-frame jitter is not head motion); a blink
    is a rise of eyeBlink above the clip's median (a tracked eye's rest value is not 0)."""
    from ..drivers.phonetic.metrics import closure_runs

    good = np.ones(clip.num_frames, bool) if good is None else good[:clip.num_frames]
    head = np.degrees(np.stack([_channel(clip, n) for n in HEAD_CHANNELS], axis=1))[good]
    width = max(1, int(round(SMOOTH_S * clip.fps)))
    smooth = np.stack([np.convolve(h, np.ones(width) / width, mode="valid") for h in head.T], axis=1) \
        if len(head) > width else head
    speed = np.abs(np.diff(smooth, axis=0)).sum(axis=1) * clip.fps if len(smooth) > 1 else np.zeros(1)
    blink = 0.5 * (_channel(clip, "eyeBlinkLeft") + _channel(clip, "eyeBlinkRight"))
    closed = (blink - np.median(blink[good]) > BLINK_RISE) & good if good.any() else good
    runs = [(a, b) for a, b in closure_runs(closed) if (b - a) / clip.fps >= BLINK_MIN_S - 1e-9]
    minutes = good.sum() / clip.fps / 60.0
    return MotionStats(head_sd_deg=float(np.mean(head.std(axis=0))) if len(head) else 0.0,
                       head_speed_deg_s=float(np.mean(speed)), blinks_per_min=len(runs) / max(minutes, 1e-9),
                       blink_s=float(np.mean([b - a for a, b in runs]) / clip.fps) if runs else 0.0)


# -- the evaluation ---------------------------------------------------------------------------------

@dataclass
class VideoScore:
    """One driver on one tracked video."""

    video: str
    speaker: str
    driver: str
    r_lag0: float
    r_best: float
    best_lag: int                 # frames; positive: the driver is late
    lip_error_mm: float
    frames: int
    motion: MotionStats
    r_by_lag: dict = field(default_factory=dict)   # {lag: r} for every lag within +-MAX_LAG


@dataclass
class RealSpeechEvaluation:
    """Every driver on every held-out video, the tracked motion statistics, and (where words are
    known) each driver's bilabial closure recall on real recordings."""

    drivers: list
    scores: list = field(default_factory=list)          # [VideoScore]
    tracked: dict = field(default_factory=dict)          # {video: MotionStats of the tracked take}
    closure: list = field(default_factory=list)          # [evaluate_lipsync DriverScore] on known words
    curves: dict = field(default_factory=dict)           # {video: {"tracked" | driver: opening [T] mm}}
    fps: dict = field(default_factory=dict)              # {video: frame rate}
    skipped: list = field(default_factory=list)          # ["<video>: why"]
    cycles: dict = field(default_factory=dict)           # {video: {"seconds", "voice syllables", "tracked", driver: count}}

    def summary(self) -> list:
        """Per driver: mean over speakers of the speaker's mean r (lag 0, best lag), the lowest
        speaker's best-lag r, the mean lip error, and motion statistics averaged over videos."""
        rows = []
        for driver in self.drivers:
            mine = [s for s in self.scores if s.driver == driver]
            if not mine:
                continue
            speakers = sorted({s.speaker for s in mine})
            per = {k: [s for s in mine if s.speaker == k] for k in speakers}
            r0 = [np.mean([s.r_lag0 for s in v]) for v in per.values()]
            rb = [np.mean([s.r_best for s in v]) for v in per.values()]
            lag, r_lag = _common_lag(per)
            rows.append({"driver": driver, "speakers": len(speakers), "videos": len(mine),
                         "r_lag0": float(np.mean(r0)), "r_best": float(np.mean(rb)),
                         "common_lag": lag, "r_common_lag": r_lag,
                         "r_best_lowest_speaker": float(np.min(rb)),
                         "lip_error_mm": float(np.mean([s.lip_error_mm for s in mine])),
                         **_mean_motion([s.motion for s in mine])})
        tracked = list(self.tracked.values())
        if tracked:
            rows.append({"driver": "tracked video", "speakers": len({s.speaker for s in self.scores}),
                         "videos": len(tracked), **_mean_motion(tracked)})
        return rows

    def per_speaker(self) -> dict:
        """{speaker: {driver: mean best-lag r over the speaker's videos}}."""
        out = {}
        for s in self.scores:
            out.setdefault(s.speaker, {}).setdefault(s.driver, []).append(s.r_best)
        return {k: {d: float(np.mean(v)) for d, v in row.items()} for k, row in out.items()}

    def best_driver(self) -> str:
        """The driver with the highest mean best-lag r over speakers."""
        rows = [r for r in self.summary() if "r_best" in r]
        return max(rows, key=lambda r: r["r_best"])["driver"]

    def only(self, videos: Sequence[str]) -> "RealSpeechEvaluation":
        """The same evaluation restricted to the named videos (file names)."""
        keep = set(videos)
        return RealSpeechEvaluation(self.drivers, [s for s in self.scores if s.video in keep],
                                    {k: v for k, v in self.tracked.items() if k in keep}, self.closure,
                                    {k: v for k, v in self.curves.items() if k in keep},
                                    {k: v for k, v in self.fps.items() if k in keep},
                                    [x for x in self.skipped if x.split(":", 1)[0] in keep],
                                    {k: v for k, v in self.cycles.items() if k in keep})

    def cycles_per_second(self) -> dict:
        """{"tracked" | "voice syllables" | driver: opening cycles (syllables) per second over all videos}."""
        seconds = sum(c["seconds"] for c in self.cycles.values())
        keys = [k for k in next(iter(self.cycles.values()), {}) if k != "seconds"]
        return {k: sum(c[k] for c in self.cycles.values()) / max(seconds, 1e-9) for k in keys}

    def to_dict(self) -> dict:
        return {"drivers": self.drivers, "summary": self.summary(), "per_speaker": self.per_speaker(),
                "cycles_per_s": self.cycles_per_second(), "scores": [asdict(s) for s in self.scores],
                "tracked": {k: asdict(v) for k, v in self.tracked.items()},
                "closure_on_known_words": [asdict(s) | {"real_time": s.real_time} for s in self.closure],
                "skipped": self.skipped}


def _common_lag(per_speaker: dict):
    """(lag, r): the one lag for every clip with the highest mean over speakers of r at that lag
    (less flattering than each clip's own best lag; None when the scores carry no lags)."""
    lags = sorted({k for v in per_speaker.values() for s in v for k in s.r_by_lag})
    if not lags:
        return None, float("nan")
    mean = {k: float(np.mean([np.mean([s.r_by_lag[k] for s in v]) for v in per_speaker.values()])) for k in lags}
    best = max(mean, key=mean.get)
    return int(best), mean[best]


def _mean_motion(stats: Sequence[MotionStats]) -> dict:
    return {k: float(np.mean([getattr(s, k) for s in stats])) for k in asdict(stats[0])}


def evaluate_real_speech(videos: Sequence, cache: Path, drivers: Sequence[str] = ("adf", "phonetic", "energy"),
                         known_words: Sequence = (), reporter: Optional[Reporter] = None,
                         models: Optional[dict] = None) -> RealSpeechEvaluation:
    """Score `drivers` on `videos` [(path, speaker)] (tracked once, cached under `cache`), and on
    `known_words` [(Audio, phones, text)] the bilabial closure recall (evaluate_lipsync's), where a
    driver "<name>+transcript" is given the words. Video drivers get no transcript. `models`
    {label: (driver, models folder)} adds drivers under their own label that run a model from a
    folder (e.g. {"adf new": ("adf", "runs/x/model")} beside the shipped "adf"); they are scored
    on the videos only."""
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
            clip = animate(audio, fps=take.fps, driver=name, models_dir=folder)
            result.scores.append(_video_score(head, take, clip, tracked_open, driver, result.curves[path.name]))
        voice = loudness(audio, take.fps, tracked_open.size)[take.good[:tracked_open.size]]
        result.cycles[path.name] = {"seconds": take.good.sum() / take.fps, "voice syllables": peaks(voice, SYLLABLE_DB),
                                    **{k: opening_cycles(v[take.good[:v.size]])
                                       for k, v in result.curves[path.name].items()}}
        reporter.update(k + 1)
    if known_words:
        result.closure = evaluate_lipsync(known_words, drivers=[d for d in drivers if d not in models],
                                          fps=30.0, reporter=reporter,
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


# -- other languages --------------------------------------------------------------------------------

LANGUAGES = {"German": "German", "French": "french", "Italian": "italian", "Spanish": "spanish",
             "Japanese": "japan", "Korean": "korean", "Chinese": "chinese"}   # name: dreamtalk file prefix
CYCLE_MM = 3.0                # an opening cycle: the gap rises and falls again by this much
SYLLABLE_DB = 6.0             # a syllable of the voice: its loudness rises and falls by this much
SHUT_MM = 2.0                 # an inner-lip gap below this counts as shut lips


def language_recordings(speech) -> dict:
    """{language: [paths]} of the dreamtalk recordings per language, and English (LibriVox, JFK)."""
    speech = Path(speech)
    out = {name: sorted((speech / "dreamtalk").glob(f"{prefix}*.wav")) for name, prefix in LANGUAGES.items()}
    out["English"] = sorted((speech / "librivox").glob("*.wav")) + [p for p in [speech / "whisper_jfk.flac"]
                                                                     if p.is_file()]
    return {k: v for k, v in out.items() if v}


def peaks(values: np.ndarray, delta: float) -> int:
    """How many times values [T] rise by at least `delta` from a low and fall back by `delta`
    (wiggles smaller than `delta` are not counted)."""
    count, low, high, rising = 0, np.inf, -np.inf, True
    for v in values:
        if rising:
            if high - low >= delta and high - v >= delta:
                count, rising, low = count + 1, False, v
            elif v < low:
                low = high = v                      # the high must come after the low
            else:
                high = max(high, v)
        else:
            low = min(low, v)
            if v - low >= delta:
                rising, high = True, v
    return count


def opening_cycles(opening_mm: np.ndarray) -> int:
    """How many times the inner-lip gap [T] (mm) opens and closes again by CYCLE_MM."""
    return peaks(opening_mm, CYCLE_MM)


def loudness(audio, fps: float, frames: int) -> np.ndarray:
    """The voice's loudness envelope [frames] (dB RMS over each frame's window)."""
    hop = audio.rate / fps
    out = np.empty(frames)
    for t in range(frames):
        a = int(t * hop)
        window = audio.samples[a:int(a + hop)]
        out[t] = 10 * np.log10(np.mean(np.square(window, dtype=np.float64)) + 1e-10) if window.size else -100.0
    return out


def language_statistics(speech, drivers: Sequence[str] = ("adf", "phonetic", "energy"), fps: float = 30.0,
                        reporter: Optional[Reporter] = None) -> list:
    """Per language and driver over its recordings: seconds, mouth opening cycles per second beside
    the voice's syllables per second (loudness peaks of SYLLABLE_DB), the share of frames with the
    lips shut (< SHUT_MM), mean and 95th-percentile gap (mm), and the correlation of the gap with the
    voice's loudness (does the mouth open and close with the syllables)."""
    from ..animate import animate
    from ..audio import load_audio
    from ..head import load_head
    from ..drivers.phonetic.metrics import mouth_opening

    reporter = reporter or silent()
    head = load_head()
    recordings = language_recordings(speech)
    rows = []
    reporter.stage("animating the languages", len(recordings) * len(drivers))
    for language, paths in recordings.items():
        audios = [load_audio(p) for p in paths]
        for driver in drivers:
            gaps, envelopes = [], []
            for audio in audios:
                gap = mouth_opening(head, animate(audio, fps=fps, driver=driver))
                gaps.append(gap)
                envelopes.append(loudness(audio, fps, gap.size))
            rows.append(_language_row(language, driver, gaps, envelopes, fps))
            reporter.update(len(rows))
    return rows


def _language_row(language, driver, gaps, envelopes, fps) -> dict:
    seconds = sum(g.size for g in gaps) / fps
    allg = np.concatenate(gaps)
    r = [float(np.corrcoef(g, e)[0, 1]) if g.std() > 1e-9 and e.std() > 1e-9 else 0.0 for g, e in zip(gaps, envelopes)]
    return {"language": language, "driver": driver, "recordings": len(gaps), "seconds": seconds,
            "cycles_per_s": sum(opening_cycles(g) for g in gaps) / seconds,
            "syllables_per_s": sum(peaks(e, SYLLABLE_DB) for e in envelopes) / seconds, "shut_share": float(np.mean(allg < SHUT_MM)),
            "mean_gap_mm": float(allg.mean()), "p95_gap_mm": float(np.percentile(allg, 95)),
            "r_loudness": float(np.mean(r))}


# -- the plot and the files -------------------------------------------------------------------------

def plot_real_openings(path: Path, evaluation: RealSpeechEvaluation, videos: Sequence[str] = (),
                       seconds: float = 4.0) -> Path:
    """A PNG: for each of `videos` (default: the first three) the tracked inner-lip gap and each
    driver's over the first `seconds`, the driver's best-lag r in its label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(videos) or list(evaluation.curves)[:3]
    fig, axes = plt.subplots(len(names), 1, figsize=(12, 2.6 * len(names)), dpi=100, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        curves = evaluation.curves[name]
        score = {s.driver: s for s in evaluation.scores if s.video == name}
        fps = evaluation.fps[name]
        for j, (label, values) in enumerate(curves.items()):
            n = min(values.size, int(seconds * fps))
            t = np.arange(n) / fps
            if label == "tracked":
                ax.plot(t, values[:n], color="black", lw=1.8, label="tracked video")
            else:
                s = score[label]
                ax.plot(t, values[:n], color=f"C{j - 1}", lw=1.0,
                        label=f"{label}: r = {s.r_lag0:.2f} (lag 0), {s.r_best:.2f} (lag {s.best_lag:+d})")
        speaker = next(iter(score.values())).speaker
        ax.set_title(f"{name} ({speaker})", fontsize=9)
        ax.set_ylabel("inner-lip gap (mm)")
        ax.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_real_evaluation(evaluation: RealSpeechEvaluation, out: Path, languages: Sequence = ()) -> Path:
    """out/eval_lipsync_real.json with every score (and the language rows when given)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "eval_lipsync_real.json"
    path.write_text(json.dumps(evaluation.to_dict() | {"languages": list(languages)}, indent=2))
    return path
