"""python -m engine.training.corpus --out DIR --minutes 3 [--synthesizer festival] [--seed N] [--workers 2]

Builds (or resumes) a synthetic corpus with a progress bar and prints one
summary line. Exit codes: 0 done, 1 the job failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...errors import EngineError, InputError
from ...progress import Reporter, TerminalBar
from .build import build_corpus
from .config import CorpusConfig


def build_parser() -> argparse.ArgumentParser:
    """The command line's arguments."""
    parser = argparse.ArgumentParser(prog="python -m engine.training.corpus",
                                     description="Build a synthetic speech -> head motion corpus.")
    parser.add_argument("--out", required=True, help="corpus folder (created; re-run to resume)")
    parser.add_argument("--minutes", type=float, default=CorpusConfig.minutes, help="minutes of audio")
    parser.add_argument("--synthesizer", choices=("espeak", "festival"), default="espeak")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes making shards at once")
    parser.add_argument("--shard-seconds", type=float, default=CorpusConfig.shard_seconds)
    parser.add_argument("--config", help="JSON file of further CorpusConfig settings")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser


def config_from_args(args: argparse.Namespace) -> CorpusConfig:
    """The CorpusConfig the arguments ask for (a --config file, then the flags over it)."""
    values = {}
    if args.config:
        try:
            values = json.loads(Path(args.config).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"The config file '{args.config}' is unreadable ({error}).") from None
    values.update(minutes=args.minutes, synthesizer=args.synthesizer, seed=args.seed,
                  shard_seconds=args.shard_seconds)
    return CorpusConfig.from_dict(values)


def main(argv=None) -> int:
    """Run the command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        summary = build_corpus(config_from_args(args), args.out, args.workers, Reporter(TerminalBar()))
    except EngineError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("\ncancelled: the finished shards are kept; re-run to resume.", file=sys.stderr)
        return 1
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
