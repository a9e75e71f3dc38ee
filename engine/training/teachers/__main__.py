"""Teacher commands.

    python -m engine.training.teachers [out.png]      a picture of the teacher looks (docs/teacher_looks.png)
    python -m engine.training.teachers nerf-fit ...   fit a NeRF teacher to mesh-teacher frames
    python -m engine.training.teachers nerf-eval ...  score a fitted NeRF teacher on held-out frames

(`nerf-fit --help` and `nerf-eval --help` list their options.)
"""

from __future__ import annotations

import sys

from ...errors import EngineError
from .sheet import save_looks_sheet

DEFAULT_PATH = "docs/teacher_looks.png"
NERF_COMMANDS = ("nerf-fit", "nerf-eval")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in NERF_COMMANDS:
        from ..nldf.distill import distillation_set  # torch loads only for the NeRF commands
        from .nerf.command import run

        try:
            return run(argv, distillation_set)
        except EngineError as error:
            print(f"error: {error}", file=sys.stderr)
            return error.exit_code
    path = save_looks_sheet(argv[0] if argv else DEFAULT_PATH)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
