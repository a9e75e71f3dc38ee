"""ADF losses: channel L1 (jaw weighted), velocity L1, lip-landmark L1 on the built-in head,
a closure term (lips that should touch and do not) and an auxiliary phone cross-entropy.

The lip loss is linearised: the 20 iBUG lip landmarks move by J @ channels
(J measured on the built-in head around a slightly open mouth, in mm), which
makes it cheap and exact for the expression channels and close for the jaw.
The inner-lip gap is linearised the same way; where the target's gap is below
CLOSED_MM (a closure), predicting a wider gap costs extra: regression to the
mean otherwise rounds short bilabial closures away.
"""

from __future__ import annotations

import numpy as np
import torch

from ...drivers.adf.channels import OUTPUT_CHANNELS
from ...head import load_head
from ...motion import MotionClip
from ...drivers.phonetic.metrics import CLOSED_MM, LIP_LANDMARKS, _lip_points, mouth_opening

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


def lip_gap_model() -> tuple[float, np.ndarray, np.ndarray]:
    """(gap0 mm, grad [C] mm per unit, base [C]): the inner-lip gap is gap0 + grad @ (c - base)."""
    head = load_head()
    C = len(OUTPUT_CHANNELS)
    base = np.zeros((1 + C, C), np.float32)
    base[:, OUTPUT_CHANNELS.index("jaw_rx")] = JACOBIAN_JAW
    for k in range(C):
        base[k + 1, k] += JACOBIAN_STEP
    gap = mouth_opening(head, MotionClip(list(OUTPUT_CHANNELS), base, 30.0))
    return float(gap[0]), ((gap[1:] - gap[0]) / JACOBIAN_STEP).astype(np.float32), base[0]


def closure_l1(pred, target, mask, gap) -> torch.Tensor:
    """Mean excess gap (mm) of `pred` over `target` on frames where the target's lips are closed."""
    gap0, grad, base = gap
    target_gap = gap0 + (target - base) @ grad                     # [B, T]
    closed = mask * (target_gap < CLOSED_MM).to(mask)
    excess = torch.relu((pred - target) @ grad)
    return (excess * closed).sum() / closed.sum().clamp_min(1.0)


def phone_cross_entropy(logits, phones) -> torch.Tensor:
    """Cross-entropy of phone logits [B, T, P] against labels [B, T] (-1 = padding, ignored)."""
    T = min(logits.shape[1], phones.shape[1])
    labels = phones[:, :T].flatten()
    if not bool((labels >= 0).any()):   # a batch of unlabelled pairs: nothing to learn here
        return logits.sum() * 0.0
    return torch.nn.functional.cross_entropy(logits[:, :T].flatten(0, 1), labels, ignore_index=-1)


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


def adf_loss(pred, target, mask, jacobian, config, gap=None) -> dict:
    """The loss terms {name: scalar tensor} and their weighted sum under "total"; `gap` is
    lip_gap_model() as tensors (needed when config.closure_weight > 0)."""
    w = channel_weights(config.jaw_weight).to(pred)
    terms = {"channels": masked_l1(pred, target, mask, w)}
    vmask = mask[:, 1:] * mask[:, :-1]
    terms["velocity"] = masked_l1(pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1], vmask, w)
    terms["lips_mm"] = masked_l1(pred @ jacobian, target @ jacobian, mask)
    terms["total"] = terms["channels"] + config.velocity_weight * terms["velocity"] + \
        config.lip_vertex_weight * terms["lips_mm"]
    if gap is not None:
        terms["closure_mm"] = closure_l1(pred, target, mask, gap)
        terms["total"] = terms["total"] + config.closure_weight * terms["closure_mm"]
    return terms
