"""The add-on's settings: one PropertyGroup on the scene, drawn by the panel."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from .engine_link import engine


def _driver_items(_self, _context):
    labels = {"energy": ("Audio energy", "Jaw and lips follow loudness and brightness (no phonemes)")}
    return [(name, *labels.get(name, (name.title(), name))) for name in sorted(engine.animate.DRIVERS)]


def _is_mesh(_self, obj) -> bool:
    return obj.type == 'MESH'


class TalkingHeadSettings(bpy.types.PropertyGroup):
    audio_path: StringProperty(name="Audio", subtype='FILE_PATH',
                               description="Voice clip to animate (WAV, FLAC, OGG, MP3)")
    target: PointerProperty(name="Head", type=bpy.types.Object, poll=_is_mesh,
                            description="Mesh whose shape keys (and armature) receive the keys")
    driver: EnumProperty(name="Driver", items=_driver_items, description="How speech becomes motion")
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
