"""Where the add-on keeps files between sessions: the extension's own user folder, as Blender asks of extensions.

The engine caches the built-in head's arrays on disk (engine/head/builtin/cache.py) in
the folder named by TALKING_HEAD_CACHE, else in the platform's user cache folder.
Installed as an extension, the add-on points it at
`extension_path_user(<package>, path="cache")` for Blender's own process and the engine
children it starts (they inherit the environment), unless the user already set it.
Loaded as a legacy add-on folder (development), it leaves the engine's default alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import bpy

CACHE_ENVIRONMENT = "TALKING_HEAD_CACHE"  # the name engine/head/builtin/cache.py reads (not imported: start-up)
_set_by_us: Optional[str] = None


def extension_folder(package: str, sub: str = "") -> Optional[Path]:
    """The extension's user folder (or its `sub` folder, created); None when not installed as an extension."""
    try:
        return Path(bpy.utils.extension_path_user(package, path=sub, create=True))
    except (ValueError, AttributeError, OSError):  # a legacy add-on folder, or a folder that cannot be made
        return None


def register(package: str) -> None:
    """Point the engine's cache at the extension's user folder, unless the user chose a folder (or none)."""
    global _set_by_us
    if CACHE_ENVIRONMENT in os.environ:
        return
    folder = extension_folder(package, "cache")
    if folder is not None:
        _set_by_us = os.environ[CACHE_ENVIRONMENT] = str(folder)


def unregister() -> None:
    """Take back what register set (a value the user set since is theirs and stays)."""
    global _set_by_us
    if _set_by_us is not None and os.environ.get(CACHE_ENVIRONMENT) == _set_by_us:
        del os.environ[CACHE_ENVIRONMENT]
    _set_by_us = None
