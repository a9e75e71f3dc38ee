"""Benchmark rows and the bench.md / bench.json report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional


@dataclass
class Row:
    """One figure: `value` in `unit`; with `baseline`, the ratio value/baseline (or its inverse)."""

    section: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: Optional[float] = None
    ratio: Optional[float] = None
    target: str = ""
    note: str = ""


def write_report(out: Path, rows: list, machine: str, when: str) -> Path:
    """Write bench.json (rows as dicts) and bench.md (one table per section); return bench.md."""
    (out / "bench.json").write_text(json.dumps({"machine": machine, "when": when,
                                                "rows": [asdict(r) for r in rows]}, indent=1))
    lines = ["# Benchmarks\n", f"{when} on {machine}. Ratios compare two things measured side by side "
             "in this run.\n"]
    for section in dict.fromkeys(r.section for r in rows):
        lines += [f"\n## {section}\n", "| measure | value | compared with | ratio | target | note |",
                  "|---|---|---|---|---|---|"]
        for r in (r for r in rows if r.section == section):
            base = f"{r.baseline_name}: {_fmt(r.baseline)} {r.unit}" if r.baseline is not None else ""
            ratio = f"{r.ratio:.1f}x" if r.ratio is not None else ""
            lines.append(f"| {r.name} | {_fmt(r.value)} {r.unit} | {base} | {ratio} | {r.target} | {r.note} |")
    path = out / "bench.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _fmt(x: Optional[float]) -> str:
    if x is None:
        return ""
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"
