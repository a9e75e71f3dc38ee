"""The training extra's benchmark suites (they need torch), run apart from the engine's bench:

    python -m engine.training.bench --out out/bench_training.json [--quick]

writes their rows (`engine.bench.report.Row` fields) as JSON and their figures beside it; `build.py
bench` passes the file to `python -m engine bench` with `--extra`, as it does the add-on's bpy benches.
So training depends on the bench (its rows, renderers, timing loop) and the bench never imports training:
the runtime, and the Blender extension that ships without training/, cannot reach torch through it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from .nldf import video_bench
from .teachers.nerf import bench as nerf_bench

SUITES = [("nldf vs nerf", nerf_bench.nldf_vs_nerf), ("look from video", video_bench.look_from_video_rows)]


def run(out: Path, quick: bool = False, only: tuple = ()) -> list:
    """The rows [R] of every training suite (or of those named in `only`; other names are the engine
    bench's), its figures written into folder `out`."""
    out.mkdir(parents=True, exist_ok=True)
    return [row for name, suite in SUITES if not only or name in only for row in suite(quick, out)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.training.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output JSON file of rows (figures go beside it)")
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    parser.add_argument("--only", action="append", default=[], help="run only this suite (repeatable)")
    args = parser.parse_args(argv)
    target = Path(args.out)
    rows = run(target.parent, args.quick, tuple(args.only))
    target.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
