"""Video tracking: speed (whole process, multiple of real time), peak memory on a long 1080p video,
and accuracy on the real talking clips of ../shared/data/videos.

Accuracy per clip: the landmark error (mean 2D distance of the fitted points from MediaPipe's,
over the inter-ocular distance, median over frames) and the correlation of the fitted head's
inner-lip gap with MediaPipe's own inner-lip aperture (points 13 and 14) on the same frames.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .report import Row

ROOT = Path(__file__).resolve().parents[2]
VIDEOS = Path(os.environ.get("TALKING_HEAD_VIDEOS", ROOT.parent / "shared" / "data" / "videos"))
SPEED_CLIP = "liveportrait_d11.mp4"          # 512², 25 fps, 9 s
LONG_SOURCE = "mead_M003_level_1_disgusted_015.mp4"   # 1920x1080, 25 fps
QUICK_CLIPS = ("liveportrait_d11.mp4", "pcavs_Input_00002.mp4", "retalking_5.mp4",
               "mead_W036_level_3_happy_007.mp4")
SECTION = "Video tracking"

# The child tracks a video while a thread samples the resident memory of its whole process tree
# (itself, the MediaPipe child and ffmpeg) every 0.2 s; it prints: peak tree RSS (KiB), frames.
TRACK_CHILD = """
import os, sys, threading
from engine.video import track_video

def tree(pid):
    out = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            for c in f.read().split():
                out += tree(int(c))
    except OSError:
        pass
    return out

def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0

peak, done = [0], threading.Event()
def sample():
    while not done.wait(0.2):
        peak[0] = max(peak[0], sum(rss_kib(p) for p in tree(os.getpid())))
threading.Thread(target=sample, daemon=True).start()
take = track_video(sys.argv[1])
done.set()
print(peak[0], take.clip.num_frames)
"""


def _missing(what: str) -> list:
    return [Row(SECTION, what, float("nan"), "", note=f"skipped: {VIDEOS} has no real clips")]


# A fixed single-core job run beside each measurement: the share of a core it gets says how loaded
# the machine was (1.0 on a quiet one), so runs on a shared machine can be compared.
REFERENCE_JOB = "sum(i * i for i in range(8_000_000))"

# The staged child: tracks the speed clip in one fresh process and prints what each stage cost.
STAGES_CHILD = """
import json, resource, sys, time
began = time.perf_counter()
from engine.video import track_video
imported = time.perf_counter() - began
take = track_video(sys.argv[1])
me = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps(dict(take.timings, imports_wall_s=imported, total_wall_s=time.perf_counter() - began,
                      engine_cpu_s=me.ru_utime + me.ru_stime)))
"""


def _timed(command: list, env: dict) -> tuple:
    """(wall seconds, CPU seconds of the process and its children, stdout) of one fresh process."""
    import resource

    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime), done.stdout


def reference_share(env: dict) -> float:
    """The share of one core the reference job got just now (CPU seconds over wall seconds)."""
    wall, cpu, _ = _timed([sys.executable, "-c", REFERENCE_JOB], env)
    return cpu / wall


def tracking_speed(quick: bool, out: Path = None) -> list:
    """`python -m engine track` on a 512² 25 fps clip, process start to clip written, beside a reference job;
    then one staged run that says where the time went."""
    import json

    clip = VIDEOS / SPEED_CLIP
    if not clip.is_file():
        return _missing("tracking speed")
    from ..video.decode import probe_video

    duration = probe_video(clip).duration
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "engine", "track", str(clip), "-o", str(Path(folder) / "take.npz")]
        for _ in range(1 if quick else 3):
            before = reference_share(env)
            wall, cpu, _ = _timed(command, env)
            runs.append((wall, cpu, 0.5 * (before + reference_share(env))))
    wall, cpu, share = min(runs)
    _, _, printed = _timed([sys.executable, "-c", STAGES_CHILD, str(clip)], env)
    t = json.loads(printed.strip().splitlines()[-1])
    alone = min(_landmarks_alone(clip) for _ in range(1 if quick else 3))
    return [Row(SECTION, f"track {SPEED_CLIP} (512², 25 fps, {duration:.0f} s), whole process", duration / wall,
                "x real time", "real time", 1.0, duration / wall, target=">= 4x on 2 cores",
                note=f"best of {len(runs)}: {wall:.1f} s wall, {cpu:.1f} CPU s over all processes (engine, MediaPipe "
                     f"child, ffmpeg); a reference job got {share:.0%} of a core meanwhile (100% on a quiet machine)"),
            Row(SECTION, "tracking stages (one staged run of the same clip)", t["total_wall_s"], "s wall",
                note=f"imports {t['imports_wall_s']:.2f} s; head ready {t['head_ready_wall_s']:.2f} s; last landmarks in "
                     f"{t['landmarks_done_wall_s']:.2f} s, every frame fitted {t['frames_fitted_wall_s']:.2f} s (times from "
                     f"the start of tracking); engine CPU {t['engine_cpu_s']:.2f} s of which identity "
                     f"{t['identity_cpu_s']:.2f} s and per-frame fit {t['frames_cpu_s']:.2f} s; MediaPipe child "
                     f"with ffmpeg {t['landmark_child_cpu_s']:.2f} CPU s"),
            Row(SECTION, "the MediaPipe child alone (with its ffmpeg), same clip: the bound on the whole process",
                duration / alone[0], "x real time", target="a whole process is slower",
                note=f"best of {1 if quick else 3}: {alone[0]:.2f} s wall, {alone[1]:.2f} CPU s; with the engine's own "
                     f"CPU ({t['engine_cpu_s']:.2f} s in the staged run) the 2 cores need at least "
                     f"{(alone[1] + t['engine_cpu_s']) / 2:.2f} s ({2 * duration / (alone[1] + t['engine_cpu_s']):.1f}x)")]


def _landmarks_alone(clip: Path) -> tuple:
    """(wall, CPU seconds) of the MediaPipe child and its ffmpeg finding every landmark of `clip`, no fit."""
    import json

    from ..video import decode
    from ..early_tracker import quiet_env
    from ..video.landmarks import WORKER, tracker_python, worker_job

    job = worker_job(decode.probe_video(clip))
    import resource

    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([tracker_python(), str(WORKER), json.dumps(job)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=quiet_env())
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)


def tracking_memory(quick: bool, out: Path = None) -> list:
    """Peak memory of the whole process tree tracking a long 1080p video (a real clip looped)."""
    source = VIDEOS / LONG_SOURCE
    if not source.is_file():
        return _missing("tracking memory")
    minutes = 0.5 if quick else 10.0
    with tempfile.TemporaryDirectory() as folder:
        long = Path(folder) / "long.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(source), "-t", str(60 * minutes),
                        "-an", "-c:v", "copy", str(long)], check=True)      # looped without re-encoding
        done = subprocess.run([sys.executable, "-c", TRACK_CHILD, str(long)], check=True, capture_output=True,
                              text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    peak_kib, frames = (float(x) for x in done.stdout.split()[-2:])
    per_frame = _stored_bytes_per_frame()
    return [Row(SECTION, f"peak memory tracking {minutes:g} min of 1080p 25 fps ({frames:.0f} frames)",
                peak_kib / 1024, "MB", target="10 min < 1,500 MB",
                note=f"process tree (engine, MediaPipe child, ffmpeg); frames stream one at a time, what is kept "
                     f"per frame (landmarks, fitted points, parameters) is {per_frame / 1024:.0f} KB")]


def _stored_bytes_per_frame() -> float:
    """What the tracker keeps per frame: MediaPipe points, targets, depths and fitted pixels, parameters."""
    points, K, params = 478 * 3 * 4 + 8, 468, 66
    return points + 2 * K * 2 * 8 + K * 8 + K * 4 + 2 * params * 8


def clip_accuracy(path: Path) -> dict:
    """Track one clip; its frames, median landmark error, lip-gap correlation, bridged frames, seconds."""
    from ..video import track_video
    from ..video.track import lip_gaps

    start = time.perf_counter()
    take = track_video(path)
    seconds = time.perf_counter() - start
    fitted, seen = lip_gaps(take.fit)
    ok = ~take.fit.bridged
    corr = float(np.corrcoef(fitted[ok], seen[ok])[0, 1]) if seen[ok].std() > 1e-6 else float("nan")
    return {"clip": path.name, "frames": take.clip.num_frames, "error": float(np.nanmedian(take.fit.error)),
            "lip_correlation": corr, "bridged": int(take.fit.bridged.sum()), "seconds": seconds,
            "fov": take.fit.fov_y, "take": take}


def real_clips(quick: bool, out: Path = None) -> list:
    """Landmark error and lip-gap correlation per real clip (quick: four clips)."""
    import warnings

    clips = [VIDEOS / n for n in QUICK_CLIPS] if quick else sorted(VIDEOS.glob("*.mp4"))
    clips = [c for c in clips if c.is_file()]
    if not clips:
        return _missing("real clips")
    from ..video.errors import VideoError

    rows, results = [], []
    for clip in clips:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                r = clip_accuracy(clip)
            except VideoError as refused:           # e.g. a full-body shot whose face the detector misses
                rows.append(Row(SECTION, f"{clip.name}: refused", float("nan"), "", note=str(refused)))
                continue
        results.append(r)
        rows.append(Row(SECTION, f"{r['clip']} ({r['frames']} frames)", 100 * r["error"], "% eye distance",
                        target="<= 3%", note=f"inner-lip gap vs MediaPipe's r = {r['lip_correlation']:.3f}; "
                                            f"{r['bridged']} bridged"))
    errors = [r["error"] for r in results]
    corrs = [r["lip_correlation"] for r in results]
    rows.insert(0, Row(SECTION, f"median landmark error over {len(results)} real clips", 100 * float(np.median(errors)),
                       "% eye distance", target="<= 3%", note=f"worst clip {100 * max(errors):.1f}%"))
    rows.insert(1, Row(SECTION, f"inner-lip gap correlation with MediaPipe's, median over {len(results)} clips",
                       float(np.nanmedian(corrs)), "r", target=">= 0.9", note=f"lowest {np.nanmin(corrs):.3f}"))
    return rows


def known_answers(quick: bool, out: Path = None) -> list:
    """The built-in head performing known parameters, rendered by the mesh renderer and in both
    shipped looks, tracked back: rotation error, inner-lip gap correlation, blinks found."""
    import warnings

    from ..video import track_video
    from . import video_known

    renders = [("mesh renderer", video_known.render_video)] + (
        [] if quick else [(f"look '{look}'", lambda p, look=look: video_known.render_look_video(p, look))
                          for look in ("toon", "clay")])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, render in renders:
            path = render(Path(folder) / "known.mp4")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = video_known.compare(track_video(path))
            pitch, yaw, roll = r["rotation_mean_deg"]
            rows.append(Row(SECTION, f"known answers, {name}: head rotation error (mean, pitch/yaw/roll)",
                            float(max(pitch, yaw, roll)), "deg", target="<= 3 deg",
                            note=f"pitch {pitch:.1f}, yaw {yaw:.1f}, roll {roll:.1f}; inner-lip gap r = "
                                 f"{r['lip_r']:.2f} with the truth (MediaPipe's own {r['mediapipe_lip_r']:.2f}; "
                                 f"target >= 0.95); blinks found {r['blinks_found']} of {len(video_known.BLINKS)}, "
                                 f"{r['false_blinks']} false frames"))
    return rows
