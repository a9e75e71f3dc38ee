"""Where drivers find their model files: the user's models folder first, then the ones shipped in engine/models."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import InputError

SHIPPED = Path(__file__).resolve().parents[1] / "models"  # engine/models


def check_models_dir(models_dir) -> Optional[Path]:
    """`models_dir` as a Path (None and "" are None); InputError when it names no existing folder."""
    if models_dir is None or str(models_dir) == "":
        return None
    path = Path(models_dir)
    if not path.is_dir():
        raise InputError(f"The models folder '{path}' does not exist; choose an existing folder or clear it.")
    return path


def user_model(file_name: str, models_dir=None) -> Optional[Path]:
    """`models_dir`/`file_name` when that file is there, else None (InputError for a missing folder)."""
    folder = check_models_dir(models_dir)
    candidate = folder / file_name if folder is not None else None
    return candidate if candidate is not None and candidate.is_file() else None


def find_model(file_name: str, models_dir=None) -> Optional[Path]:
    """The model file a driver loads: the user's (`models_dir`) when there, else the shipped one, else None.

    Looked up on every call, so a model installed while the program runs is found."""
    user = user_model(file_name, models_dir)
    if user is not None:
        return user
    shipped = SHIPPED / file_name
    return shipped if shipped.is_file() else None
