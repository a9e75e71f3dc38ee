"""The add-on's settings: one PropertyGroup on the scene, drawn by the panel."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from .engine_link import engine


DRIVER_LABELS = {
    "phonetic": ("Phonetic", "Recognised phones become coarticulated mouth shapes; lips close on p, b, m"),
    "energy": ("Audio energy", "Jaw and lips follow loudness and brightness (no phonemes)"),
}


def driver_items() -> list:
    """Enum items of the engine's drivers, the engine's default first (so it is the property default)."""
    names = sorted(engine.DRIVERS, key=lambda n: (n != engine.DEFAULT_DRIVER, n))
    return [(n, *DRIVER_LABELS.get(n, (n.title(), f"The {n} driver"))) for n in names]


# 5.0 asks file-path properties to declare that "//" (relative to the .blend) is allowed.
PATH_OPTIONS = {'PATH_SUPPORTS_BLEND_RELATIVE'} if bpy.app.version >= (5, 0, 0) else set()


def _is_mesh(_self, obj) -> bool:
    return obj.type == 'MESH'


class TalkingHeadSettings(bpy.types.PropertyGroup):
    audio_path: StringProperty(name="Audio", subtype='FILE_PATH', options=PATH_OPTIONS,
                               description="Voice clip to animate (WAV, FLAC, OGG, MP3)")
    target: PointerProperty(name="Head", type=bpy.types.Object, poll=_is_mesh,
                            description="Mesh whose shape keys (and armature) receive the keys")
    driver: EnumProperty(name="Driver", items=driver_items(), description="How speech becomes motion")
    seed: IntProperty(name="Seed", default=0, min=0, description="Seed of blinks, gaze and head sway")
    start_frame: IntProperty(name="Start Frame", default=1, description="Scene frame of the first audio frame")
    progress: FloatProperty(name="Progress", default=0.0, min=0.0, max=1.0, subtype='FACTOR')
    status: StringProperty(name="Status", default="")


def register() -> None:
    bpy.utils.register_class(TalkingHeadSettings)
    bpy.types.Scene.talking_head = PointerProperty(type=TalkingHeadSettings)


def unregister() -> None:
    del bpy.types.Scene.talking_head
    bpy.utils.unregister_class(TalkingHeadSettings)
