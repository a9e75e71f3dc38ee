"""Import the engine: bundled inside the extension, or beside the add-on in a development checkout."""

from __future__ import annotations

import sys
from pathlib import Path

try:  # the extension zip ships the engine as a subpackage of the add-on
    from . import engine  # noqa: F401
except ImportError:  # a development checkout: <repo>/addon and <repo>/engine side by side
    repo = str(Path(__file__).resolve().parent.parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    import engine  # noqa: F401
