"""`python -m engine track`: a talking video in, a MotionClip (and its sidecar) out."""

from __future__ import annotations

import sys
from pathlib import Path

from ..jobs import TrackJob, run
from .arguments import reporter


def register_track(sub) -> None:
    track = sub.add_parser("track", help="track the face in a video into a MotionClip (video mocap)")
    track.add_argument("video", help="a video of a talking face (mp4, mov, mkv, webm, avi, ...)")
    track.add_argument("-o", "--output", required=True, help="output clip: .npz, .json or ARKit .csv "
                       "(per-frame camera and errors go to <name>.track.npz beside it)")
    track.add_argument("--head", help="FLAME .pkl or head .npz (default: the built-in head)")
    track.add_argument("--landmarks", help="MediaPipe landmark embedding .npz for a head that is not the built-in one")
    track.add_argument("--start", type=float, default=0.0, help="first second of the video to track")
    track.add_argument("--end", type=float, default=None, help="last second of the video to track")
    track.add_argument("--overlay", help="also write this .mp4: the fit drawn over the video, with its sound")
    track.set_defaults(handler=run_track)


def run_track(args) -> int:
    job = TrackJob(video=args.video, output=args.output, head=args.head, landmarks=args.landmarks,
                   start_s=args.start, end_s=args.end, overlay=args.overlay)
    result = run(job, reporter())
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _summary(result.take, result.path, result.overlay)
    return 0


def _summary(take, out: Path, overlay) -> None:
    clip, fit = take.clip, take.fit
    bridged = int(fit.bridged.sum())
    print(f"tracked {clip.num_frames} frames at {clip.fps:g} fps from {take.info.name}: median landmark error "
          f"{100 * clip.metadata['landmark_error_median']:.1f}% of the eye distance, {bridged} frames bridged")
    print(f"wrote {out}" + (f" and {overlay}" if overlay else ""))
