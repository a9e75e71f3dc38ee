"""Style from a video, side by side: held-out real talking clips, each one's own voice animated in the
neutral style and with the clip as its style reference (`animate --style-clip talk.mp4`: tracked, then
read by a style encoder), by the encoder that learned only from synthetic performances and by the shipped one.

The clips are the held-out speakers of eval-lipsync (`evaluation.takes.EVAL_VIDEOS`, tracked once and
cached like there): none of them is a speaker any shipped model learned from. Per clip and statistic (head
motion, brow activity, blinks per minute; `style_suite.style_statistics`) a row gives each encoder's styled
value beside the neutral one, with the video's own value in the note, and as ratio the fraction of the
way from the neutral value to the video's that the styled performance went ((styled - neutral) /
(video - neutral): 1 reaches the video, 0 no change, below 0 the wrong way); the performances' figures
are means over SEEDS (their blinks and head sway are seeded draws). The summary rows count, per
encoder and statistic, the clips that moved toward the video's and give the median fraction of the way.

"+ measured" is what `--style-clip` now gives: the shipped encoder's style at the video's measured blink
rate, its brows scaled to the video's measured brow activity (`animate.reference`: the tracker's jitter
smoothed out of the brows, its noisy lids not counted as blinks). Its summary rows are also given against
those measured values ("the video, measured"), which are what it aims at; the raw statistics of the tracked
video count every noisy crossing of the lids as a blink.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .report import Row
from .style_suite import style_statistics
from .video_suite import VIDEOS

SECTION = "Style from a video"
QUICK_CLIPS = 2
SEEDS = (1, 2, 3, 4)   # each performance's statistics are the mean over these seeds (a 2 s clip holds 0-2 blinks)
STATISTICS = {"head_motion_deg": "°", "brow_activity": "", "blinks_per_min": "/min"}
BENCH_MODELS = Path(__file__).resolve().parent / "models"
# (label, style encoder file; None = the one shipped beside the network)
ENCODERS = (("synthetic-only encoder", BENCH_MODELS / "adf_style_synthetic.onnx"), ("shipped encoder", None),
            ("shipped encoder + measured", None))
MEASURED = "shipped encoder + measured"     # the encoder's style with the video's measured blinks and brows
MEASURED_STATISTICS = {"brow_activity": "brow_activity", "blinks_per_min": "blinks_per_min"}   # bench -> measure()
TAKES = None           # where tracked takes are cached; None: eval-lipsync's cache (evaluation.takes.TAKE_CACHE)


def clips() -> list:
    """[(file name, speaker)] of the held-out clips with a voice (evaluation.takes.EVAL_VIDEOS)."""
    from ..evaluation.takes import EVAL_VIDEOS

    return list(EVAL_VIDEOS.items())


def _missing(what: str) -> list:
    return [Row(SECTION, "style statistics, neutral vs --style-clip", float("nan"), "", note=f"skipped: no {what}")]


def side_by_side(path: Path, speaker: str, encoders=None) -> dict:
    """{"video" | "neutral" | <encoder label>: statistics, "styles": {label: style dict}} of one clip (the
    voice is the clip's own sound; its take tracked once into the eval-lipsync cache)."""
    from ..animate import animate
    from ..animate.reference import measure, reference_style
    from ..audio import load_audio
    from ..drivers.adf.driver import style_of_clip
    from ..evaluation.takes import TAKE_CACHE, tracked_take
    from ..style import NEUTRAL

    take = tracked_take(path, TAKES or TAKE_CACHE, speaker).clip
    voice, fps = load_audio(path), float(take.fps)

    def performed(style=NEUTRAL, brows=None) -> dict:     # seed-averaged: blinks and sway are seeded draws
        runs = [style_statistics(animate(voice, fps=fps, driver="adf", seed=s, style=style, brow_activity=brows))
                for s in SEEDS]
        return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}

    out = {"video": style_statistics(take), "measured": measure(take), "styles": {}, "neutral": performed()}
    for label, encoder in encoders or ENCODERS:
        if encoder is None or Path(encoder).is_file():
            style, brows = style_of_clip(take, encoder_path=encoder), None
            if label == MEASURED:
                reference = reference_style(take, style)
                style, brows = reference.style, reference.brow_activity
            out[label], out["styles"][label] = performed(style, brows), style.to_dict()
    return out


def fraction_of_the_way(neutral: float, styled: float, video: float) -> float:
    """(styled - neutral) / (video - neutral); 0 when the neutral value is the video's already."""
    return float((styled - neutral) / (video - neutral)) if abs(video - neutral) > 1e-9 else 0.0


def style_from_video(quick: bool, out: Path = None) -> list:
    """Rows of the style statistics of held-out real clips, their voices animated neutral and with
    --style-clip through each encoder, and per encoder and statistic how many moved toward the video's."""
    from ..animate import available_drivers
    from ..video.errors import TrackerMissingError, VideoError
    from ..video.landmarks import tracker_python

    if "adf" not in available_drivers():
        return _missing("ADF model (engine/models/adf.onnx)")
    try:
        tracker_python()
    except TrackerMissingError:
        return _missing("Python with mediapipe 0.10.14 (.venv-video)")
    chosen = [(VIDEOS / name, speaker) for name, speaker in clips() if (VIDEOS / name).is_file()]
    if not chosen:
        return _missing(f"held-out real clips in {VIDEOS}")
    rows, fractions = [], {}
    for path, speaker in chosen[: QUICK_CLIPS if quick else len(chosen)]:
        try:
            stats = side_by_side(path, speaker)
        except VideoError:
            continue                       # a clip the tracker refuses
        for name, unit in STATISTICS.items():
            video, neutral = stats["video"][name], stats["neutral"][name]
            seen = stats["measured"].get(MEASURED_STATISTICS.get(name, ""))
            for label, _ in ENCODERS:
                if label in stats:
                    styled = stats[label][name]
                    fraction = fraction_of_the_way(neutral, styled, video)
                    fractions.setdefault((label, name, "video"), []).append(fraction)
                    if label == MEASURED and seen is not None:
                        fractions.setdefault((label, name, "measured"), []).append(
                            fraction_of_the_way(neutral, styled, seen))
                    measured = "" if seen is None else f", measured {seen:.3g}"
                    rows.append(Row(SECTION, f"{path.stem}: {name}, {label}", styled, unit, "neutral", neutral,
                                    fraction, note=f"the video: {video:.3g}{measured}; ratio: fraction of the way"))
    for (label, name, toward), values in fractions.items():
        moved = int(np.sum(np.asarray(values) > 0))
        whose = "the video's" if toward == "video" else "the video's measured"
        rows.append(Row(SECTION, f"{label}: {name} moved toward {whose}", moved, "", "clips", len(values),
                        float(np.median(values)), target="all",
                        note=f"ratio: the median fraction of the way from neutral to {whose[:-2]}"))
    return rows
