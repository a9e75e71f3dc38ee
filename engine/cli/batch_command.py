"""`python -m engine batch LINES --out DIR`: every line of a folder of voices or a CSV manifest -> clips."""

from __future__ import annotations

from ..batch import BatchJob, run
from ..batch.lines import FORMATS
from ..progress import Reporter, TerminalBar


def register_batch(sub) -> None:
    batch = sub.add_parser("batch", help="animate every line of a folder of voices or a CSV manifest, resumably, "
                                         "on local workers or a Ray cluster")
    batch.add_argument("lines", help="a folder of audio files, or a CSV manifest with the columns audio (required), "
                                     "id, transcript, style, fps, formats, look, driver, seed")
    batch.add_argument("--out", required=True, help="output folder: OUT/<line id>/ per line and OUT/summary.csv; "
                                                    "a rerun skips the lines already finished there")
    batch.add_argument("--workers", type=int, default=1, help="local worker processes (default 1; on a cluster: "
                                                              "actors, 0 = one per CPU of the cluster)")
    batch.add_argument("--cluster", metavar="ADDRESS", help="run the lines on a Ray cluster: 'auto', HOST:PORT, "
                       "ray://HOST:10001, or 'local' for one started on this machine (needs the cluster extra)")
    batch.add_argument("--fps", type=float, default=30.0, help="frame rate of lines that give none (default 30)")
    batch.add_argument("--formats", default="npz", help=f"outputs of lines that give none, comma-separated, of: "
                                                        f"{', '.join(FORMATS)} (default npz; csv is ARKit)")
    batch.add_argument("--driver", default=None, help="driver of lines that name none (default: the engine's)")
    batch.add_argument("--style", action="append", metavar="PRESET|NAME=VALUE", help="style of lines that give "
                       "none (repeatable)")
    batch.add_argument("--look", help="NLDF look of lines that name none (frames and video need one)")
    batch.add_argument("--size", type=int, default=256, help="rendered frame size in pixels (default 256)")
    batch.add_argument("--seed", type=int, default=0, help="seed of lines that give none")
    batch.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto", help="where networks run")
    batch.add_argument("--models-dir", help="a folder searched for models before the engine's")
    batch.set_defaults(handler=run_batch)


def run_batch(args) -> int:
    job = BatchJob(lines=args.lines, out=args.out, workers=args.workers, cluster=args.cluster, fps=args.fps,
                   formats=tuple(f.strip() for f in args.formats.split(",") if f.strip()), driver=args.driver,
                   style_items=tuple(args.style or ()), look=args.look, size=args.size, seed=args.seed,
                   device=args.device, models_dir=args.models_dir)
    result = run(job, Reporter(TerminalBar(delay=0.0)))
    skipped = f", {result.skipped} finished earlier" if result.skipped else ""
    print(f"{result.done} line{'' if result.done == 1 else 's'} done, {result.failed} failed{skipped} in "
          f"{result.seconds:.1f} s; wrote {result.summary}")
    return 1 if result.failed else 0
