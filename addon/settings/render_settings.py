"""The looks the Render settings choose from: which are installed, the one chosen (kept by name), and its
sidecar's camera fields. The settings' PropertyGroup itself is `render_properties`.

Looks are the engine's `nldf_<look>.onnx` files: in the models folder of the
preferences (searched first) and in the engine's own models folder. The chosen
look is kept by name, so installing or removing other looks does not change it.
"""

from __future__ import annotations

import importlib
import math

from . import preferences
from ..engine_link import engine

nldf = importlib.import_module(engine.__name__ + ".nldf")
nldf_look = importlib.import_module(engine.__name__ + ".nldf.look")
engine_files = importlib.import_module(engine.__name__ + ".files")
NO_LOOK = "NONE"
HOW_TO_MAKE_A_LOOK = ("No look is installed: make one with 'python -m engine.training.nldf distill', then "
                      "'export', and choose its folder as Models Folder in the Talking Head preferences.")
_ITEMS: list = []  # the look enum's items: Blender needs Python to keep the strings alive


def installed_looks(context=None) -> list:
    """Names of the looks installed in the preferences' models folder and the engine's, sorted."""
    folder = preferences.models_dir(preferences.of(context))
    return nldf.installed_looks(folder)


def look_items(_settings, context) -> list:
    """Enum items of the installed looks, numbered from 0 (a placeholder when there is none)."""
    looks = installed_looks(context)
    if not looks:
        _ITEMS[:] = [(NO_LOOK, "No look installed", HOW_TO_MAKE_A_LOOK, 'ERROR', 0)]
    else:
        _ITEMS[:] = [(name, name.replace("_", " ").title(), f"The look '{name}' (nldf_{name}.onnx)", 'SHADING_RENDERED',
                      k) for k, name in enumerate(looks)]
    return _ITEMS


def get_look(settings) -> int:
    """The enum's value: the number of the look named `settings.look_name` (the first look when it is gone)."""
    looks = installed_looks()
    return looks.index(settings.look_name) if settings.look_name in looks else 0


def set_look(settings, value: int) -> None:
    looks = installed_looks()
    settings.look_name = looks[value] if 0 <= value < len(looks) else ""


def chosen_look(settings, context=None) -> str:
    """The look to render: the one chosen if still installed, else the first installed, else ""."""
    looks = installed_looks(context)
    if settings.look_name in looks:
        return settings.look_name
    return looks[0] if looks else ""


SIDECAR_BYTES = 16 * 1024**2


def look_sidecar(look: str, models_dir=None) -> dict:
    """What the add-on reads of an installed look's sidecar: its trained camera range, and only where it is
    well-formed ({} when unreadable: the engine checks the whole sidecar, in its child, and says why when it
    renders); engine.ModelError when the look is not installed. Read bounded (size, nesting), never raising."""
    path = nldf_look.look_path(look, models_dir).with_suffix(".json")
    try:
        sidecar = engine_files.parse_json(engine_files.read_limited(path, SIDECAR_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return _camera_fields(sidecar) if isinstance(sidecar, dict) else {}


def _camera_fields(sidecar: dict) -> dict:
    """The sidecar's camera_range and training config yaw/pitch ranges that are numbers or [low, high] pairs,
    and its image_sizes and ray_stride when well-formed (what the add-on's camera and warnings use)."""
    def ranges(fields, keys):
        return {k: fields[k] for k in keys if isinstance(fields, dict) and _is_range(fields.get(k))}

    training = sidecar.get("training")
    config = training.get("config") if isinstance(training, dict) else None
    out = {"camera_range": ranges(sidecar.get("camera_range"), ("yaw", "pitch", "distance")),
           "training": {"config": ranges(config, ("yaw_range", "pitch_range"))}}
    sizes, stride = sidecar.get("image_sizes"), sidecar.get("ray_stride")
    if sizes == "any" or (isinstance(sizes, list) and sizes and all(_whole(n, 1, 8192) for n in sizes)):
        out["image_sizes"] = sizes
    if _whole(stride, 1, 64):
        out["ray_stride"] = stride
    return out


def _whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_range(value) -> bool:
    """A finite number, or a pair of finite numbers low <= high."""
    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e6
    return number(value) or (isinstance(value, list) and len(value) == 2 and all(map(number, value))
                             and value[0] <= value[1])
