"""The ADF network: speech features + a style code -> per-frame head channels (torch).

    mel [B, T, M] (100 Hz) --conv front end, stride 2--> [B, T/2, W] (50 Hz)
        --FiLM by the style code--> --conv position mixing--> --transformer, local attention-->
        --> lip head  -> LIP_OUTPUTS  (jaw, lip shapes)
        --> pose head -> POSE_OUTPUTS (brows, smile/frown, head pitch)
        --> phone head -> PHONE_SET logits (training only: an auxiliary loss that makes the
                          encoder learn what is said; the exported graph does not include it)
    reference clip [B, R, K] (50 Hz) --style encoder--> style code [B, S] in [-1, 1]

Non-autoregressive and local (each frame attends to +- attention_reach_s), so
a clip of any length runs in overlapping windows with the same result in the
middle of each window; the ONNX export takes any T.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...drivers.adf.channels import LIP_OUTPUTS, MODEL_RATE, POSE_OUTPUTS, STYLE_INPUTS, STYLE_NAMES
from ...drivers.phonetic.phones import PHONE_SET
from .config import ADFConfig


class ADFNet(nn.Module):
    """Speech features + style code -> channels; see the module docstring for shapes."""

    def __init__(self, config: ADFConfig, n_mels: int) -> None:
        super().__init__()
        w = config.width
        self.n_mels = n_mels    # the mel bands it reads (a checkpoint's, checked against the data's)
        self.reach = max(1, int(round(config.attention_reach_s * MODEL_RATE)))
        self.front = nn.Sequential(nn.Conv1d(n_mels, w, 5, padding=2), nn.GELU(),
                                   nn.Conv1d(w, w, 5, stride=2, padding=2), nn.GELU())
        self.film = nn.Linear(len(STYLE_NAMES), 2 * w)
        self.position = nn.Conv1d(w, w, 9, padding=4, groups=w)
        self.encoder = nn.ModuleList(AttentionBlock(w, config.heads, config.dropout) for _ in range(config.layers))
        self.lip_head = _head(w, len(LIP_OUTPUTS))
        self.pose_head = _head(w, len(POSE_OUTPUTS))
        self.phone_head = nn.Conv1d(w, len(PHONE_SET), 1)

    def forward(self, mel: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """mel [B, T, M], style [B, S] -> channels [B, ceil(T / 2), C] (LIP_OUTPUTS + POSE_OUTPUTS)."""
        return self.forward_with_phones(mel, style)[0]

    def forward_with_phones(self, mel: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(channels [B, T2, C], phone logits [B, T2, len(PHONE_SET)])."""
        h = self.front(mel.transpose(1, 2))                      # [B, W, T2]
        gamma, beta = self.film(style).unsqueeze(-1).chunk(2, dim=1)
        h = h * (1.0 + gamma) + beta
        h = (h + self.position(h)).transpose(1, 2)               # [B, T2, W]
        mask = local_mask(h.shape[1], self.reach, h.device)
        for block in self.encoder:
            h = block(h, mask)
        h = h.transpose(1, 2)
        channels = torch.cat([self.lip_head(h), self.pose_head(h)], dim=1).transpose(1, 2)
        return channels, self.phone_head(h).transpose(1, 2)


class AttentionBlock(nn.Module):
    """A pre-norm transformer layer with an additive attention mask, written out so the ONNX
    export keeps every length dynamic (torch's fused layer bakes the example's length in)."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.ff = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """h [B, T, W], mask [T, T] additive -> [B, T, W]."""
        q, k, v = (self._split(x) for x in self.qkv(self.norm1(h)).chunk(3, dim=-1))   # [B, H, T, D]
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + mask
        attended = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).flatten(2)       # [B, T, W]
        h = h + self.drop(self.proj(attended))
        return h + self.drop(self.ff(self.norm2(h)))

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)


class StyleEncoder(nn.Module):
    """A reference performance [B, R, K] (STYLE_INPUTS at 50 Hz) -> style code [B, S] in [-1, 1]."""

    def __init__(self, config: ADFConfig) -> None:
        super().__init__()
        h = config.style_hidden
        self.net = nn.Sequential(nn.Conv1d(len(STYLE_INPUTS), h, 5, padding=2), nn.GELU(),
                                 nn.Conv1d(h, h, 5, padding=4, dilation=2), nn.GELU())
        self.out = nn.Sequential(nn.Linear(2 * h, h), nn.GELU(), nn.Linear(h, len(STYLE_NAMES)), nn.Tanh())

    def forward(self, reference: torch.Tensor) -> torch.Tensor:
        h = self.net(reference.transpose(1, 2))                  # [B, H, R]
        return self.out(torch.cat([h.mean(dim=2), h.std(dim=2)], dim=1))


def local_mask(length: int, reach: int, device=None) -> torch.Tensor:
    """[L, L] additive attention mask: 0 within `reach` frames, -inf beyond."""
    index = torch.arange(length, device=device)
    far = (index[None, :] - index[:, None]).abs() > reach
    return torch.zeros(length, length, device=device).masked_fill(far, float("-inf"))


def _head(width: int, outputs: int) -> nn.Module:
    return nn.Sequential(nn.Conv1d(width, width, 3, padding=1), nn.GELU(), nn.Conv1d(width, outputs, 1))
