"""python -m engine.training.nldf distill --look toon --out runs/nldf_toon [--config run.json] [--set key=value ...]
   python -m engine.training.nldf export runs/nldf_toon/checkpoint.pt --out engine/models/nldf_toon
   python -m engine.training.nldf look-from-video talk.mp4 --out looks/NAME [--models MODELS_DIR]
   python -m engine.training.nldf faster-graph engine/models/nldf_toon.onnx [more .onnx ...]
   python -m engine.training.nldf score engine/models/nldf_clay.onnx [runs/x/checkpoint.pt ...] [--known-answers]"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from ...errors import EngineError, InputError
from ...progress import Reporter, TerminalBar
from ..config_file import key_values
from .config import NLDFConfig


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="python -m engine.training.nldf", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    di = sub.add_parser("distill", help="distil a teacher look into an NLDF student (continues a stopped run)")
    di.add_argument("--look", help="the look's name: the mesh teacher's look (toon, clay), or any name with "
                                   "--set teacher=NERF_CHECKPOINT; overrides the config's")
    di.add_argument("--config", help="JSON with NLDFConfig fields (others keep their defaults)")
    di.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override one field (VALUE as JSON, or a bare string)")
    di.add_argument("--out", required=True, help="run folder (config.json, checkpoint.pt, log.jsonl, teacher/)")
    ex = sub.add_parser("export", help="export a checkpoint to ONNX + sidecar (a look the engine can render)")
    ex.add_argument("checkpoint")
    ex.add_argument("--out", required=True, help="output path without suffix, e.g. engine/models/nldf_toon")
    ex.add_argument("--command", default="", help="the distillation command to record in the sidecar "
                                                   "(default: the run's config.json)")
    fg = sub.add_parser("faster-graph", help="rewrite exported looks' graphs in place into their faster, equivalent "
                                             "form (the same weights and pixels; export does it already)")
    fg.add_argument("looks", nargs="+", help="nldf_<look>.onnx files (their sidecars are updated)")
    add_look_from_video(sub)
    add_score(sub)
    args = parser.parse_args(argv)
    try:
        if args.command == "look-from-video":
            from .video_command import run_command

            run_command(args)
        elif args.command == "score":
            from .score import run_command as run_score

            run_score(args)
        elif args.command == "distill":
            from .distill import distill

            path = distill(read_config(args), Path(args.out), reporter=Reporter(TerminalBar()))
            print(f"wrote {path}")
        elif args.command == "faster-graph":
            from .export import rewrite_look

            for path in args.looks:
                print(f"rewrote {path} (largest RGBA difference {rewrite_look(Path(path)):.1g})")
        else:
            from .export import export

            recipe = args.command or recorded_command(Path(args.checkpoint), Path(args.out))
            onnx_path, sidecar = export(Path(args.checkpoint), Path(args.out), recipe=recipe)
            print(f"wrote {onnx_path} and {sidecar}")
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


def add_look_from_video(sub) -> None:
    """The look-from-video subcommand's arguments."""
    lv = sub.add_parser("look-from-video", help="make a look from a talking video: track, matte, fit a NeRF "
                                                "teacher, distil and export (resumes; prints its expected time)")
    lv.add_argument("video", help="a video of one face talking to the camera")
    lv.add_argument("--out", required=True, help="work folder; the look nldf_<name>.onnx/.json lands in it")
    lv.add_argument("--name", help="the look's name (default: the --out folder's name)")
    lv.add_argument("--models", help="also copy the look into this models folder (the add-on's, or engine/models)")
    lv.add_argument("--size", type=int, default=128, help="pixels of the square head crop the look learns (128)")
    lv.add_argument("--nerf-steps", type=int, help="NeRF teacher fit steps (default: NeRFConfig's)")
    lv.add_argument("--nldf-steps", type=int, help="NLDF distillation steps (default: NLDFConfig's)")
    lv.add_argument("--nerf-set", action="append", default=[], metavar="KEY=VALUE", help="a NeRFConfig field")
    lv.add_argument("--nldf-set", action="append", default=[], metavar="KEY=VALUE", help="an NLDFConfig field")
    lv.add_argument("--eval-frames", type=int, default=8, help="held-out frames scored against the real ones")
    lv.add_argument("--start", type=float, default=0.0, help="seconds into the video to start at")
    lv.add_argument("--end", type=float, help="seconds into the video to end at (default: its end)")
    lv.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    lv.add_argument("--estimate", action="store_true", help="print the expected time of each stage and stop")


def add_score(sub) -> None:
    """The score subcommand's arguments."""
    sc = sub.add_parser("score", help="score looks or checkpoints against their teacher on held-out frames "
                                      "(PSNR, mouth and eye boxes, sharpness; optionally the known answers)")
    sc.add_argument("candidates", nargs="+", help="exported looks (.onnx or an installed look's name) and "
                                                  "distillation checkpoints (.pt); the first one's config "
                                                  "chooses the held-out frames")
    sc.add_argument("--frames", type=int, default=16, help="held-out frames (16: a run's 8 and 8 more)")
    sc.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="change a field of the config the held-out frames are drawn with (e.g. image_size=512)")
    sc.add_argument("--cache", help="a teacher cache folder to read and keep the held-out frames in")
    sc.add_argument("--models-dir", help="a folder searched for looks given by name before the engine's")
    sc.add_argument("--known-answers", action="store_true",
                    help="also track the known performance rendered in each candidate (needs .venv-video)")
    sc.add_argument("--json", help="write the report here")
    sc.add_argument("--picture", help="write a side-by-side PNG here (teacher and each candidate)")
    sc.add_argument("--label", action="append", default=[], help="a candidate's name on the picture and table "
                                                                  "(in order; default its path)")


def read_config(args) -> NLDFConfig:
    """The run's config: --config file, then --look, then each --set."""
    try:
        values = json.loads(Path(args.config).read_text()) if args.config else {}
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"Cannot read the config '{args.config}' ({error}).") from None
    if args.look:
        values["look"] = args.look
    values.update(key_values(args.set, "--set"))
    return NLDFConfig.from_dict(values)


# fields that do not change the weights (keep_checkpoints is not one: a kept checkpoint_<step>.pt needs it)
BOOKKEEPING = {"cache_dir", "threads", "log_every", "checkpoint_every"}


def recorded_command(checkpoint: Path, out: Path) -> str:
    """The commands that remake the look from `checkpoint`: a distill with its config.json's fields that
    differ from the defaults (bookkeeping left out), then this export."""
    config = checkpoint.parent / "config.json"
    if not config.exists():
        return ""
    values, defaults = json.loads(config.read_text()), NLDFConfig().to_dict()
    sets = " ".join(f"--set {k}={shlex.quote(v if isinstance(v, str) else json.dumps(v))}"
                    for k, v in values.items() if v != defaults.get(k) and k not in BOOKKEEPING)
    run = shlex.quote(str(checkpoint.parent))
    return (f"python -m engine.training.nldf distill --out {run} {sets} && python -m engine.training.nldf "
            f"export {shlex.quote(str(checkpoint))} --out {shlex.quote(str(out))}")


if __name__ == "__main__":
    sys.exit(main())
