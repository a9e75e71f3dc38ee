"""`python -m engine.training.nldf look-from-video`: its KEY=VALUE overrides and the run (`from_video`)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

from ...progress import Reporter
from ..config_file import key_values
from .from_video import LookSettings, look_from_video


def run_command(args) -> Optional[Path]:
    """`python -m engine.training.nldf look-from-video` (parsed args): make the look, copy it to --models."""
    from ...progress import TerminalBar

    out = Path(args.out)
    nerf, nldf = key_values(args.nerf_set, "--nerf-set"), key_values(args.nldf_set, "--nldf-set")
    if args.nerf_steps is not None:
        nerf["steps"] = args.nerf_steps
    if args.nldf_steps is not None:
        nldf["steps"] = args.nldf_steps
    settings = LookSettings(name=args.name or out.resolve().name, size=args.size, nerf=nerf, nldf=nldf,
                            eval_frames=args.eval_frames, start=args.start, end=args.end, threads=args.threads)
    path = look_from_video(args.video, out, settings, Reporter(TerminalBar()), estimate_only=args.estimate)
    if path is None:
        return None
    if args.models:
        models = Path(args.models)
        models.mkdir(parents=True, exist_ok=True)
        for suffix in (".json", ".onnx"):
            shutil.copyfile(path.with_suffix(suffix), models / path.with_suffix(suffix).name)
        print(f"installed the look '{settings.name}' in {models}")
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return path
