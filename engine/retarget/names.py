"""Retargeting by name: clip channels onto a rig's shape keys, whatever the rig's spelling.

Names are compared by `name_key`, which ignores case, separators, namespaces
and how the side is written, so all of these are one name:

    eyeBlinkLeft  EyeBlinkLeft  eyeBlink_L  eye_blink_left  EyeBlink_Left  eyeBlinkL
    eyeBlink.L  L_eyeBlink  blendShape1.eyeBlinkLeft  A14_Eye_Blink_Left

Rigs whose vocabulary differs from ARKit's (Reallusion CC4, VRoid/VRM,
Faceware-style controls, VRChat's visemes) go through `ALIASES`: a target name -> the clip
channels (with weights) that drive it, e.g. VRM's `Blink` is half of each
eye's blink. Sides are the subject's own, as in ARKit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import InputError
from ..motion.arkit import ARKIT_BLENDSHAPES
from .mapping import Mapping

_NAMESPACE = re.compile(r"^.*[.:|](?!(?:l|r|left|right|\d+)$)", re.IGNORECASE)  # "ns:", "blendShape1.", not ".L"
_NUMBERED_PREFIX = re.compile(r"^[A-Za-z]\d{2}_")                       # CC3's "A14_Eye_Blink_Left"
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SIDES = {"l": "left", "left": "left", "r": "right", "right": "right"}


def name_key(name: str) -> str:
    """The comparison key of a name: lower-case words, side last ('EyeBlink_L' -> 'eyeblinkleft')."""
    text = _NUMBERED_PREFIX.sub("", _NAMESPACE.sub("", str(name).strip()))
    words = [w.lower() for w in _WORDS.findall(text)]
    side = ""
    if len(words) > 1 and words[-1] in _SIDES:
        side = _SIDES[words.pop()]
    elif len(words) > 1 and words[0] in _SIDES:
        side = _SIDES[words.pop(0)]
    return "".join(words) + side


def _both(channel: str) -> tuple:
    """Half of each side's channel: a two-sided target driven by 'xLeft' and 'xRight'."""
    return ((channel + "Left", 0.5), (channel + "Right", 0.5))


def _sided(target: str, channel: str) -> dict:
    """{target_L: channelLeft, target_R: channelRight} (`name_key` makes '_l', 'Left', ... the same)."""
    return {target + "_L": ((channel + "Left", 1.0),), target + "_R": ((channel + "Right", 1.0),)}


def _both_sides(target: str, channel: str) -> dict:
    """{target_L: channel, target_R: channel}: one unsided channel drives both halves."""
    return {target + "_L": ((channel, 1.0),), target + "_R": ((channel, 1.0),)}


# VRChat avatars' spelling of the Oculus visemes (`vrc.v_pp` is `viseme_PP`, see `rig_visemes`).
VRCHAT_VISEMES = {f"vrc.v_{short}": f"viseme_{ours}" for short, ours in (
    ("sil", "sil"), ("pp", "PP"), ("ff", "FF"), ("th", "TH"), ("dd", "DD"), ("kk", "kk"), ("ch", "CH"),
    ("ss", "SS"), ("nn", "nn"), ("rr", "RR"), ("aa", "aa"), ("e", "E"), ("ih", "I"), ("oh", "O"), ("ou", "U"))}

# A target name -> ((clip channel, weight), ...). Names matching a channel by `name_key` need no entry.
ALIASES: dict = {
    # One target for both sides (VRM presets, single-sided rigs).
    "Blink": _both("eyeBlink"), "EyeBlink": _both("eyeBlink"), "MouthSmile": _both("mouthSmile"),
    "MouthFrown": _both("mouthFrown"), "BrowDown": _both("browDown"), "BrowOuterUp": _both("browOuterUp"),
    "EyeSquint": _both("eyeSquint"), "EyeWide": _both("eyeWide"), "NoseSneer": _both("noseSneer"),
    "CheekSquint": _both("cheekSquint"), "MouthStretch": _both("mouthStretch"),
    "MouthPress": _both("mouthPress"), "MouthDimple": _both("mouthDimple"),
    # VRM 0.x / 1.0 presets.
    **_sided("Blink", "eyeBlink"),
    "LookUp": _both("eyeLookUp"), "LookDown": _both("eyeLookDown"),
    "LookLeft": (("eyeLookOutLeft", 0.5), ("eyeLookInRight", 0.5)),
    "LookRight": (("eyeLookInLeft", 0.5), ("eyeLookOutRight", 0.5)),
    "A": (("jawOpen", 1.0),), "aa": (("jawOpen", 1.0),), "U": (("mouthPucker", 1.0),), "ou": (("mouthPucker", 1.0),),
    "O": (("mouthFunnel", 1.0),), "oh": (("mouthFunnel", 1.0),),
    "I": _both("mouthStretch"), "ih": _both("mouthStretch"), "E": _both("mouthStretch"), "ee": _both("mouthStretch"),
    # VRoid mesh keys (Fcl_*).
    "Fcl_EYE_Close": _both("eyeBlink"), **_sided("Fcl_EYE_Close", "eyeBlink"),
    "Fcl_EYE_Surprised": _both("eyeWide"), "Fcl_BRW_Angry": _both("browDown"),
    "Fcl_BRW_Surprised": (("browInnerUp", 1.0),), "Fcl_MTH_Close": (("mouthClose", 1.0),),
    "Fcl_MTH_A": (("jawOpen", 1.0),), "Fcl_MTH_U": (("mouthPucker", 1.0),), "Fcl_MTH_O": (("mouthFunnel", 1.0),),
    "Fcl_MTH_I": _both("mouthStretch"), "Fcl_MTH_E": _both("mouthStretch"),
    "Fcl_MTH_Joy": _both("mouthSmile"), "Fcl_MTH_Sorrow": _both("mouthFrown"),
    # Reallusion CC4 (the ARKit-named CC3 set already matches by name).
    **_both_sides("Brow_Raise_Inner", "browInnerUp"), **_sided("Brow_Raise_Outer", "browOuterUp"),
    **_sided("Brow_Drop", "browDown"), **_sided("Cheek_Raise", "cheekSquint"),
    **_both_sides("Cheek_Puff", "cheekPuff"),
    **_both_sides("Mouth_Pucker_Up", "mouthPucker"), **_both_sides("Mouth_Pucker_Down", "mouthPucker"),
    **_both_sides("Mouth_Funnel_Up", "mouthFunnel"), **_both_sides("Mouth_Funnel_Down", "mouthFunnel"),
    **_both_sides("Mouth_Roll_In_Upper", "mouthRollUpper"), **_both_sides("Mouth_Roll_In_Lower", "mouthRollLower"),
    "Eye_L_Look_Up": (("eyeLookUpLeft", 1.0),), "Eye_R_Look_Up": (("eyeLookUpRight", 1.0),),
    "Eye_L_Look_Down": (("eyeLookDownLeft", 1.0),), "Eye_R_Look_Down": (("eyeLookDownRight", 1.0),),
    "Eye_L_Look_L": (("eyeLookOutLeft", 1.0),), "Eye_L_Look_R": (("eyeLookInLeft", 1.0),),
    "Eye_R_Look_L": (("eyeLookInRight", 1.0),), "Eye_R_Look_R": (("eyeLookOutRight", 1.0),),
    # Faceware-style controls.
    **_sided("eyes_blink", "eyeBlink"), **_sided("eyes_squint", "eyeSquint"),
    **_sided("eyes_wide", "eyeWide"), **_sided("brows_down", "browDown"),
    **_sided("brows_up", "browOuterUp"), "brows_inner_up": (("browInnerUp", 1.0),),
    **_sided("mouth_corner_up", "mouthSmile"),
    **_sided("mouth_corner_down", "mouthFrown"),
    **_sided("mouth_corner_wide", "mouthStretch"),
    "mouth_narrow": (("mouthPucker", 1.0),), "mouth_lips_close": (("mouthClose", 1.0),),
    # VRChat visemes.
    **{alias: ((viseme, 1.0),) for alias, viseme in VRCHAT_VISEMES.items()},
}


def map_by_name(clip_channels, target_names, aliases=None) -> Mapping:
    """Map clip channels onto target names: equal `name_key`s first, then the alias table.

    clip_channels [C] and target_names [K] are strings; `aliases` maps a target
    name to a channel name or to [(channel, weight), ...] (None: `ALIASES`;
    to extend it, pass `{**ALIASES, ...}`). A target is driven by every clip
    channel with its key, else by its alias's channels that the clip has.
    Channels that drive nothing are `Mapping.unmapped`.
    """
    channels = [str(c) for c in clip_channels]
    by_key = {}
    for channel in channels:
        by_key.setdefault(name_key(channel), channel)
    table = ALIASES if aliases is None else aliases
    alias_table = {name_key(alias): _alias_terms(terms) for alias, terms in table.items()}
    targets = {c: [] for c in channels}
    for target in target_names:
        key = name_key(target)
        if not key:
            continue
        if key in by_key:
            targets[by_key[key]].append((str(target), 1.0))
            continue
        for channel, weight in alias_table.get(key, ()):
            if name_key(channel) in by_key:
                targets[by_key[name_key(channel)]].append((str(target), weight))
    return Mapping(targets={c: t for c, t in targets.items() if t},
                   unmapped=[c for c in channels if not targets[c]], method="name")


def _alias_terms(terms) -> tuple:
    """An alias's value as ((channel, weight), ...): a bare channel name has weight 1."""
    if isinstance(terms, str):
        return ((terms, 1.0),)
    return tuple((str(channel), float(weight)) for channel, weight in terms)


def with_user_aliases(table: dict, base: dict | None = None) -> dict:
    """`base` (None: `ALIASES`) extended by a user's alias table, for `map_by_name(aliases=...)`.

    `table` is {channel: [alias, ...]}: a channel of ours or an ARKit shape
    (any spelling `name_key` accepts) and the shape-key names that channel
    drives with weight 1 on the user's rigs. A user's alias replaces a
    built-in alias of the same name. InputError for a malformed table, an
    unknown channel, or an alias listed under two channels.
    """
    known = {name_key(n): n for n in ARKIT_BLENDSHAPES}
    if not isinstance(table, dict):
        raise InputError("The alias table must be a JSON object: {channel name: [shape key names]}.")
    extra, owner = {}, {}
    for channel, aliases in table.items():
        if name_key(channel) not in known:
            raise InputError(f"The alias table names '{channel}', which is not one of our channels or an ARKit "
                             "shape (e.g. jawOpen, eyeBlinkLeft); correct the name.")
        aliases = [aliases] if isinstance(aliases, str) else aliases
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise InputError(f"The alias table's entry for '{channel}' must be a list of shape key names.")
        for alias in aliases:
            if owner.setdefault(name_key(alias), channel) != channel:
                raise InputError(f"The alias table lists '{alias}' under both '{owner[name_key(alias)]}' and "
                                 f"'{channel}'; keep it under one channel.")
            extra[alias] = ((str(channel), 1.0),)
    return {**(ALIASES if base is None else base), **extra}


def read_alias_table(path) -> dict:
    """`ALIASES` extended by the user's alias table in the JSON file at `path` (see
    `with_user_aliases`); InputError naming the file when it cannot be read."""
    path = Path(path)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"The alias table '{path}' cannot be read ({error.strerror or error}); "
                         "choose an existing JSON file or clear the setting.") from None
    except ValueError as error:  # bad JSON or not UTF-8
        raise InputError(f"The alias table '{path}' is not valid JSON ({error}); fix the file or "
                         "clear the setting.") from None
    return with_user_aliases(table)
