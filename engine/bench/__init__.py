"""Benchmarks: figures and side-by-side ratios, written to bench.md and bench.json.

Each benchmark is a function (quick: bool, out: Path) -> list[Row] (figures go to out); a ratio is always of
two things measured in the same run on the same machine. Rows from outside
the engine (the add-on's keying benchmark, which needs bpy) arrive as JSON
files passed with `extra`.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Optional

from ..errors import InputError
from ..progress import Reporter, silent
from .report import Row, write_report
from .suites import ELSEWHERE, SUITES


def run_benchmarks(out: Path, quick: bool = False, reporter: Optional[Reporter] = None,
                   extra: tuple = (), only: tuple = ()) -> Path:
    """Run every suite (or those named in `only`), merge `extra` JSON row files, write out/bench.md and
    out/bench.json. A name in `only` from `suites.ELSEWHERE` runs nothing here: its rows come in `extra`."""
    reporter = reporter or silent()
    names = [name for name, _ in SUITES] + list(ELSEWHERE)
    unknown = [name for name in only if name not in names]
    if unknown:
        raise InputError(f"Unknown benchmark suite '{unknown[0]}'; the suites are: {', '.join(names)}.")
    suites = [(name, suite) for name, suite in SUITES if not only or name in only]
    out.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    reporter.stage("benchmarks", len(suites))
    for name, suite in suites:
        reporter.advance(0, name)
        rows.extend(suite(quick, out))
        reporter.advance(1)
    for path in extra:
        rows.extend(Row(**r) for r in json.loads(Path(path).read_text()))
    machine = f"{platform.machine()}, {_cpu_count()} cores, Python {platform.python_version()}"
    return write_report(out, rows, machine=machine, when=time.strftime("%Y-%m-%d %H:%M"))


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
