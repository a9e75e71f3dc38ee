"""Benchmark enabling the add-on (Blender enables it at every start), beside `import bpy`, in fresh processes.

    python addon/scripts/bench_enable.py --out out/bench_enable.json [--quick]

For each Blender that `build.py setup` installed (bpy 4.2 in .venv-blender42, 5.0 in .venv, 5.2 in
.venv-blender52, 5.3 in .venv-blender53), a fresh Python per run imports bpy (the baseline: Blender's
own start) and then enables the checkout's add-on with addon_utils, as Blender does at start, from a
fresh user folder. Bytecode may be written and one warm-up run goes first, as at a user's every start
after the first. Writes benchmark rows (engine.bench.report.Row fields) as JSON; `build.py bench`
merges them into out/bench.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = "Scripts/python.exe" if os.name == "nt" else "bin/python"
BLENDERS = {"4.2": ROOT / ".venv-blender42", "5.0": ROOT / ".venv", "5.2": ROOT / ".venv-blender52",
            "5.3": ROOT / ".venv-blender53"}
ADDON = "talking_head"
CHILD = """
import json, time
t0 = time.perf_counter()
import bpy, addon_utils
t1 = time.perf_counter()
addon_utils.enable("talking_head", default_set=True, handle_error=lambda e: (_ for _ in ()).throw(e))
t2 = time.perf_counter()
assert hasattr(bpy.types.Scene, "talking_head")
print(json.dumps([t1 - t0, t2 - t1]))
"""


def enable_seconds(python: Path, user: Path, repeats: int) -> tuple[float, float]:
    """The fastest `import bpy` and add-on enabling (seconds) of `repeats` fresh processes of `python`."""
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(user))
    env.pop("PYTHONPATH", None)  # the add-on finds the checkout's engine itself (engine_link)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runs = []
    for _ in range(repeats + 1):
        run = subprocess.run([str(python), "-c", CHILD], cwd=user, env=env, capture_output=True, text=True,
                             timeout=300)
        if run.returncode != 0:
            raise RuntimeError(f"enabling the add-on failed in {python}: {run.stderr[-800:]}")
        runs.append(json.loads(run.stdout.strip().splitlines()[-1]))
    runs = runs[1:]  # the warm-up compiled the modules
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file for the rows")
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        user = Path(folder) / "user"
        (user / "scripts" / "addons").mkdir(parents=True)
        (user / "scripts" / "addons" / ADDON).symlink_to(ROOT / "addon", target_is_directory=True)
        for release, environment in BLENDERS.items():
            if not (environment / BIN).exists():
                print(f"bench_enable: {environment.name} is missing (build.py setup); Blender {release} skipped",
                      file=sys.stderr)
                continue
            bpy_import, enable = enable_seconds(environment / BIN, user, repeats)
            rows.append({"section": "Start-up", "name": f"enable the add-on, Blender {release} (fresh process)",
                         "value": enable, "unit": "s", "baseline_name": "import bpy", "baseline": bpy_import,
                         "ratio": enable / bpy_import, "target": "<= 0.2 s",
                         "note": f"best of {repeats}; addon_utils.enable of the checkout's add-on"})
    Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
