"""Import the engine: bundled inside the extension, or beside the add-on in a development checkout; and the
engine subpackages the add-on reads that `import engine` does not load (`retarget`)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # the add-on folder (the zip puts engine/ beside engine_link/)

if (HERE / "engine" / "__init__.py").is_file():  # the extension zip ships the engine as a subpackage
    from .. import engine  # noqa: F401  (a missing wheel surfaces here as its own ImportError)
else:  # a development checkout: <repo>/addon and <repo>/engine side by side
    repo = str(HERE.parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    import engine  # noqa: F401

retarget = importlib.import_module(engine.__name__ + ".retarget")  # bundled or checkout engine alike
