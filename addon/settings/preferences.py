"""The add-on's preferences (Edit > Preferences > Add-ons > Talking Head): device, models folder,
alias table; and the engine options read from them when Animate starts.

`bl_idname` is the add-on's package name (`ADDON_PACKAGE`, the package above this folder): `talking_head` as a
legacy add-on folder, `bl_ext.<repo>.talking_head` as an extension. Where
the add-on was registered without being enabled (scripts, tests), there are
no preferences and the defaults apply.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import bpy
from bpy.props import EnumProperty, StringProperty

from ..engine_link import engine, retarget

DEVICES = (
    ('AUTO', "Auto", "The GPU (onnxruntime's CUDA provider) where it works, else the CPU"),
    ('CPU', "CPU", "Always the CPU: works everywhere"),
    ('GPU', "GPU", "A CUDA GPU; animating fails with a sentence saying so where there is none"),
)
ADDON_PACKAGE = __package__.rpartition(".")[0]  # Blender keys preferences by the add-on's module
_ALIAS_CACHE: dict = {}  # (path, mtime) -> the merged alias table read from that file


class TalkingHeadPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_PACKAGE

    device: EnumProperty(name="Device", items=DEVICES, default='AUTO',
                         description="Where the neural networks (the ADF driver) run")
    models_dir: StringProperty(name="Models Folder", subtype='DIR_PATH',
                               description="A folder searched for models (adf.onnx and its adf_style.onnx) "
                                           "before the ones shipped with the add-on; empty: the shipped ones")
    alias_table: StringProperty(name="Alias Table", subtype='FILE_PATH',
                                description="A JSON file {channel or ARKit name: [your shape key names]}, "
                                            "e.g. {\"jawOpen\": [\"Kiefer_Auf\"]}, added to the names "
                                            "matched when keying by name")
    tracker_python: StringProperty(name="Tracker Python", subtype='FILE_PATH',
                                   description="A Python 3.11 or 3.12 with mediapipe 0.10.14 (e.g. the project's "
                                               ".venv-video) that finds the face in videos for Track Video and "
                                               "video style references; empty: the engine's own search")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "device")
        layout.prop(self, "models_dir")
        layout.prop(self, "alias_table")
        layout.prop(self, "tracker_python")


@dataclass(frozen=True)
class EngineOptions:
    """The preferences as the engine takes them: device "auto"/"cpu"/"gpu", an absolute models
    folder or None, and the retargeting alias table (None: the engine's own)."""

    device: str = "auto"
    models_dir: Optional[str] = None
    aliases: Optional[dict] = None


def of(context=None):
    """The add-on's preferences, or None where it is registered without being enabled."""
    addons = (context or bpy.context).preferences.addons
    entry = addons.get(ADDON_PACKAGE)
    return entry.preferences if entry is not None else None


def engine_options(context=None) -> EngineOptions:
    """The checked preferences; engine.InputError with one sentence for a missing models folder or
    an alias table that cannot be read."""
    prefs = of(context)
    if prefs is None:
        return EngineOptions()
    folder = models_dir(prefs)
    if folder is not None and not os.path.isdir(folder):
        raise engine.InputError(f"The models folder '{folder}' set in the Talking Head preferences does not "
                                "exist; choose an existing folder or clear the setting.")
    return EngineOptions(device=prefs.device.lower(), models_dir=folder, aliases=_aliases(prefs.alias_table))


def models_dir(prefs) -> Optional[str]:
    """The preferences' models folder as an absolute path, or None when unset."""
    return bpy.path.abspath(prefs.models_dir) if prefs is not None and prefs.models_dir.strip() else None


def tracker_python(context=None) -> Optional[str]:
    """The Tracker Python as an absolute path (None: the engine's own search); InputError when it names no file."""
    prefs = of(context)
    chosen = prefs.tracker_python.strip() if prefs is not None else ""
    if not chosen:
        return None
    path = bpy.path.abspath(chosen)
    if not os.path.isfile(path):
        raise engine.InputError(f"The Tracker Python '{path}' set in the Talking Head preferences does not exist; "
                                "choose a Python with mediapipe 0.10.14 or clear the setting.")
    return path


def retarget_aliases(context=None) -> Optional[dict]:
    """The alias table for retargeting by name (None: the engine's own); InputError when unreadable."""
    prefs = of(context)
    return _aliases(prefs.alias_table) if prefs is not None else None


def _aliases(path: str) -> Optional[dict]:
    """The engine's aliases merged with the JSON table at `path` (cached while the file is unchanged)."""
    if not path.strip():
        return None
    path = bpy.path.abspath(path)
    try:
        stamp = (path, os.stat(path).st_mtime_ns)
    except OSError:
        stamp = None  # read_alias_table says why in a sentence
    if stamp is None or stamp not in _ALIAS_CACHE:
        table = retarget.read_alias_table(path)
        _ALIAS_CACHE.clear()
        _ALIAS_CACHE[stamp] = table
    return _ALIAS_CACHE[stamp]


def register() -> None:
    bpy.utils.register_class(TalkingHeadPreferences)


def unregister() -> None:
    bpy.utils.unregister_class(TalkingHeadPreferences)
