"""python -m engine.training.adf train --config run.json --out runs/adf1 [--set key=value ...]
   python -m engine.training.adf export runs/adf1/checkpoint.pt --out engine/models/adf
   python -m engine.training.adf from-onnx engine/models/adf.onnx --out runs/adf_shipped
   python -m engine.training.adf train-style --config recipes/style_tracked.json --out runs/adf_style
   python -m engine.training.adf export-style runs/adf_style/checkpoint.pt --out engine/models/adf"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...errors import EngineError
from ...progress import Reporter, TerminalBar
from .config import ADFConfig


def _training_options(parser, config_help: str, out_help: str, required: bool) -> None:
    """A training command's --config, --set and --out."""
    parser.add_argument("--config", required=required, help=config_help)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override one field")
    parser.add_argument("--out", required=True, help=out_help)


def _export_options(parser, out_help: str) -> None:
    """An export command's checkpoint, --out, and what the sidecar records (--command, --quality)."""
    parser.add_argument("checkpoint")
    parser.add_argument("--out", required=True, help=out_help)
    parser.add_argument("--command", default="", help="the training command to record in the sidecar")
    parser.add_argument("--quality", help="a JSON file of measured quality figures to record in the sidecar")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.training.adf", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train a network on corpus folders")
    _training_options(tr, "JSON with ADFConfig fields (others keep their defaults)",
                      "run folder (config.json, checkpoint.pt, log.jsonl)", required=False)
    ex = sub.add_parser("export", help="export a checkpoint to ONNX + sidecar")
    _export_options(ex, "output path without suffix (writes .onnx and .json)")
    fo = sub.add_parser("from-onnx", help="a checkpoint (to fine-tune) from a shipped ONNX model and its sidecar")
    fo.add_argument("onnx")
    fo.add_argument("--out", required=True, help="run folder to write checkpoint.pt and config.json in")
    ts = sub.add_parser("train-style", help="train the style encoder alone (the network kept as it is)")
    _training_options(ts, "JSON with StyleConfig fields",
                      "run folder (config.json, targets.json, log.jsonl, checkpoint.pt)", required=True)
    es = sub.add_parser("export-style", help="export only a checkpoint's style encoder (out_style.onnx + .json)")
    _export_options(es, "the network's output path without suffix (writes out_style.*)")
    ts.set_defaults(style="train")
    es.set_defaults(style="export")     # (export's --command option shares the subcommand's name `command`)
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            from .train import train

            values = json.loads(Path(args.config).read_text()) if args.config else {}
            for item in args.set:
                key, _, value = item.partition("=")
                values[key] = json.loads(value)
            path = train(ADFConfig.from_dict(values), Path(args.out), Reporter(TerminalBar()))
            print(f"wrote {path}")
        elif getattr(args, "style", None):
            return _style_command(args)
        elif args.command == "from-onnx":
            from .from_onnx import checkpoint_from_onnx

            print(f"wrote {checkpoint_from_onnx(Path(args.onnx), Path(args.out))}")
        else:
            from .export import export

            quality = json.loads(Path(args.quality).read_text()) if args.quality else None
            onnx_path, sidecar = export(Path(args.checkpoint), Path(args.out), recipe=args.command, quality=quality)
            print(f"wrote {onnx_path} and {sidecar}")
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code if hasattr(error, "exit_code") else 1
    return 0


def _style_command(args) -> int:
    from ..config_file import key_values
    from .style_train import StyleConfig

    if args.style == "train":
        from .style_train import train_style

        values = {**json.loads(Path(args.config).read_text()), **key_values(args.set)}
        print(f"wrote {train_style(StyleConfig.from_dict(values), Path(args.out), Reporter(TerminalBar()))}")
        return 0
    from .export import export_style

    checkpoint = Path(args.checkpoint)
    quality = json.loads(Path(args.quality).read_text()) if args.quality else None
    run = checkpoint.parent      # a train-style run folder holds targets.json beside its config
    style_training = StyleConfig.load(run / "config.json").to_dict() if (run / "targets.json").is_file() else None
    print(f"wrote {export_style(checkpoint, Path(args.out), args.command, quality, style_training)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
