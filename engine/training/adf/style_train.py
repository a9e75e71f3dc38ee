"""Train the style encoder alone on performances and tracked talking videos; the ADF network stays as it is.

    python -m engine.training.adf train-style --config engine/training/adf/recipes/style_tracked.json \
        --out runs/adf_style_tracked

The network's weights are copied from `init_from` untouched (not in the optimiser), so the lip sync of
every given style is the shipped one's; only what a reference clip reads as its style changes.
Two kinds of reference windows teach the encoder:

- **performances** (corpus clips): the style code they were performed with, every parameter;
- **tracked videos** (engine.training.real_pairs): each clip's style is calibrated once
  (style_targets: its own voice animated along a sweep of styles); a window's target is the
  parameter at which the clip's sweep reaches the window's own statistic (head motion, brow
  activity, blinks per minute), the other parameters neutral.

Writes out/config.json, out/targets.json (each tracked clip's calibration: the video's statistics,
the calibrated style, the statistics it performs), out/log.jsonl and out/checkpoint.pt (the
ADF checkpoint format: the network as it came, the new style encoder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch.nn.utils import parametrize

from ...drivers.adf.channels import MODEL_RATE, STYLE_INPUTS, STYLE_NAMES, HEAD_ANGLES, head_about_mean, style_code
from ...errors import InputError
from ...progress import Reporter, silent
from ...style import NEUTRAL
from ..config_file import ConfigFile
from .config import ADFConfig
from .data import channels_of
from .model import ADFNet, StyleEncoder
from .style_targets import LEARNED, SEEDS, SWEEP_POINTS, invert, style_target, sweep_styles


@dataclass
class StyleConfig(ConfigFile):
    """One style-encoder run."""

    KIND = "style encoder"

    init_from: str = ""              # an ADF checkpoint (network + style encoder): its network is kept as is
    init_style: str = ""             # a style encoder ONNX to start from instead of the checkpoint's ("" = its own)
    corpora: list = field(default_factory=list)   # corpus folders whose performances teach every parameter
    corpus_clips: int = 300          # at most this many clips of each corpus are read (its first ones)
    tracked: list = field(default_factory=list)   # folders of tracked pairs (<stem>.pair.npz)
    heldout: list = field(default_factory=list)   # pair stems kept out of training (validation log only)
    tracked_fraction: float = 0.5    # share of each batch drawn from the tracked clips
    augment: bool = True             # tracked windows sped up/slowed, head motion scaled, blinks left out
    min_window_s: float = 3.0        # reference windows are this long ...
    max_window_s: float = 10.0       # ... to this long (a shorter clip is taken whole)
    sweep_points: int = SWEEP_POINTS
    sweep_seeds: list = field(default_factory=lambda: list(SEEDS))
    steps: int = 800
    batch: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 1
    log_every: int = 50

    def __post_init__(self) -> None:
        if not 0.0 <= self.tracked_fraction <= 1.0:
            raise InputError(f"Style config 'tracked_fraction' must be between 0 and 1, not {self.tracked_fraction}.")
        if not 0.5 <= self.min_window_s <= self.max_window_s:
            raise InputError("Style config windows need 0.5 <= min_window_s <= max_window_s.")
        if int(self.steps) < 1 or int(self.batch) < 1:
            raise InputError("Style config 'steps' and 'batch' must be at least 1.")


@dataclass
class Reference:
    """One reference clip: frames [T, K] (STYLE_INPUTS at MODEL_RATE) and either its performed style
    code [S] or, for a tracked clip, its calibration (sweep levels {parameter: [P]} and the seed-averaged
    statistics the sweep performs {statistic: [P]}) from which a window's code is read."""

    name: str
    frames: np.ndarray
    code: Optional[np.ndarray] = None
    levels: Optional[dict] = None
    sweep: Optional[dict] = None


def window_code(reference: Reference, frames: np.ndarray) -> np.ndarray:
    """[S] target code of a window `frames` [L, K] of a reference (a tracked window's is read from the
    window's own statistics, so an augmented window gets the code of what it now shows)."""
    if reference.code is not None:
        return reference.code
    from ...bench.style_suite import style_statistics
    from ...motion import MotionClip

    stats = style_statistics(MotionClip(list(STYLE_INPUTS), frames, MODEL_RATE))
    values = {name: invert(reference.levels[name], reference.sweep[stat], stats[stat]) for name, stat in LEARNED.items()}
    return style_code(replace(NEUTRAL, **values))


HEAD = [STYLE_INPUTS.index(n) for n in HEAD_ANGLES]
BLINK = STYLE_INPUTS.index("eyeBlinkLeft")


def augment(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A tracked window [L, K] as another person might have moved: played at a drawn speed (0.6-1.6x:
    more or fewer blinks and nods a second), the head's motion about its mean scaled (0.25-3x), and
    some of its blinks left out. The caller reads the target from the result's statistics."""
    L = frames.shape[0]
    index = np.minimum((np.arange(L) * rng.uniform(0.6, 1.6)).astype(int), L - 1)
    out = frames[index[: max(1, int(np.searchsorted(index, L - 1)) + 1)]].copy()
    head = out[:, HEAD]
    out[:, HEAD] = head.mean(axis=0) + (head - head.mean(axis=0)) * np.exp(rng.uniform(np.log(0.25), np.log(3.0)))
    closed = out[:, BLINK] > 0.5
    if closed.any():
        drop = rng.random()
        starts = np.flatnonzero(closed & ~np.concatenate([[False], closed[:-1]]))
        for a in starts[rng.random(starts.size) < drop]:
            b = a + int(np.argmin(closed[a:])) if not closed[a:].all() else out.shape[0]
            out[a:b, BLINK] = np.median(out[:, BLINK])
    return out


def performed_references(corpora, limit: int) -> list:
    """References of the first `limit` clips of each corpus folder, each with its recorded style code."""
    from ..corpus import iter_corpus

    out = []
    for folder in corpora:
        for k, clip in enumerate(iter_corpus(folder)):
            if k >= limit:
                break
            frames = channels_of(clip.target, STYLE_INPUTS, int(clip.target.num_frames / clip.target.fps * MODEL_RATE))
            out.append(Reference(f"{folder}#{k}", frames, code=style_code(clip.style)))
    return out


def tracked_references(folders, config: StyleConfig, reporter: Reporter) -> tuple[list, list]:
    """(references, calibration rows for targets.json) of every tracked pair in `folders`."""
    from ..real_pairs import load_pair

    paths = [p for folder in folders for p in sorted(Path(folder).glob("*.pair.npz"))]
    if not paths:
        raise InputError(f"The tracked folders {', '.join(map(str, folders))} hold no .pair.npz files; "
                         "make them with python -m engine.training.real_pairs.")
    levels = {name: np.array([getattr(s, name) for s in sweep_styles(config.sweep_points)]) for name in LEARNED}
    references, rows = [], []
    reporter.stage("calibrating the tracked clips' styles", len(paths))
    for k, path in enumerate(paths):
        pair = load_pair(path)
        row = calibration(path, pair, config)
        frames = channels_of(pair.clip, STYLE_INPUTS, int(pair.clip.num_frames / pair.clip.fps * MODEL_RATE))
        sweep = {stat: np.array(v) for stat, v in row["sweep"].items()}
        references.append(Reference(row["clip"], frames, levels=levels, sweep=sweep))
        rows.append(row)
        reporter.update(k + 1)
    return references, rows


def calibration(path: Path, pair, config: StyleConfig) -> dict:
    """A tracked pair's calibration row ({clip, video, style, performed, sweep}), kept beside the pair
    (<stem>.style.json) for the same shipped network and sweep, else computed (style_targets)."""
    from ...drivers.adf.runtime import DEFAULT_MODEL
    from ...sidecar import file_sha256

    key = {"network": file_sha256(DEFAULT_MODEL), "points": config.sweep_points, "seeds": list(config.sweep_seeds)}
    cache = path.with_name(path.name[: -len(".pair.npz")] + ".style.json")
    if cache.is_file():
        kept = json.loads(cache.read_text())
        if kept.get("key") == key:
            return kept["row"]
    target = style_target(pair.audio, pair.clip, config.sweep_points, tuple(config.sweep_seeds))
    row = {"clip": path.name[: -len(".pair.npz")], "video": target.video,
           "style": {n: getattr(target.style, n) for n in LEARNED}, "performed": target.reached,
           "sweep": {stat: np.round(v, 5).tolist() for stat, v in target.sweep.items()}}
    cache.write_text(json.dumps({"key": key, "row": row}))
    return row


def draw(references: list, count: int, window: int, rng: np.random.Generator, augmented: bool = False) -> list:
    """`count` (frames [L, K], code [S]) windows of length `window` (a shorter clip whole), clips drawn
    in proportion to their length; `augmented`: each window through `augment` first."""
    lengths = np.array([r.frames.shape[0] for r in references], np.float64)
    out = []
    for k in rng.choice(len(references), size=count, p=lengths / lengths.sum()):
        r = references[k]
        n = min(window, r.frames.shape[0])
        start = int(rng.integers(0, r.frames.shape[0] - n + 1))
        frames = r.frames[start:start + n]
        frames = augment(frames, rng) if augmented else frames
        out.append((head_about_mean(frames), window_code(r, frames)))
    return out


def style_loss(encoder: StyleEncoder, windows: list) -> torch.Tensor:
    """Mean L1 between the encoder's code of each window and its target code."""
    errors = [(encoder(torch.from_numpy(f[None].astype(np.float32)))[0] - torch.from_numpy(c)).abs().mean()
              for f, c in windows]
    return torch.stack(errors).mean()


def train_style(config: StyleConfig, out: Path, reporter: Optional[Reporter] = None) -> Path:
    """Train the style encoder of `config.init_from`'s checkpoint; returns out/checkpoint.pt."""
    from .train import save_checkpoint

    reporter = reporter or silent()
    if not config.init_from:
        raise InputError("The style config needs 'init_from': the ADF checkpoint whose network it keeps.")
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "config.json")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    start = torch.load(config.init_from, map_location="cpu", weights_only=False)
    adf_config = ADFConfig.from_dict(start["config"])
    net, encoder = ADFNet(adf_config, start["n_mels"]), StyleEncoder(adf_config)
    net.load_state_dict(start["net"])
    encoder.load_state_dict(start["style"])
    if config.init_style:
        from .from_onnx import load_weights, onnx_weights

        load_weights(encoder, onnx_weights(Path(config.init_style)))
    in_degrees(encoder)
    performed = performed_references(config.corpora, config.corpus_clips) if config.corpora else []
    tracked, rows = tracked_references(config.tracked, config, reporter) if config.tracked else ([], [])
    (out / "targets.json").write_text(json.dumps(rows, indent=1))
    held = [r for r in tracked if r.name in set(config.heldout)]
    tracked = [r for r in tracked if r.name not in set(config.heldout)]
    if not performed and not tracked:
        raise InputError("The style config names no corpora and no tracked folders to train on.")
    rng = np.random.default_rng(config.seed)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    n_tracked = (int(round(config.batch * config.tracked_fraction)) if performed else config.batch) if tracked else 0
    n_performed = config.batch - n_tracked if performed else 0
    lo, hi = (int(round(s * MODEL_RATE)) for s in (config.min_window_s, config.max_window_s))
    reporter.stage("training the style encoder", config.steps)
    with open(out / "log.jsonl", "w") as log:
        for step in range(config.steps):
            window = int(rng.integers(lo, hi + 1))
            windows = (draw(performed, n_performed, window, rng) if n_performed else []) + \
                (draw(tracked, n_tracked, window, rng, config.augment) if n_tracked else [])
            encoder.train()
            loss = style_loss(encoder, windows)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if (step + 1) % config.log_every == 0 or step + 1 == config.steps:
                log.write(json.dumps({"step": step + 1, "loss": float(loss.detach()),
                                      **held_errors(encoder, held, performed)}) + "\n")
                log.flush()
            reporter.update(step + 1, f"loss {float(loss.detach()):.4f}")
    parametrize.remove_parametrizations(encoder.net[0], "weight", leave_parametrized=True)
    return save_checkpoint(out / "checkpoint.pt", adf_config, net, encoder, start["n_mels"])


class PerInput(torch.nn.Module):
    """A first-layer weight [H, K, k] stored divided by a per-input scale [K] (and used multiplied by it)."""

    def __init__(self, scale: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("scale", scale[None, :, None])

    def forward(self, stored: torch.Tensor) -> torch.Tensor:
        return stored * self.scale

    def right_inverse(self, weight: torch.Tensor) -> torch.Tensor:
        return weight / self.scale


def in_degrees(encoder: StyleEncoder) -> None:
    """Train the encoder's first layer as if the head's and jaw's rotations came in degrees, not radians:
    Adam moves each stored weight about the learning rate a step, so a weight that must grow ~57x to
    read a 0.05 rad nod as clearly as a 0.3 blendshape swing would take thousands of steps; the
    reparametrisation is removed before saving (same graph, same input)."""
    scale = torch.tensor([DEGREES if n.endswith(("_rx", "_ry", "_rz")) else 1.0 for n in STYLE_INPUTS])
    parametrize.register_parametrization(encoder.net[0], "weight", PerInput(scale))


DEGREES = 57.29578


@torch.no_grad()
def held_errors(encoder: StyleEncoder, held: list, performed: list) -> dict:
    """{"held_tracked": mean L1 of the held-out tracked clips' whole-clip codes, per LEARNED parameter,
    "performed": of the first 32 performances} (absent when there are none)."""
    encoder.eval()
    out = {}
    if held:
        index = [STYLE_NAMES.index(n) for n in LEARNED]
        errors = np.array([np.abs(encoder(torch.from_numpy(head_about_mean(r.frames)[None]))[0].numpy() - window_code(r, r.frames))
                           [index] for r in held])
        out["held_tracked"] = dict(zip(LEARNED, np.round(errors.mean(axis=0), 4).tolist()))
    if performed:
        out["performed"] = float(np.mean([np.abs(encoder(torch.from_numpy(head_about_mean(r.frames)[None]))[0].numpy() - r.code).mean()
                                          for r in performed[:32]]))
    return out

