"""The add-on's settings: one PropertyGroup on the scene, drawn by the panel."""

from __future__ import annotations

import importlib

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from . import audio_source, preferences, render_properties
from ..blender import existing_action
from ..engine_link import jobs
from ..engine_link import engine

STYLE = engine.style
DRIVERS = {d.name: d for d in importlib.import_module(engine.__name__ + ".drivers.registry").DRIVERS}
# Stable enum numbers (the scene stores the number): the engine's default first, so it is the default.
DRIVER_ORDER = [engine.default_driver()] + [n for n in DRIVERS if n != engine.default_driver()]
_DRIVER_ITEMS: list = []  # Blender needs Python to keep a dynamic enum's strings alive
PRESET_DESCRIPTIONS = {
    "neutral": "Even, everyday speech", "subtle": "Small mouth, little head motion, few blinks",
    "expressive": "Big mouth shapes, lively brows and head", "happy": "Smiling, lifted brows",
    "serious": "Frowning a little, lowered brows, a still head",
}
OVERRIDE_NOTE = ("Ticked, this value replaces the preset's (or the reference clip's); unticked, the preset's "
                 "value applies and is shown here")
# The intensity sliders: SpeakingStyle parameter -> (label, what it does).
INTENSITIES = {
    "articulation": ("Lips", "How far mouth and jaw move (0 still, 1 neutral, 2 exaggerated)"),
    "head_motion": ("Head Motion", "Energy of the head's nods and sway (0 still, 1 neutral)"),
    "brow_accent": ("Brows", "How strongly stressed syllables lift the brows (0 never, 1 neutral)"),
    "blink_rate": ("Blinks", "Blinks per minute (17 neutral)"),
}


def available_drivers(context=None) -> list:
    """Names of the drivers that can run, with the preferences' models folder (the adf model may be there)."""
    folder = preferences.models_dir(preferences.of(context))
    try:
        drivers = engine.available_drivers(folder)
    except engine.EngineError:  # a models folder that does not exist: Animate says so
        drivers = engine.available_drivers()
    return [n for n in DRIVER_ORDER if n in drivers] + sorted(n for n in drivers if n not in DRIVER_ORDER)


def driver_items(_self=None, context=None) -> list:
    """Enum items of the drivers that can run now, each with a stable number."""
    order = DRIVER_ORDER + sorted(n for n in engine.available_drivers() if n not in DRIVER_ORDER)
    _DRIVER_ITEMS[:] = [(n, DRIVERS[n].title, DRIVERS[n].summary, order.index(n)) for n in available_drivers(context)]
    return _DRIVER_ITEMS


def preset_items() -> list:
    return [(n, n.title(), PRESET_DESCRIPTIONS.get(n, f"The {n} preset")) for n in STYLE.PRESETS]


def _fill_from_preset(settings, _context) -> None:
    """A preset shows its values on the sliders that do not override it."""
    values = STYLE.preset(settings.style_preset).to_dict()
    for name in INTENSITIES:
        if not getattr(settings, "use_" + name):
            setattr(settings, name, values[name])


def _intensity(name: str) -> FloatProperty:
    label, meaning = INTENSITIES[name]
    low, high = STYLE.RANGES[name]
    return FloatProperty(name=label, default=getattr(STYLE.NEUTRAL, name), min=low, max=high,
                         description=f"{meaning}. {OVERRIDE_NOTE}")


def _override(name: str) -> BoolProperty:
    return BoolProperty(name=f"Override {INTENSITIES[name][0]}", default=False,
                        description=f"Use this {INTENSITIES[name][0].lower()} value instead of the preset's")


# 5.0 asks file-path properties to declare that "//" (relative to the .blend) is allowed.
PATH_OPTIONS = {'PATH_SUPPORTS_BLEND_RELATIVE'} if bpy.app.version >= (5, 0, 0) else set()


def _is_mesh(_self, obj) -> bool:
    return obj.type == 'MESH'


class TalkingHeadSettings(bpy.types.PropertyGroup):
    audio_source: EnumProperty(name="Voice From", items=audio_source.SOURCES, default='FILE',
                               description="Where the voice comes from")
    audio_path: StringProperty(name="Audio", subtype='FILE_PATH', options=PATH_OPTIONS,
                               description="Voice clip to animate (WAV, FLAC, OGG, MP3)")
    sound_strip: EnumProperty(name="Strip", items=audio_source.strip_items, get=audio_source.get_strip,
                              set=audio_source.set_strip,
                              description="The sequencer's sound strip to animate from; it is left as it is")
    sound_strip_name: StringProperty(name="Strip Name", default="", options={'HIDDEN'})
    use_strip_start: BoolProperty(name="Start at Strip", default=True,
                                  description="Key the head from the strip's first frame, in sync with its sound "
                                              "(untick to start at Start Frame)")
    target: PointerProperty(name="Head", type=bpy.types.Object, poll=_is_mesh,
                            description="Mesh whose shape keys (and armature) receive the keys")
    driver: EnumProperty(name="Driver", items=driver_items, description="How speech becomes motion")
    seed: IntProperty(name="Seed", default=0, min=0, description="Seed of blinks, gaze and head sway")
    start_frame: IntProperty(name="Start Frame", default=1, description="Scene frame of the first audio frame")
    style_preset: EnumProperty(name="Style", items=preset_items(), default="neutral", update=_fill_from_preset,
                               description="The speaking style: how the voice is performed")
    style_clip: StringProperty(name="Reference Clip", subtype='FILE_PATH', options=PATH_OPTIONS,
                               description="A MotionClip (.npz, .json) or a talking video (tracked first) whose "
                                           "speaking style the ADF driver takes instead of the preset's (the "
                                           "sliders that are ticked still apply)")
    use_articulation: _override("articulation")
    articulation: _intensity("articulation")
    use_head_motion: _override("head_motion")
    head_motion: _intensity("head_motion")
    use_brow_accent: _override("brow_accent")
    brow_accent: _intensity("brow_accent")
    use_blink_rate: _override("blink_rate")
    blink_rate: _intensity("blink_rate")
    existing_action: EnumProperty(name="Existing Action", items=existing_action.MODES,
                                  default=existing_action.PUSH_TO_NLA,
                                  description="What Animate does with an Action of yours already on the head "
                                              "or its rig")
    progress: FloatProperty(name="Progress", default=0.0, min=0.0, max=1.0, subtype='FACTOR')
    status: StringProperty(name="Status", default="")
    render: PointerProperty(type=render_properties.TalkingHeadRenderSettings, name="Render")


def style_items(settings) -> tuple:
    """The style as the CLI's `--style` items: the preset (unless a reference clip gives the base
    style), then NAME=VALUE for each ticked slider, which so overrides the preset's value."""
    items = [] if uses_reference_clip(settings) else [settings.style_preset]
    items += [f"{name}={getattr(settings, name)!r}" for name in INTENSITIES if getattr(settings, "use_" + name)]
    return tuple(items)


def uses_reference_clip(settings) -> bool:
    """True when the reference clip gives the style: one is set and the ADF driver reads it."""
    return bool(settings.style_clip.strip()) and jobs.reads_reference(settings.driver)  # the engine job's rule


def register() -> None:
    for cls in render_properties.CLASSES:  # nested in TalkingHeadSettings: registered first
        bpy.utils.register_class(cls)
    bpy.utils.register_class(TalkingHeadSettings)
    bpy.types.Scene.talking_head = PointerProperty(type=TalkingHeadSettings)


def unregister() -> None:
    del bpy.types.Scene.talking_head
    bpy.utils.unregister_class(TalkingHeadSettings)
    for cls in reversed(render_properties.CLASSES):
        bpy.utils.unregister_class(cls)
