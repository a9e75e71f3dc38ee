"""The NeRF teacher's commands (run through `python -m engine.training.teachers`):

    nerf-fit  --look toon --frames 200 --size 128 --steps N --out runs/nerf_toon [--sheet docs/nerf_teacher.png]
    nerf-fit  --frames-from runs/nldf_toon --out runs/nerf_toon     (the run's look and size)
    nerf-eval runs/nerf_toon/checkpoint.pt --look toon --size 128 [--sheet docs/nerf_teacher.png]

nerf-fit renders a training set with the mesh teacher (`make_teacher_set`),
or takes the training frames of an NLDF run (--frames-from: the very frames
its student was distilled on, read from its cache), fits the NeRF teacher
into --out (resuming a run already there), then scores
it on held-out frames (out/eval.json). nerf-eval scores a checkpoint again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ....head import load_head
from ....progress import Reporter, TerminalBar
from .config import NeRFConfig
from .evaluate import evaluate_checkpoint, heldout_set
from .fit import fit_nerf
from .teacher_set import make_teacher_set

HELDOUT_FRAMES = 8


def parser() -> argparse.ArgumentParser:
    """The argument parser of both commands."""
    top = argparse.ArgumentParser(prog="python -m engine.training.teachers", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("nerf-fit", help="fit a NeRF teacher to mesh-teacher frames")
    fit.add_argument("--frames", type=int, default=200, help="training frames")
    fit.add_argument("--frames-from", metavar="NLDF_RUN",
                     help="fit on the teacher frames of this NLDF distillation run (its look and size) instead of "
                          "new ones")
    fit.add_argument("--steps", type=int, help="optimisation steps (default: the config's)")
    fit.add_argument("--out", required=True, help="run folder (config.json, checkpoint.pt, log.jsonl, eval.json)")
    fit.add_argument("--config", help="JSON with NeRFConfig fields (others keep their defaults)")
    fit.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override one config field")
    ev = sub.add_parser("nerf-eval", help="score a fitted NeRF teacher on held-out mesh-teacher frames")
    ev.add_argument("checkpoint")
    for command in (fit, ev):
        command.add_argument("--look", default="toon", help="mesh teacher look (toon, clay)")
        command.add_argument("--size", type=int, default=128, help="frame size in pixels (square)")
        command.add_argument("--driver", default="phonetic", help="speech driver of the motion (phonetic, energy)")
        command.add_argument("--seed", type=int, default=0, help="seed of the training set (held out: another)")
        command.add_argument("--heldout", type=int, default=HELDOUT_FRAMES, help="held-out frames to score on")
        command.add_argument("--sheet", help="write a mesh-teacher vs NeRF PNG of held-out frames here")
        command.add_argument("--threads", type=int, help="torch CPU threads (default: the config's)")
    return top


def resolved_config(args) -> NeRFConfig:
    """The config of a nerf-fit: --config file, then --set overrides, then --steps, --seed and --threads."""
    values = json.loads(Path(args.config).read_text()) if args.config else {}
    for item in args.set:
        key, _, value = item.partition("=")
        values[key] = json.loads(value)
    for key in ("steps", "seed", "threads"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    return NeRFConfig.from_dict(values)


def run(argv, distillation_set=None) -> int:
    """Run nerf-fit or nerf-eval with `argv` (without the program name); EngineErrors reach the caller.

    distillation_set: (NLDF run folder, head, reporter) -> (frames [F, H, W, 4], params [F], cameras [F],
    the run's NLDFConfig), for --frames-from: `engine.training.nldf.distill.distillation_set`, handed in
    by the program (`engine.training.teachers.__main__`) so that the teacher never imports its student.
    """
    args = parser().parse_args(argv)
    reporter, head = Reporter(TerminalBar()), load_head()
    if args.command == "nerf-fit":
        config = resolved_config(args)
        if args.frames_from:
            frames, params, cameras, run = distillation_set(Path(args.frames_from), head, reporter)
            args.look, args.size = run.look, run.image_size  # held-out frames in the run's look and size
        else:
            train = make_teacher_set(args.look, args.frames, args.size, args.seed, head, args.driver,
                                     reporter=reporter)
            frames, params, cameras = train.frames, train.params, train.cameras
        checkpoint = fit_nerf(frames, params, cameras, config, Path(args.out), reporter, head)
        out, threads = Path(args.out), config.threads
        print(f"wrote {checkpoint}")
    else:
        checkpoint, out, threads = Path(args.checkpoint), None, args.threads
    held = heldout_set(args.look, args.heldout, args.size, args.seed, head, args.driver, reporter)
    result = evaluate_checkpoint(checkpoint, held, out, Path(args.sheet) if args.sheet else None, threads, reporter)
    print(f"held-out PSNR {result['psnr_db']:.2f} dB on {result['frames']} frames at {result['size']} px; "
          + ", ".join(f"{k} px: {v:.0f} ms/frame" for k, v in result["ms_per_frame"].items()))
    return 0

