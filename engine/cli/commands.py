"""The CLI's commands: each a `register(subparsers)` that adds a parser and its handler; `REGISTRY` lists them.

Here: head, clip, eval-lipsync and bench. The job commands (animate, render: job_commands.py; track:
track_command.py; batch: batch_command.py) only build an `engine.jobs` job from their arguments and run it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..jobs.rules import make_folder, read_clip, write_clip
from .arguments import FPS, LEAD_MS, SEED, ranged, reporter
from .batch_command import register_batch
from .job_commands import register_animate, register_render
from .track_command import register_track

MAX_ASSIGNED = 100.0   # an expression weight or a rotation in radians, as typed on the command line


def _parse_assignments(items, what: str) -> dict:
    """['name=1.0', 'jaw=0.2,0,0'] -> {'name': array}; InputError on a malformed or non-finite item."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = np.array([float(v) for v in value.split(",")], dtype=np.float64)
        except ValueError:
            raise InputError(f"Cannot read the {what} '{item}'; write it as NAME=VALUE "
                             "(or NAME=X,Y,Z for a joint rotation in radians).") from None
        if not np.all(np.abs(out[name.strip()]) <= MAX_ASSIGNED):  # also NaN
            raise InputError(f"The {what} '{item[:60]}' must be a finite number from -{MAX_ASSIGNED:g} "
                             f"to {MAX_ASSIGNED:g}.")
    return out


# -- head ---------------------------------------------------------------------------------------

def register_head(sub) -> None:
    head = sub.add_parser("head", help="inspect or export a head model").add_subparsers(
        dest="head_command", required=True, metavar="<head command>")
    info = head.add_parser("info", help="print a head's size, expressions and joints")
    info.add_argument("head", nargs="?", help="FLAME .pkl or head .npz (default: the built-in head)")
    info.set_defaults(handler=head_info)
    export = head.add_parser("export", help="write a head (any expression/pose) as OBJ or PLY")
    export.add_argument("-o", "--output", required=True, help="output .obj or .ply")
    export.add_argument("--head", help="FLAME .pkl or head .npz (default: the built-in head)")
    export.add_argument("--expression", "-e", action="append", metavar="NAME=VALUE",
                        help="an expression value, e.g. mouthSmileLeft=1 (repeatable)")
    export.add_argument("--pose", "-p", action="append", metavar="JOINT=X,Y,Z",
                        help="a joint's axis-angle rotation in radians, e.g. jaw=0.3,0,0 (repeatable)")
    export.add_argument("--clip", help="take expression and pose from this MotionClip")
    export.add_argument("--frame", type=ranged(int, 0, 10**9, "the frame"), default=0, help="clip frame (0-based) with --clip")
    export.set_defaults(handler=head_export)


def head_info(args) -> int:
    from ..head import load_head

    head = load_head(args.head)
    print(f"{head.name}: {head.num_vertices} vertices, {len(head.faces)} triangles, "
          f"{len(head.shape_names)} shape and {len(head.expression_names)} expression components")
    print("joints:", ", ".join(head.joint_names))
    print("expressions:", ", ".join(head.expression_names))
    return 0


def head_export(args) -> int:
    from ..head import load_head
    from ..head.meshio import write_obj, write_ply
    from ..head.model import JOINT_NAMES

    head = load_head(args.head)
    expression = np.zeros(len(head.expression_names), np.float32)
    pose = np.zeros((len(JOINT_NAMES), 3), np.float32)
    if args.clip:
        params = _clip_frame_params(args.clip, args.frame, head)
        expression, pose = params["expression"], params["pose"]
    for name, value in _parse_assignments(args.expression, "expression").items():
        expression[head.expression_index(name)] = value[0]
    for joint, value in _parse_assignments(args.pose, "pose").items():
        if joint not in JOINT_NAMES or value.shape != (3,):
            raise InputError(f"'{joint}' must be one of {', '.join(JOINT_NAMES)} with three values X,Y,Z.")
        pose[JOINT_NAMES.index(joint)] = value
    vertices, _ = head.forward(expression[None], pose[None])
    out = Path(args.output)
    writers = {".obj": write_obj, ".ply": write_ply}
    if out.suffix.lower() not in writers:
        raise InputError(f"Cannot write '{out.name}': use a .obj or .ply file name.")
    make_folder(out.parent)
    writers[out.suffix.lower()](out, vertices[0], head.faces, colors=head.vertex_colors)
    print(f"wrote {out} ({head.num_vertices} vertices)")
    return 0


def _clip_frame_params(path, frame: int, head) -> dict:
    clip = read_clip(path)
    if not 0 <= frame < clip.num_frames:
        raise InputError(f"Frame {frame} is outside the clip (0..{clip.num_frames - 1}).")
    params = clip.head_params(head)
    return {k: v[frame] for k, v in params.items()}


# -- clip ---------------------------------------------------------------------------------------

def register_clip(sub) -> None:
    clip = sub.add_parser("clip", help="inspect, convert or preview MotionClips").add_subparsers(
        dest="clip_command", required=True, metavar="<clip command>")
    info = clip.add_parser("info", help="print a clip's frames, rate and channels")
    info.add_argument("clip", help="a .npz or .json MotionClip, or an ARKit (Live Link Face) .csv")
    info.set_defaults(handler=clip_info)
    convert = clip.add_parser("convert", help="convert a clip between .npz, .json and ARKit .csv, "
                                              "optionally resampled")
    convert.add_argument("input", help="a .npz, .json or ARKit .csv clip")
    convert.add_argument("output", help="output .npz, .json or .csv (ARKit / Live Link Face layout)")
    convert.add_argument("--fps", type=FPS, help="resample to this frame rate (e.g. 23.976, 29.97, 60)")
    convert.set_defaults(handler=clip_convert)


def clip_info(args) -> int:
    clip = read_clip(args.clip)
    print(f"{Path(args.clip).name}: {clip.num_frames} frames at {clip.fps:g} fps "
          f"({clip.duration:.3f} s), start frame {clip.start_frame}, {len(clip.names)} channels")
    for k, name in enumerate(clip.names):
        column = clip.values[:, k]
        print(f"  {name:<24} min {column.min():+.4f}  max {column.max():+.4f}  mean {column.mean():+.4f}")
    if clip.metadata:
        print("metadata:", {k: _shown(v) for k, v in clip.metadata.items()})
    return 0


def _shown(value):
    """A metadata value for printing: a list of more than 8 items as its first 8 and a count."""
    if isinstance(value, list) and len(value) > 8:
        return f"[{', '.join(map(str, value[:8]))}, ... {len(value)} in all]"
    return value


def clip_convert(args) -> int:
    clip = read_clip(args.input)
    if args.fps:
        clip = clip.resample(args.fps)
    out = write_clip(clip, args.output)
    print(f"wrote {out} ({clip.num_frames} frames at {clip.fps:g} fps)")
    return 0


# -- eval-lipsync -------------------------------------------------------------------------------

def register_eval_lipsync(sub) -> None:
    from ..animate import available_drivers

    ev = sub.add_parser("eval-lipsync", help="score drivers against known phone timings on held-out "
                                             "synthetic (festival) speech")
    ev.add_argument("--clips", type=int, default=12, help="held-out sentences (default 12)")
    ev.add_argument("--driver", action="append", choices=sorted(available_drivers()) + ["phonetic+transcript"],
                    help="driver to score, repeatable (default: all; phonetic+transcript aligns the known text)")
    ev.add_argument("--fps", type=FPS, default=30.0, help="frame rate (default 30)")
    ev.add_argument("--seed", type=SEED, default=None, help="seed of the held-out sentences")
    ev.add_argument("--out", default="out", help="folder for eval_lipsync.json and .png (default out/)")
    ev.add_argument("--videos", default=None, help="real speech: a folder of talking videos (the held-out speakers "
                    "of ../shared/data/videos are used from it) or a manifest file (video[;speaker] a line); "
                    "each is tracked once (cached in OUT/real_speech/takes) and is the truth")
    ev.add_argument("--speech", default=None, help="with --videos: a folder laid out like ../shared/data/speech "
                    "whose recordings with known words score bilabial closure recall")
    ev.add_argument("--lead-ms", type=LEAD_MS, default=None, metavar="MS",
                    help="every driver's mouth lead on the sound (default: each driver's own)")
    ev.add_argument("--target-lead-ms", type=LEAD_MS, default=0.0, metavar="MS",
                    help="synthetic speech: the true mouth leads the true phones by this much (default 0)")
    ev.add_argument("--linear-reference", action="store_true",
                    help="with --videos a folder: instead of the drivers, how much of the tracked mouths a ridge map "
                    "of the audio explains, learnt from the training rows, from every other speaker, and by number "
                    "of speakers (OUT/linear_reference.json)")
    ev.set_defaults(handler=run_eval_lipsync)


def run_eval_lipsync(args) -> int:
    from ..animate import available_drivers
    from ..evaluation.lipsync import EVAL_SEED, evaluate_lipsync, heldout_clips, write_evaluation

    if args.linear_reference:
        return run_linear_reference(args)
    if args.videos is not None:
        return run_eval_lipsync_real(args)
    if not 1 <= args.clips <= 1000:
        raise InputError(f"--clips must be between 1 and 1000, not {args.clips}.")
    clips = heldout_clips(args.clips, EVAL_SEED if args.seed is None else args.seed)
    out = Path(args.out)
    drivers = args.driver or sorted(available_drivers()) + ["phonetic+transcript"]
    evaluation = evaluate_lipsync(clips, drivers=drivers, fps=args.fps, reporter=reporter(),
                                  plot=out / "eval_lipsync.png", lead_ms=args.lead_ms,
                                  target_lead_ms=args.target_lead_ms)
    path = write_evaluation(evaluation, out)
    print(f"{'driver':22} {'recall':>7} {'precision':>9} {'corr':>6} {'LVE mm':>7} {'x real time':>12}")
    for s in evaluation.scores:
        speed = f"{s.real_time:12.0f}" if s.wall_seconds > 0 else f"{'':12}"
        precision = f"{s.closure_precision:9.2f}" if s.closure_precision is not None else f"{'n/a':>9}"
        print(f"{s.driver:22} {s.closure_recall:7.2f} {precision} {s.opening_correlation:6.2f} "
              f"{s.lip_vertex_error_mm:7.2f} {speed}")
    print(f"wrote {path} and {out / 'eval_lipsync.png'}")
    return 0


def run_eval_lipsync_real(args) -> int:
    """eval-lipsync --videos: the drivers against tracked real talking videos."""
    from ..animate import available_drivers
    from ..evaluation.real import (evaluate_real_speech, held_out_videos, manifest_videos,
                                          plot_real_openings, real_closure_clips, write_real_evaluation)

    source = Path(args.videos)
    videos = held_out_videos(source) if source.is_dir() else manifest_videos(source)
    if not videos:
        raise InputError(f"'{source}' has none of the held-out videos; give a folder like ../shared/data/videos "
                         "or a manifest file.")
    known = real_closure_clips(Path(args.speech)) if args.speech else []
    drivers = args.driver or sorted(available_drivers()) + (["phonetic+transcript"] if known else [])
    out = Path(args.out)
    evaluation = evaluate_real_speech(videos, out / "real_speech" / "takes", drivers, known, reporter(),
                                      lead_ms=args.lead_ms)
    path = write_real_evaluation(evaluation, out)
    plot = plot_real_openings(out / "eval_lipsync_real.png", evaluation)
    print(f"{'driver':22} {'r lag 0':>8} {'r best':>7} {'lowest':>7} {'one lag':>11} {'LVE mm':>7} {'head sd':>8} "
          f"{'blinks/min':>10}")
    for r in evaluation.summary():
        if "r_best" in r:
            one = f"{r['r_common_lag']:.3f} ({r['common_lag']:+d})"
            print(f"{r['driver']:22} {r['r_lag0']:8.3f} {r['r_best']:7.3f} {r['r_best_lowest_speaker']:7.3f} "
                  f"{one:>11} {r['lip_error_mm']:7.2f} {r['head_sd_deg']:8.2f} {r['blinks_per_min']:10.1f}")
        else:
            print(f"{r['driver']:22} {'':8} {'':7} {'':7} {'':11} {'':7} {r['head_sd_deg']:8.2f} "
                  f"{r['blinks_per_min']:10.1f}")
    for s in evaluation.closure:
        print(f"closure recall on known words, {s.driver}: {s.closure_recall:.2f} ({s.bilabials} p/b/m)")
    for note in evaluation.skipped:
        print(f"skipped {note}")
    print(f"wrote {path} and {plot}")
    return 0


def run_linear_reference(args) -> int:
    """eval-lipsync --videos FOLDER --linear-reference (see engine.evaluation.linear_reference)."""
    import json

    from ..evaluation.linear_reference import linear_reference, reference_clips
    from ..evaluation.takes import real_videos

    if args.videos is None or not Path(args.videos).is_dir():
        raise InputError("--linear-reference needs --videos, a folder like ../shared/data/videos (its held-out "
                         "speakers are scored, its training rows are learnt from).")
    out = Path(args.out)
    clips, skipped = reference_clips(real_videos(Path(args.videos), "all"), out / "real_speech" / "takes", reporter())
    if not any(c.held_out for c in clips) or all(c.held_out for c in clips):
        raise InputError(f"'{args.videos}' needs both held-out videos and training rows of ../shared/data/videos "
                         "for the linear reference.")
    result = linear_reference(clips, reporter=reporter()) | {"skipped": skipped}
    out.mkdir(parents=True, exist_ok=True)
    path = out / "linear_reference.json"
    path.write_text(json.dumps(result, indent=2))
    for name in ("training_rows", "leave_one_speaker_out"):
        row = result[name]
        print(f"ridge map of the audio, learnt from {name.replace('_', ' ')} ({row['speakers']} speakers): "
              f"held-out best-lag r {row['r_best']:.3f} (lowest {row['r_best_lowest_speaker']:.3f}), "
              f"lag 0 {row['r_lag0']:.3f}")
    print("learning curve (speakers: best-lag r): " + ", ".join(f"{n}: {r:.3f}" for n, r in
                                                               result["learning_curve"].items()))
    for note in skipped:
        print(f"skipped {note}")
    print(f"wrote {path}")
    return 0


# -- bench --------------------------------------------------------------------------------------

def register_bench(sub) -> None:
    bench = sub.add_parser("bench", help="run the benchmarks and write bench.md and bench.json")
    bench.add_argument("--out", default="out", help="output folder (default out/)")
    bench.add_argument("--quick", action="store_true", help="smaller workloads (for smoke tests)")
    bench.add_argument("--extra", action="append", metavar="ROWS.json",
                       help="merge benchmark rows measured elsewhere (e.g. the add-on's, which need bpy)")
    bench.add_argument("--only", action="append", metavar="SUITE",
                       help="run only this suite (repeatable), e.g. 'adf network' or 'nldf vs nerf'")
    bench.set_defaults(handler=run_bench)


def run_bench(args) -> int:
    from ..bench import run_benchmarks

    report = run_benchmarks(Path(args.out), quick=args.quick, reporter=reporter(), extra=tuple(args.extra or ()),
                            only=tuple(args.only or ()))
    print(f"wrote {report}")
    return 0


REGISTRY = [register_animate, register_eval_lipsync, register_head, register_clip, register_bench, register_render, register_track,
            register_batch]
