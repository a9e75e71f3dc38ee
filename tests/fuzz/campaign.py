"""The long fuzz campaign (`python build.py fuzz`): mutate valid files and the hostile samples for a while,
each case in a limited child, and report cases and failures per loader.

    python -m tests.fuzz.campaign --seconds 180 --out out/fuzz

Failing inputs are kept under <out>/<loader>/ with what they did; the counts go to <out>/fuzz.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fuzz.loaders import LOADERS  # noqa: E402
from tests.fuzz.mutate import mutate, random_ops  # noqa: E402
from tests.fuzz.sandbox import run_case  # noqa: E402

HOSTILE = ROOT.parent / "shared" / "hostile"
HOSTILE_SEEDS = {".pkl": "flame_pickle", ".npz": "head_npz", ".csv": "arkit_csv", ".json": "clip_json",
                 ".wav": "audio", ".flac": "audio"}


def seeds_by_loader(folder: Path) -> dict:
    """Valid seeds of every loader (made here), plus the hostile samples where that folder exists."""
    seeds = {}
    for loader in LOADERS:
        made = folder / loader.name
        made.mkdir()
        seeds[loader.name] = loader.seeds(made)
    for path in sorted(HOSTILE.glob("*")) if HOSTILE.is_dir() else []:
        if path.suffix in HOSTILE_SEEDS:
            seeds[HOSTILE_SEEDS[path.suffix]].append(path.read_bytes())
        if path.name.startswith("clip_") and path.suffix == ".npz":
            seeds["clip_npz"].append(path.read_bytes())
    return seeds


def warm_up(seeds: dict, folder: Path) -> None:
    """Load one seed of each loader here, so the forked children find the engine's modules imported."""
    for loader in LOADERS:
        path = folder / f"warm{loader.suffix}"
        path.write_bytes(seeds[loader.name][0])
        loader.load(path)


def keep_failure(out: Path, loader, data: bytes, outcome) -> None:
    folder = out / loader.name
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    (folder / f"{name}{loader.suffix}").write_bytes(data)
    (folder / f"{name}.txt").write_text(f"{outcome.kind}: {outcome.detail}\n")


def campaign(seconds: float, out: Path, seed: int = 0) -> dict:
    """Fuzz every loader in turn for `seconds` in all; {loader: {"cases", "failures", outcome counts}}."""
    rng = random.Random(seed)
    counts = {loader.name: Counter() for loader in LOADERS}
    slowest = {loader.name: 0.0 for loader in LOADERS}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        seeds = seeds_by_loader(scratch)
        warm_up(seeds, scratch)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for loader in LOADERS:
                data = rng.choice(seeds[loader.name])
                case = mutate(data, random_ops(rng, data[:2] == b"PK"))
                outcome = run_case(loader.load, case, scratch / f"case{loader.suffix}")
                counts[loader.name][outcome.kind] += 1
                slowest[loader.name] = max(slowest[loader.name], outcome.seconds)
                if not outcome.good:
                    keep_failure(out, loader, case, outcome)
    return {name: {"cases": sum(c.values()), "failures": sum(v for k, v in c.items() if k not in ("ok", "refused")),
                   "slowest_s": round(slowest[name], 3), **dict(c)} for name, c in counts.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long to fuzz, all loaders (default 180)")
    parser.add_argument("--out", default=str(ROOT / "out" / "fuzz"), help="report folder (default out/fuzz)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    report = campaign(args.seconds, out, args.seed)
    total = {"seconds": round(time.monotonic() - started, 1), "loaders": report}
    (out / "fuzz.json").write_text(json.dumps(total, indent=2) + "\n")
    print(f"{'loader':16} {'cases':>7} {'ok':>6} {'refused':>8} {'failures':>9} {'slowest s':>10}")
    for name, row in report.items():
        print(f"{name:16} {row['cases']:7d} {row.get('ok', 0):6d} {row.get('refused', 0):8d} {row['failures']:9d} "
              f"{row['slowest_s']:10.2f}")
    failures = sum(row["failures"] for row in report.values())
    print(f"{sum(r['cases'] for r in report.values())} cases in {total['seconds']} s, {failures} failures"
          + (f" (inputs kept in {out})" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
