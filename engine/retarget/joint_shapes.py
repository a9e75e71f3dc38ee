"""The ARKit shapes a clip's jaw and eye joints imply, for rigs with shape keys where we have joints.

Our jaw and eyes are joints (`jaw_rx`, `eye_left_ry`, ...); an ARKit rig opens
its jaw with a `JawOpen` shape key. These channels are exactly the ones the
ARKit CSV export writes (`engine.motion.arkit`): JawOpen = jaw_rx / 0.5 rad,
JawLeft / JawRight and the EyeLook* shapes from the positive parts of the
rotations, so a rig keyed here moves as the exported CSV says.
"""

from __future__ import annotations

import numpy as np

from ..motion.arkit import EYE_LOOK_MAX, JAW_OPEN_MAX, JAW_SIDE_MAX, _joint_blendshapes, channel_name
from ..motion.channels import POSE_CHANNELS, TRANSLATION_CHANNELS


def _sources() -> dict:
    """{derived channel: (joint, rotation channel it comes from)}."""
    out = {"jawOpen": ("jaw", "jaw_rx"), "jawLeft": ("jaw", "jaw_ry"), "jawRight": ("jaw", "jaw_ry")}
    for side, joint in (("Left", "eye_left"), ("Right", "eye_right")):
        out.update({f"eyeLookDown{side}": (joint, f"{joint}_rx"), f"eyeLookUp{side}": (joint, f"{joint}_rx"),
                    f"eyeLookOut{side}": (joint, f"{joint}_ry"), f"eyeLookIn{side}": (joint, f"{joint}_ry")})
    return out


JOINT_SHAPE_SOURCES = _sources()


def shape_channels(clip, skip_joints=()) -> tuple:
    """The channels a rig's shape keys can take: the clip's expressions plus the joint-implied ARKit shapes.

    Returns names [C'], values [T, C'] (float64) and `sources`, {channel:
    rotation channel} for each joint-implied channel. Pose and translation
    channels are left out (they go to bones); a joint in `skip_joints` (it
    has a bone) implies no shapes; a joint-implied shape the clip also has
    as a channel is the sum of both, as in the ARKit CSV.
    """
    names = [n for n in clip.names if n not in POSE_CHANNELS and n not in TRANSLATION_CHANNELS]
    columns = {n.lower(): clip.channel(n).astype(np.float64) for n in names}
    spelled = {n.lower(): n for n in names}
    derived = _joint_blendshapes(clip, JAW_OPEN_MAX, JAW_SIDE_MAX, EYE_LOOK_MAX)
    sources = {}
    for column, values in derived.items():
        name = channel_name(column)
        joint, rotation = JOINT_SHAPE_SOURCES[name]
        if joint in skip_joints or not clip.has_channel(rotation):
            continue
        key = name.lower()
        columns[key] = columns.get(key, 0.0) + values
        spelled.setdefault(key, name)
        sources[spelled[key]] = rotation
    order = list(spelled)
    values = np.stack([columns[k] for k in order], axis=1) if order else np.zeros((clip.num_frames, 0))
    return [spelled[k] for k in order], values, sources
