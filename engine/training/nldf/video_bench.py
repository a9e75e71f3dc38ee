"""The bench's table of a look made from a real video: NLDF vs its NeRF teacher vs the real held-out frames.

A training row of ../shared/data/videos (`VIDEO`, MIT, a training-and-evaluation row of its README) goes
through the `look-from-video` pipeline (`from_video`) at the small settings below, into
runs/look_video_bench/ (`--quick`: runs/look_video_bench_quick/), where every stage is cached: the first
run makes the look (minutes quick, about half an hour full, on the shared 2 cores), later runs reuse it and
say when it was made. The rows are the look's own sidecar figures, measured at export on held-out frames
(the last 20 % of the clip, never fitted): face-box PSNR of NeRF and NLDF against the real frames and of
NLDF against the NeRF, both renderers' time per frame at the crop size, and the time each stage took to
make. A picture (real / NeRF / NLDF) goes beside the rows. The look is never installed or shipped.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from ...bench.report import Row

ROOT = Path(__file__).resolve().parents[3]
VIDEOS = Path(os.environ.get("TALKING_HEAD_VIDEOS", ROOT.parent / "shared" / "data" / "videos"))
VIDEO = "liveportrait_d6.mp4"  # 480² at 30 fps, one speaker, MIT: "training and evaluation"
NAME = "videobench"
# (seconds of the video, crop size, NeRF overrides, NLDF overrides, held-out frames scored)
SETTINGS = {
    True: (4.0, 64, {"steps": 150, "samples": 32, "importance_samples": 8, "rays_per_step": 512, "log_every": 25},
           {"steps": 600, "frames": 32, "mode": "superres", "sr_stride": 4, "eval_frames": 2, "log_every": 100}, 2),
    False: (20.0, 128, {"steps": 500, "samples": 48, "importance_samples": 16},
            {"steps": 600, "frames": 64, "mode": "superres", "sr_stride": 4}, 8),
}
SECTION = "Look from a real video (NLDF vs its NeRF teacher vs the real held-out frames)"
TARGETS = {"real": ">= 30 dB against the real frames", "nerf": "NLDF within 1 dB of its NeRF teacher",
           "speed": ">= 100x the NeRF"}


def runs() -> Path:
    return Path(os.environ.get("TALKING_HEAD_NERF_RUNS", ROOT / "runs"))


def look_from_video_rows(quick: bool, out: Path) -> list:
    """The table's rows (making the look first when its cache folder lacks it); one note row without the
    video or the tracker."""
    from ...bench import video_known

    video = VIDEOS / VIDEO
    if not video.is_file():
        return [Row(SECTION, "look from a video", 0.0, "", note=f"needs {video} (../shared/data, beside the checkout)")]
    if not video_known.has_tracker():
        return [Row(SECTION, "look from a video", 0.0, "", note="needs the tracker's Python (.venv-video)")]
    folder = runs() / f"look_video_bench{'_quick' if quick else ''}"
    marker = folder / ".export_done.json"
    before = marker.stat().st_mtime_ns if marker.is_file() else None
    path = make_look(video, folder, quick)
    made_now = before != marker.stat().st_mtime_ns  # some stage (at least the export) ran now
    sidecar = json.loads(path.with_suffix(".json").read_text())
    stages = stage_seconds(folder)
    picture = folder / "heldout.png"
    if picture.is_file():
        shutil.copyfile(picture, out / f"look_from_video{'_quick' if quick else ''}.png")
    when = "made by this run" if made_now else \
        f"made {time.strftime('%Y-%m-%d', time.gmtime(marker.stat().st_mtime))}, cached"
    return video_rows(sidecar["video"], stages, settings_text(quick), f"{when} in {folder}")


def make_look(video: Path, folder: Path, quick: bool) -> Path:
    """Make (or finish, or only find) the bench's look of `video` in `folder`; its .onnx path."""
    from ...progress import Reporter, TerminalBar
    from .from_video import LookSettings, look_from_video

    end, size, nerf, nldf, eval_frames = SETTINGS[quick]
    settings = LookSettings(name=NAME, size=size, nerf=dict(nerf), nldf=dict(nldf), eval_frames=eval_frames,
                            end=end, threads=2)
    return look_from_video(video, folder, settings, Reporter(TerminalBar(delay=2.0)))


def stage_seconds(folder: Path) -> dict:
    """{stage: seconds it took when it was made} from the stages' done markers."""
    from .from_video import STAGES

    seconds = {}
    for stage in STAGES:
        marker = folder / (".export_done.json" if stage == "export" else f"{stage}/done.json")
        if marker.is_file():
            seconds[stage] = float(json.loads(marker.read_text()).get("seconds", 0.0))
    return seconds


def settings_text(quick: bool) -> str:
    """The settings in words, for the rows: the video's part, the crop, both fits."""
    end, size, nerf, nldf, eval_frames = SETTINGS[quick]
    return (f"{VIDEO}, first {end:g} s, crop {size}²; NeRF {nerf['steps']} steps, {nerf['samples']}+"
            f"{nerf['importance_samples']} samples; NLDF {nldf['mode']} (stride {nldf['sr_stride']}), "
            f"{nldf['steps']} steps on {nldf['frames']} NeRF frames; {eval_frames} held-out frames scored")


def video_rows(quality: dict, stages: dict, settings: str, made: str) -> list:
    """The rows of one look's sidecar `video` block (`from_video.stage_export`) and its stage times."""
    label = f"{quality['size']}² crop, {quality['frames_held_out']} of {quality['frames']} frames held out"
    nerf_ms, nldf_ms = quality["nerf_ms_per_frame"], quality["nldf_ms_per_frame"]
    total = sum(stages.values())
    spent = ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in stages.items())
    return [
        Row(SECTION, f"{label}: NLDF face-box PSNR vs the real frames", quality["face_psnr_nldf_vs_real"], "dB",
            "NeRF teacher vs the real frames", quality["face_psnr_nerf_vs_real"], None, target=TARGETS["real"],
            note=settings),
        Row(SECTION, f"{label}: NLDF face-box PSNR vs its NeRF teacher", quality["face_psnr_nldf_vs_nerf"], "dB",
            target=TARGETS["nerf"],
            note=f"NLDF - NeRF against the real frames: "
                 f"{quality['face_psnr_nldf_vs_real'] - quality['face_psnr_nerf_vs_real']:+.2f} dB"),
        Row(SECTION, f"{label}: NLDF frames per second", 1000.0 / nldf_ms, "fps", "NeRF teacher",
            1000.0 / nerf_ms, nerf_ms / nldf_ms, target=TARGETS["speed"],
            note=f"{nldf_ms:.1f} ms vs {nerf_ms:.0f} ms a {quality['size']}² frame, measured at export"),
        Row(SECTION, f"{label}: time to make the look", total / 60.0, "min", target="< 3 h for 20 s of 512² "
            "video on 2 CPU cores", note=f"{spent}; {made}"),
    ]
