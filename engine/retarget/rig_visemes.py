"""A rig's viseme set (the Oculus / Ready Player Me convention): the mouth channels as viseme weights.

Rigs made for Oculus LipSync, Ready Player Me avatars among them, carry 15
viseme shape keys, `viseme_sil`, `viseme_PP`, ... `viseme_U`. Where a rig has
those but not the ARKit mouth shapes, the clip's mouth is keyed through them:

1. Each viseme has a *pose* in mouth space: the mouth our phonetic driver
   holds for the viseme's phones (`articulate` over one held phone, lips
   closed on p/b/m and the lower lip at the teeth on f/v as the driver
   enforces), averaged over its phones; `viseme_sil` is the rest pose, 0.
2. Mouth space is what a viewer reads on a mouth: `jawOpen` (jaw_rx over
   0.5 rad, as the ARKit export writes it), the ARKit lip channels, and the
   built-in head's inner-lip gap (its linear model, `LIP_GAP_MM`, in units
   of a wide-open mouth), which makes a closure stand out from a small gap.
3. Each frame's weights w [V] are the convex blend of the poses nearest
   the frame's mouth: w >= 0, sum w = 1, least squares (Lawson-Hanson NNLS
   with the sum as a heavily weighted row). A held viseme gives weight 1 on
   its own key; half of one gives 0.5 beside 0.5 of `viseme_sil`; a frame
   between two visemes blends them, as a viseme rig expects.

Works from any driver's channels (phonetic, energy, ADF, an imported ARKit
clip): only the mouth channels the clip has take part. Pure numpy (and
scipy's NNLS); the phonetic driver and scipy are imported when first needed,
so importing the retargeting costs nothing more.
"""

from __future__ import annotations

import functools

import numpy as np

from ..motion.arkit import JAW_OPEN_MAX
from .names import VRCHAT_VISEMES, name_key

# The Oculus visemes (their order in Oculus LipSync and on Ready Player Me avatars) and the ARPAbet
# phones each stands for (Oculus's reference words: PP "put", FF "fat", TH "think", DD "dig", kk "call",
# CH "chair", SS "sir", nn "lot", RR "red", aa "car", E "bed", I "tip", O "toe", U "book").
VISEME_PHONES = {  # viseme_sil: no phone, the mouth at rest
    "viseme_sil": (), "viseme_PP": ("P", "B", "M"), "viseme_FF": ("F", "V"), "viseme_TH": ("TH", "DH"),
    "viseme_DD": ("T", "D"), "viseme_kk": ("K", "G", "NG"), "viseme_CH": ("CH", "JH", "SH", "ZH"),
    "viseme_SS": ("S", "Z"), "viseme_nn": ("N", "L"), "viseme_RR": ("R", "ER"), "viseme_aa": ("AA", "AE", "AH"),
    "viseme_E": ("EH",), "viseme_I": ("IH", "IY"), "viseme_O": ("AO", "OW"), "viseme_U": ("UH", "UW", "W"),
}
VISEME_NAMES = tuple(VISEME_PHONES)
JAW_OPEN = "jawOpen"
WIDE_GAP_MM = 25.0   # the lip gap feature's unit: about the built-in head's gap on "aa"
SUM_WEIGHT = 30.0    # weight of the row that asks the viseme weights to sum to 1
HELD_S = 1.0         # how long a phone is held to read its pose


def is_viseme_channel(name: str) -> bool:
    """True for a viseme channel of ours (`viseme_PP`, any case)."""
    return str(name).lower() in _LOWERED


_LOWERED = {n.lower() for n in VISEME_NAMES}


def wants_visemes(shape_keys) -> bool:
    """True when a rig's shape-key names [K] include Oculus visemes (or VRChat's `vrc.v_pp`, ...) but none of
    the ARKit mouth shapes (`jawOpen`, the lip channels; any spelling `name_key` accepts): such a rig speaks
    through its visemes."""
    keys = {name_key(n) for n in shape_keys}
    has_visemes = any(name_key(v) in keys for v in VISEME_NAMES + tuple(VRCHAT_VISEMES))
    return has_visemes and not any(name_key(c) in keys for c in mouth_channels())


@functools.lru_cache(maxsize=1)
def mouth_channels() -> tuple:
    """Mouth space's channels (without the lip gap): `jawOpen`, then the phonetic driver's lip channels."""
    from ..drivers.phonetic.visemes import LIP_CHANNELS

    return (JAW_OPEN,) + tuple(LIP_CHANNELS)


def add_viseme_channels(names, values) -> tuple:
    """Shape channels (names [C], values [T, C]) followed by the viseme channels they imply:
    (names [C + V], values [T, C + V]); viseme channels already among `names` are replaced."""
    keep = [c for c, n in enumerate(names) if not is_viseme_channel(n)]
    visemes, weights = viseme_channels(names, values)
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    return [names[c] for c in keep] + list(visemes), np.concatenate([values[:, keep], weights], axis=1)


def viseme_channels(names, values) -> tuple:
    """The viseme weights of every frame: (VISEME_NAMES [V], weights [T, V] in [0, 1], each row summing to 1).

    `names` [C] and `values` [T, C] are shape channels (`shape_channels`: a jaw
    as `jawOpen`, lip channels ARKit-named, any case); channels outside mouth
    space are ignored, and mouth channels the clip lacks take no part in the fit.
    """
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    column = {str(n).lower(): c for c, n in enumerate(names)}
    channels = mouth_channels()
    used = [k for k, n in enumerate(channels) if n.lower() in column]
    mouth = np.zeros((values.shape[0], len(channels)))
    for k in used:
        mouth[:, k] = values[:, column[channels[k].lower()]]
    return VISEME_NAMES, blend_weights(features(mouth, used), features(viseme_poses(), used))


def features(mouth: np.ndarray, used=None) -> np.ndarray:
    """Mouth space [N, F] from mouth channels [N, M] (`mouth_channels()`): the channels in `used` (None: all),
    then the lip gap over WIDE_GAP_MM (from those channels only)."""
    channels = mouth_channels()
    used = list(range(len(channels))) if used is None else list(used)
    coefficients = np.array([_gap_coefficient(channels[k]) for k in used])
    gap = mouth[:, used] @ coefficients / WIDE_GAP_MM
    return np.concatenate([mouth[:, used], gap[:, None]], axis=1)


def _gap_coefficient(channel: str) -> float:
    """mm of inner-lip gap per unit of a mouth channel (the jaw's per unit of jawOpen)."""
    from ..drivers.phonetic.visemes import JAW, LIP_GAP_MM

    return LIP_GAP_MM[JAW] * JAW_OPEN_MAX if channel == JAW_OPEN else LIP_GAP_MM.get(channel, 0.0)


@functools.lru_cache(maxsize=1)
def _poses() -> np.ndarray:
    poses = np.zeros((len(VISEME_NAMES), len(mouth_channels())))
    for v, phones in enumerate(VISEME_PHONES.values()):
        if phones:
            poses[v] = np.mean([held_pose(p) for p in phones], axis=0)
    poses.flags.writeable = False
    return poses


def viseme_poses() -> np.ndarray:
    """Each viseme's mouth pose [V, M] (VISEME_NAMES order, `mouth_channels()`; `viseme_sil` is 0)."""
    return _poses().copy()


def held_pose(label: str) -> np.ndarray:
    """The mouth channels [M] (`mouth_channels()`) the phonetic driver holds in the middle of one long phone."""
    from ..drivers.phonetic.coarticulation import articulate
    from ..drivers.phonetic.phones import Phone
    from ..drivers.phonetic.visemes import JAW, LIP_CHANNELS

    values = articulate([Phone(label, 0.0, HELD_S)], np.array([0.5 * HELD_S]))
    pose = np.array([values[c][0] for c in LIP_CHANNELS])
    return np.concatenate([[values[JAW][0] / JAW_OPEN_MAX], pose])


def blend_weights(frames: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """Convex weights [N, V] (>= 0, rows sum to 1) whose blend of `poses` [V, F] is nearest each of
    `frames` [N, F] in least squares; frames that repeat are solved once."""
    from scipy.optimize import nnls  # only when a viseme rig is keyed: scipy.optimize is slow to import

    A = np.vstack([poses.T, np.full((1, poses.shape[0]), SUM_WEIGHT)])
    unique, inverse = np.unique(np.round(frames, 9), axis=0, return_inverse=True)
    solved = np.empty((len(unique), poses.shape[0]))
    for n, frame in enumerate(unique):
        w, _ = nnls(A, np.append(frame, SUM_WEIGHT))
        solved[n] = w / max(w.sum(), 1e-12)
    return np.clip(solved[np.ravel(inverse)], 0.0, 1.0)
