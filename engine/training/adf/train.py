"""Train ADF: corpus windows -> AdamW with warm-up and cosine decay -> checkpoint + resolved config.

    python -m engine.training.adf train --config run.json --out runs/adf1

Writes out/config.json (resolved, before the first step), out/checkpoint.pt
(weights of the network and the style encoder, with the config), and
out/log.jsonl (one line per log_every steps: the loss terms, train and held out).

Under torchrun (engine.training.distributed) every process draws the same
batch and trains on its equal slice of it (`batch` must divide by the number
of processes); DDP averages the gradients and only rank 0 writes the files.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ...errors import InputError
from ...progress import Reporter, silent
from ..checkpoints import keep_step_copy
from ..distributed import Processes, with_processes
from .config import ADFConfig
from .data import load_examples, mask_spectrogram, sample_batch, warp_frequency
from .losses import adf_loss, distillation, lip_gap_model, lip_jacobian, phone_cross_entropy
from .model import ADFNet, StyleEncoder
from .pairs import load_pairs
from .real_data import known_voice_examples, tracked_examples


def split(examples, fraction: float, seed: int):
    """(train, held out) lists of examples; at least one example stays for training."""
    order = np.random.default_rng(seed).permutation(len(examples))
    n_held = min(len(examples) - 1, int(round(fraction * len(examples))))
    return [examples[k] for k in order[n_held:]], [examples[k] for k in order[:n_held]]


def learning_rate(step: int, config: ADFConfig) -> float:
    """Linear warm-up then cosine decay to 5% of the peak."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.learning_rate * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


@with_processes
def train(config: ADFConfig, out: Path, reporter: Optional[Reporter] = None, examples=None,
          processes: Optional[Processes] = None) -> Path:
    """Train a network and style encoder; returns the checkpoint path. `processes`: torchrun's (found in
    the environment when not given), else one process."""
    reporter = (reporter or silent()) if processes.main else silent()
    processes.check_split(config.batch, "batch")
    out.mkdir(parents=True, exist_ok=True)
    if processes.main:
        config.save(out / "config.json")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    if examples is None:
        examples = load_examples(config.corpora, config.feature_config, reporter,
                                 weights=config.corpus_weights) if config.corpora else []
        examples += load_pairs(config.pairs, config.feature_config, reporter, config.pairs_weight)
        examples += real_speech_examples(config, reporter)
        if not examples:
            raise InputError("The ADF config names no corpora and no pairs folders to train on.")
    train_set, held_set = split(examples, config.heldout_fraction, config.seed)
    net, style_net = ADFNet(config, train_set[0].mel.shape[1]), StyleEncoder(config)
    if config.init_from:
        start = torch.load(config.init_from, map_location="cpu", weights_only=False)
        net.load_state_dict(start["net"])
        style_net.load_state_dict(start["style"])
    student = processes.wrap(NetAndStyle(net, style_net, bool(config.phone_weight)),
                             find_unused=not config.phone_weight)
    processes.vary_seed(config.seed)
    params = trainable_parameters(net, style_net, config.trainable)
    teacher = load_teacher(config, train_set[0].mel.shape[1], processes.device)
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    jacobian = torch.from_numpy(lip_jacobian()).to(processes.device)
    gap = tuple(torch.as_tensor(v, device=processes.device) for v in lip_gap_model())
    rng = np.random.default_rng(config.seed)
    window = int(round(config.window_s * 50.0))
    last = min(config.steps, config.stop_at_step) if config.stop_at_step > 0 else config.steps
    reporter.stage("training ADF", last)
    with open(out / "log.jsonl", "w") if processes.main else contextlib.nullcontext() as log:
        for step in range(last):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, config)
            terms = processes.mean(_step(student, train_set, config, window, rng, jacobian, gap, optimizer,
                                         processes, teacher))
            if processes.main and ((step + 1) % config.log_every == 0 or step + 1 == last):
                held = evaluate(net, held_set or train_set, config, window, jacobian, gap)
                log.write(json.dumps({"step": step + 1, "time": round(time.time(), 1), **terms,
                                      **{f"held_{k}": v for k, v in held.items()}}) + "\n")
                log.flush()
            reporter.update(step + 1, f"loss {terms['total']:.4f}")
            if processes.main and config.checkpoint_every and (step + 1) % config.checkpoint_every == 0:
                save_checkpoint(out / "checkpoint.pt", config, net, style_net, train_set[0].mel.shape[1])
                if config.keep_checkpoints:
                    keep_step_copy(out / "checkpoint.pt", step + 1)
    if processes.main:
        save_checkpoint(out / "checkpoint.pt", config, net, style_net, train_set[0].mel.shape[1])
    processes.barrier()   # the checkpoint is on disk when train returns, on every process
    return out / "checkpoint.pt"


class NetAndStyle(torch.nn.Module):
    """The network and its style encoder as one module: the one forward whose gradients DDP averages."""

    def __init__(self, net: ADFNet, style_net: StyleEncoder, phones: bool) -> None:
        super().__init__()
        self.net, self.style_net, self.phones = net, style_net, phones

    def forward(self, mel: torch.Tensor, style: torch.Tensor, reference: torch.Tensor):
        """mel [B, Tm, M], style [B, S], reference [B, W, K] -> (channels [B, ceil(Tm / 2), C], phone logits
        [B, ceil(Tm / 2), P] or None when the phone loss is off (DDP then sees the phone head unused),
        style code [B, S] of the reference)."""
        channels, logits = self.net.forward_with_phones(mel, style)
        return channels, (logits if self.phones else None), self.style_net(reference)


def real_speech_examples(config: ADFConfig, reporter: Reporter) -> list:
    """The config's tracked videos and real voices with known words as Examples, each drawn with its weight."""
    tracked = tracked_examples(config.tracked, config.feature_config, reporter) if config.tracked else []
    voices = known_voice_examples(config.known_voices, config.feature_config, config.known_voice_copies,
                                  config.seed, reporter) if config.known_voices else []
    for examples, weight in ((tracked, config.tracked_weight), (voices, config.known_voices_weight)):
        for e in examples:
            e.weight = float(weight)
    return tracked + voices


def trainable_parameters(net, style_net, prefixes) -> list:
    """The parameters the optimiser moves: all, or those whose name (the style encoder's under
    "style.") starts with one of `prefixes`; the others are frozen (requires_grad off)."""
    named = [(n, p) for n, p in net.named_parameters()] + [(f"style.{n}", p) for n, p in style_net.named_parameters()]
    if not prefixes:
        return [p for _, p in named]
    chosen = [p for n, p in named if any(n.startswith(str(prefix)) for prefix in prefixes)]
    if not chosen:
        raise InputError(f"The ADF config's 'trainable' prefixes {list(prefixes)} name no parameter of the network.")
    for n, p in named:
        p.requires_grad_(any(n.startswith(str(prefix)) for prefix in prefixes))
    return chosen


def load_teacher(config: ADFConfig, n_mels: int, device):
    """The frozen teacher network (eval mode) when the config anchors the run to one, else None."""
    if not (config.teacher_weight or config.gap_scale_weight):
        return None
    if not config.teacher:
        raise InputError("The ADF config sets 'teacher_weight' or 'gap_scale_weight' but names no 'teacher' checkpoint.")
    _, teacher, _ = load_checkpoint(config.teacher)
    if teacher.n_mels != n_mels:
        raise InputError(f"The teacher checkpoint '{config.teacher}' reads {teacher.n_mels} mel bands; "
                         f"the training examples have {n_mels}.")
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher.to(device).eval()


def save_checkpoint(path: Path, config: ADFConfig, net, style_net, n_mels: int) -> Path:
    """Write the weights and config atomically (a killed run leaves the previous checkpoint)."""
    tmp = path.with_name(path.name + ".partial")
    torch.save({"config": config.to_dict(), "net": net.state_dict(), "style": style_net.state_dict(),
                "n_mels": n_mels}, tmp)
    tmp.replace(path)
    return path


def _step(student, examples, config, window, rng, jacobian, gap, optimizer, processes: Processes,
          teacher=None) -> dict:
    student.train()
    batch = sample_batch(examples, config.batch, window, rng)
    mel = batch.mel
    if config.freq_warp:
        mel = warp_frequency(mel, rng, config.freq_warp)
    if config.time_masks or config.freq_masks:
        mel = mask_spectrogram(mel, rng, config.time_masks, config.freq_masks)
    b = batch._replace(mel=mel)._asdict()
    mel, target, reference, style, mask, phones, learn, tracked = (
        torch.from_numpy(processes.shard(b[k])).to(processes.device) for k in b)   # this process's slice
    pred, logits, predicted_style = student(mel, style, reference)
    needs_gap = config.closure_weight or (config.gap_weight and bool(tracked.any()))
    terms = adf_loss(pred[:, :window], target, mask, jacobian, config, gap if needs_gap else None, learn, tracked)
    if config.phone_weight:
        terms["phones"] = phone_cross_entropy(logits, phones)
        terms["total"] = terms["total"] + config.phone_weight * terms["phones"]
    if teacher is not None:
        with torch.no_grad():
            taught = teacher(mel, style)[:, :window]
        anchor = distillation(pred[:, :window], taught, mask, tracked, gap, config.jaw_weight)
        terms.update(anchor)
        terms["total"] = terms["total"] + config.teacher_weight * anchor["teacher_l1"] + \
            config.gap_scale_weight * anchor["gap_scale_mm"]
    performed = 1.0 - tracked    # a tracked clip has no known style here; train-style teaches its calibrated one
    style_error = ((predicted_style - style).abs().mean(dim=1) * performed).sum() / performed.sum().clamp_min(1.0)
    total = terms["total"] + config.style_weight * style_error
    optimizer.zero_grad()
    total.backward()
    torch.nn.utils.clip_grad_norm_(list(student.parameters()), 1.0)
    optimizer.step()
    return {k: float(v.detach()) for k, v in terms.items()} | {"style": float(style_error.detach())}


@torch.no_grad()
def evaluate(net, examples, config, window, jacobian, gap=None, batches: int = 4) -> dict:
    """Mean loss terms over a few fixed-seed batches of `examples` (the closure term always)."""
    net.eval()
    rng = np.random.default_rng(12345)
    sums: dict = {}
    device = next(net.parameters()).device
    for _ in range(batches):
        b = sample_batch(examples, config.batch, window, rng)
        mel, target, style, mask, learn, tracked = (torch.from_numpy(getattr(b, k)).to(device) for k in
                                                    ("mel", "target", "style", "mask", "learn", "tracked"))
        for k, v in adf_loss(net(mel, style)[:, :window], target, mask, jacobian, config, gap, learn, tracked).items():
            sums[k] = sums.get(k, 0.0) + float(v) / batches
    return sums


def load_checkpoint(path: Path):
    """(config, network, style encoder) from a checkpoint, in eval mode."""
    data = torch.load(path, map_location="cpu", weights_only=False)
    config = ADFConfig.from_dict(data["config"])
    net, style_net = ADFNet(config, data["n_mels"]), StyleEncoder(config)
    net.load_state_dict(data["net"])
    style_net.load_state_dict(data["style"])
    return config, net.eval(), style_net.eval()
