"""ADF losses: channel L1 (jaw weighted), velocity L1, and lip-landmark L1 on the built-in head.

The lip loss is linearised: the 20 iBUG lip landmarks move by J @ channels
(J measured on the built-in head around a slightly open mouth, in mm), which
makes it cheap and exact for the expression channels and close for the jaw.
"""

from __future__ import annotations

import numpy as np
import torch

from ...adf.channels import OUTPUT_CHANNELS
from ...head import load_head
from ...motion import MotionClip
from ...phonetic.metrics import LIP_LANDMARKS, _lip_points

JACOBIAN_STEP = 0.05
JACOBIAN_JAW = 0.1   # rad: the mouth opening the lip loss is linearised around


def lip_jacobian() -> np.ndarray:
    """[C, 60] mm per unit of each OUTPUT_CHANNELS channel, for the 20 lip landmarks x 3 axes."""
    head = load_head()
    base = np.zeros((1 + len(OUTPUT_CHANNELS), len(OUTPUT_CHANNELS)), np.float32)
    base[:, OUTPUT_CHANNELS.index("jaw_rx")] = JACOBIAN_JAW
    for k in range(len(OUTPUT_CHANNELS)):
        base[k + 1, k] += JACOBIAN_STEP
    points = _lip_points(head, MotionClip(list(OUTPUT_CHANNELS), base, 30.0), LIP_LANDMARKS)  # [1 + C, 20, 3]
    return (1000.0 * (points[1:] - points[:1]) / JACOBIAN_STEP).reshape(len(OUTPUT_CHANNELS), -1)


def channel_weights(jaw_weight: float) -> torch.Tensor:
    """[C] weights of the channel L1: 1 for expression weights, jaw_weight for the jaw (radians)."""
    w = torch.ones(len(OUTPUT_CHANNELS))
    w[OUTPUT_CHANNELS.index("jaw_rx")] = jaw_weight
    w[OUTPUT_CHANNELS.index("neck_rx")] = jaw_weight
    return w


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, weights=None) -> torch.Tensor:
    """Mean |a - b| over valid frames; a, b [B, T, X], mask [B, T], weights [X] or None."""
    d = (a - b).abs()
    if weights is not None:
        d = d * weights
    return (d * mask.unsqueeze(-1)).sum() / (mask.sum() * a.shape[-1]).clamp_min(1.0)


def adf_loss(pred, target, mask, jacobian, config) -> dict:
    """The loss terms {name: scalar tensor} and their weighted sum under "total"."""
    w = channel_weights(config.jaw_weight).to(pred)
    terms = {"channels": masked_l1(pred, target, mask, w)}
    vmask = mask[:, 1:] * mask[:, :-1]
    terms["velocity"] = masked_l1(pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1], vmask, w)
    terms["lips_mm"] = masked_l1(pred @ jacobian, target @ jacobian, mask)
    terms["total"] = terms["channels"] + config.velocity_weight * terms["velocity"] + \
        config.lip_vertex_weight * terms["lips_mm"]
    return terms
