"""Style from a video, side by side: a real talking clip, its own voice animated in the neutral style, and the
same voice animated with the clip as its style reference (`animate --style-clip talk.mp4`: tracked, then
read by the ADF style encoder).

Per clip and statistic (head motion, brow activity, blinks per minute; `style_suite.style_statistics`) the
row gives the styled performance's value beside the neutral one, the video's own value in the note, and as
ratio how much closer to the video the styled value is: |neutral - video| / |styled - video| (above 1: the
style moved toward the video's; at most 99).
"""

from __future__ import annotations

from pathlib import Path

from .report import Row
from .style_suite import style_statistics
from .video_suite import VIDEOS

SECTION = "Style from a video"
CLIPS = ("pcavs_Pose_Source_00473.mp4", "eamm_video_sad.mp4", "real3dportrait_May_5s.mp4")
MAX_RATIO = 99.0       # the styled value on the video's: the ratio is shown as this, not as 1e10
STATISTICS = {"head_motion_deg": "°", "brow_activity": "", "blinks_per_min": "/min"}


def _missing(what: str) -> list:
    return [Row(SECTION, "style statistics, neutral vs --style-clip", float("nan"), "", note=f"skipped: no {what}")]


def side_by_side(path: Path) -> dict:
    """{"video" | "neutral" | "styled": statistics} of one clip (the voice is the clip's own sound)."""
    from ..drivers.adf.driver import style_of_clip
    from ..animate import animate
    from ..audio import load_audio
    from ..video import track_video

    take = track_video(path).clip
    voice, fps = load_audio(path), float(take.fps)
    style = style_of_clip(take)
    neutral = animate(voice, fps=fps, driver="adf", seed=1)
    styled = animate(voice, fps=fps, driver="adf", seed=1, style=style)
    return {"video": style_statistics(take), "neutral": style_statistics(neutral),
            "styled": style_statistics(styled), "style": style.to_dict()}


def style_from_video(quick: bool, out: Path = None) -> list:
    """Rows of the style statistics of real clips, their voices animated neutral and with --style-clip."""
    from ..animate import available_drivers

    from ..video.landmarks import tracker_python
    from ..video.errors import TrackerMissingError

    if "adf" not in available_drivers():
        return _missing("ADF model (engine/models/adf.onnx)")
    try:
        tracker_python()
    except TrackerMissingError:
        return _missing("Python with mediapipe 0.10.14 (.venv-video)")
    clips = [VIDEOS / name for name in CLIPS[: 1 if quick else len(CLIPS)] if (VIDEOS / name).is_file()]
    if not clips:
        return _missing(f"real clips in {VIDEOS}")
    rows, moved, total = [], 0, 0
    for path in clips:
        stats = side_by_side(path)
        for name, unit in STATISTICS.items():
            video, neutral, styled = (stats[k][name] for k in ("video", "neutral", "styled"))
            closer = min(abs(neutral - video) / max(abs(styled - video), 1e-9), MAX_RATIO)
            moved, total = moved + (abs(styled - video) < abs(neutral - video)), total + 1
            rows.append(Row(SECTION, f"{path.stem}: {name}, --style-clip", styled, unit, "neutral", neutral, closer,
                            note=f"the video: {video:.3g}"))
    rows.append(Row(SECTION, f"statistics that moved toward the video's ({len(clips)} clips)", moved, "",
                    "statistics", total, moved / total, target="all", note="head motion, brows, blinks"))
    return rows
