"""The jaw and eye joints drive ARKit shape keys exactly as the ARKit CSV export writes them."""

from __future__ import annotations

import numpy as np

from engine.motion import MotionClip
from engine.motion.arkit import ARKIT_BLENDSHAPES, arkit_values
from engine.retarget import shape_channels


def clip() -> MotionClip:
    t = np.linspace(0, 1, 10)
    channels = {"eyeBlinkLeft": t, "jaw_rx": 0.4 * t, "jaw_ry": 0.1 * np.sin(6 * t), "eye_left_ry": -0.3 * t,
                "neck_rx": 0.1 * t, "global_tx": t}
    return MotionClip(names=list(channels), values=np.stack(list(channels.values()), axis=1), fps=30.0)


def test_joint_shapes_match_the_csv_columns():
    c = clip()
    names, values, sources = shape_channels(c)
    assert names[0] == "eyeBlinkLeft" and "jaw_rx" not in names and "global_tx" not in names
    csv = arkit_values(c)
    for name in ("jawOpen", "jawLeft", "jawRight", "eyeLookInLeft", "eyeLookOutLeft"):
        column = ARKIT_BLENDSHAPES.index(name[0].upper() + name[1:])
        np.testing.assert_allclose(np.clip(values[:, names.index(name)], 0, 1), csv[:, column], atol=1e-6)
    assert sources["jawOpen"] == "jaw_rx" and sources["jawLeft"] == "jaw_ry"
    assert sources["eyeLookInLeft"] == "eye_left_ry"
    assert not any(n.startswith("eyeLookUp") or n.endswith("Right") and n.startswith("eyeLook") for n in names)


def test_a_joint_on_a_bone_implies_no_shapes():
    names, _, sources = shape_channels(clip(), skip_joints={"jaw"})
    assert "jawOpen" not in names and set(sources) == {"eyeLookInLeft", "eyeLookOutLeft"}


def test_explicit_channel_adds_to_the_joint_shape():
    c = clip().with_channels({"JawOpen": np.full(10, 0.1)})
    names, values, _ = shape_channels(c)
    assert names.count("JawOpen") == 1 and "jawOpen" not in names
    np.testing.assert_allclose(values[:, names.index("JawOpen")], 0.1 + c.channel("jaw_rx") / 0.5, atol=1e-6)
