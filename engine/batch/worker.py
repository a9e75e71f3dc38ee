"""A local batch worker: `python -m engine.batch.worker`, started by `engine.batch.local.LocalPool`.

stdin, JSON lines: first the settings {"out", "device", "models_dir", "drivers", "core"}, then one
`BatchLine.to_json()` per line to do; it exits when stdin closes. stdout: one record (JSON) per line,
in the order given. Stray prints of the engine's libraries go to stderr, keeping stdout for records.
"""

from __future__ import annotations

import json
import os
import sys

from .lines import BatchLine
from .line_job import LineRunner


def main() -> int:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    settings = json.loads(sys.stdin.readline() or "null")
    if not isinstance(settings, dict):
        return 2
    if settings.get("core") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(settings["core"])})
    runner = LineRunner(settings["out"], settings.get("device", "auto"), settings.get("models_dir"))
    runner.warm_up(tuple(settings.get("drivers") or ()))
    for text in sys.stdin:
        record = runner.run(BatchLine.from_json(json.loads(text)))
        protocol.write(json.dumps(record) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
