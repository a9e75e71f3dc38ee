"""Write a picture of the teacher looks: `python -m engine.training.teachers [out.png]`."""

from __future__ import annotations

import sys

from .sheet import save_looks_sheet

DEFAULT_PATH = "docs/teacher_looks.png"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = save_looks_sheet(argv[0] if argv else DEFAULT_PATH)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
