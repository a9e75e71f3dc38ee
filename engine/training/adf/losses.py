"""ADF losses: channel L1 (jaw weighted), velocity L1, lip-landmark L1 on the built-in head,
a closure term (lips that should touch and do not), an auxiliary phone cross-entropy, and on
tracked videos 1 - the correlation of the inner-lip gap with the tracked one (the mouth
opening a viewer sees, as eval-lipsync --videos scores it), and a teacher's anchor
(`distillation`: a frozen copy of the starting model, so a fine-tune on tracked clips keeps
the amplitude and closures the correlation cannot see).

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

from ...drivers.adf.channels import LIP_OUTPUTS, OUTPUT_CHANNELS
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
    closed = mask * (lip_gap(target, gap) < CLOSED_MM).to(mask)
    excess = torch.relu((pred - target) @ gap[1])
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


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, weights=None, learn=None) -> torch.Tensor:
    """Mean |a - b| over valid frames and learned channels; a, b [B, T, X], mask [B, T] (frame
    weights), weights [X] or None, learn [B, X] (1 = this example's channel counts) or None."""
    d = (a - b).abs()
    if weights is not None:
        d = d * weights
    counted = mask.unsqueeze(-1) * (learn.unsqueeze(1) if learn is not None else torch.ones_like(a[:1, :1]))
    return (d * counted).sum() / counted.expand_as(d).sum().clamp_min(1.0)


def lip_gap(channels: torch.Tensor, gap) -> torch.Tensor:
    """The linearised inner-lip gap [B, T] (mm) of channels [B, T, C]; `gap` is lip_gap_model() as tensors."""
    gap0, grad, base = gap
    return gap0 + (channels - base) @ grad


def weighted_correlation(a: torch.Tensor, b: torch.Tensor, weights: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """The mean over `rows` [B] (0/1) of each row's weighted Pearson r of a and b [B, T] (weights [B, T]).

    On a tracked clip the lip gap's shape is what is learned: when the mouth opens and closes,
    not how far (the tracker reads the person's resting opening and range on the built-in head
    with offsets of its own; the performances teach the amplitude). A flat row scores r = 0."""
    total = weights.sum(dim=1, keepdim=True).clamp_min(1e-6)
    a = a - (a * weights).sum(dim=1, keepdim=True) / total
    b = b - (b * weights).sum(dim=1, keepdim=True) / total
    r = (weights * a * b).sum(dim=1) / torch.sqrt((weights * a * a).sum(dim=1) * (weights * b * b).sum(dim=1) + 1e-6)
    return (r * rows).sum() / rows.sum().clamp_min(1.0)


def adf_loss(pred, target, mask, jacobian, config, gap=None, learn=None, tracked=None) -> dict:
    """The loss terms {name: scalar tensor} and their weighted sum under "total".

    pred, target [B, T, C]; mask [B, T] frame weights; learn [B, C] the channels each example's
    L1 reads (None: all); tracked [B] 1.0 for tracked clips (None: none), whose lips are read as
    the correlation of the inner-lip gap with the tracked one ("gap_r" = 1 - r, needs `gap`)
    instead of the landmarks and blendshapes a tracker fits loosely.
    `gap` is lip_gap_model() as tensors (needed for the closure and gap terms)."""
    w = channel_weights(config.jaw_weight).to(pred)
    performed = mask if tracked is None else mask * (1.0 - tracked).unsqueeze(-1)
    terms = {"channels": masked_l1(pred, target, mask, w, learn)}
    vmask = mask[:, 1:] * mask[:, :-1]
    terms["velocity"] = masked_l1(pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1], vmask, w, learn)
    terms["lips_mm"] = masked_l1(pred @ jacobian, target @ jacobian, performed)
    terms["total"] = terms["channels"] + config.velocity_weight * terms["velocity"] + \
        config.lip_vertex_weight * terms["lips_mm"]
    if gap is not None:
        terms["closure_mm"] = closure_l1(pred, target, performed, gap)
        terms["total"] = terms["total"] + config.closure_weight * terms["closure_mm"]
    if gap is not None and tracked is not None and bool((tracked > 0).any()):
        seen = mask * tracked.unsqueeze(-1)
        terms["gap_r"] = 1.0 - weighted_correlation(lip_gap(pred, gap), lip_gap(target, gap), seen, tracked)
        terms["total"] = terms["total"] + config.gap_weight * terms["gap_r"]
    return terms


def weighted_moments(a: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean [B], standard deviation [B]) of each row of a [B, T] under frame weights [B, T]."""
    total = weights.sum(dim=1).clamp_min(1e-6)
    mean = (a * weights).sum(dim=1) / total
    var = (weights * (a - mean.unsqueeze(1)) ** 2).sum(dim=1) / total
    return mean, torch.sqrt(var + 1e-6)


def distillation(pred, teacher, mask, tracked, gap, jaw_weight: float) -> dict:
    """The teacher's anchor terms {name: scalar tensor}: pred, teacher [B, T, C], mask [B, T], tracked [B].

    "teacher_l1": channel L1 (jaw weighted) to the teacher's output on every channel of a performed
    row and on the pose channels of a tracked row (its lip timing is the tracked gap's to teach);
    "gap_scale_mm": on tracked rows, |mean| + |sd| differences (mm) of the predicted inner-lip gap
    from the teacher's over the window: the correlation is blind to how far the mouth opens."""
    lips = torch.tensor([c in LIP_OUTPUTS for c in OUTPUT_CHANNELS], dtype=pred.dtype, device=pred.device)
    learn = 1.0 - tracked.unsqueeze(1) * lips.unsqueeze(0)                       # [B, C]
    terms = {"teacher_l1": masked_l1(pred, teacher, mask, channel_weights(jaw_weight).to(pred), learn)}
    seen = mask * tracked.unsqueeze(-1)
    if bool((tracked > 0).any()):
        m_pred, s_pred = weighted_moments(lip_gap(pred, gap), seen)
        m_teacher, s_teacher = weighted_moments(lip_gap(teacher, gap), seen)
        excess = (m_pred - m_teacher).abs() + (s_pred - s_teacher).abs()
        terms["gap_scale_mm"] = (excess * tracked).sum() / tracked.sum().clamp_min(1.0)
    else:
        terms["gap_scale_mm"] = pred.sum() * 0.0
    return terms
