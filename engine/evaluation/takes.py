"""The talking videos eval-lipsync measures on, and their tracked takes (each video tracked once, cached).

EVAL_VIDEOS names the held-out clips with their speaker (none of these speakers is in a row that may
train a shipped model); TRAINING_VIDEOS are the rows that may. Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..motion import MotionClip
from ..progress import Reporter

TAKE_CACHE = Path(__file__).resolve().parents[2] / "out" / "real_speech" / "takes"   # tracked takes, kept
SILENT_PEAK = 1e-4            # a video whose sound peaks below this is silent (skipped)

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


def take_key(path: Path) -> str:
    """The cache name of a video's take: its file name, size and the tracker's version, hashed (12 hex digits)."""
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
    saved = Path(cache) / f"{path.stem}-{take_key(path)}.npz"
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
