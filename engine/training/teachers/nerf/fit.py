"""Fit the NeRF teacher to frames: random box-crossing rays -> volume rendering -> Adam, resumable.

    fit_nerf(frames, params, cameras, config, out) -> out/checkpoint.pt

Writes out/config.json (resolved, before the first step), out/data.json
(frames, rays, the share of the frames' alpha outside the head's box), out/checkpoint.pt
(field, optimiser state, step, config, the head it was fitted on; written
atomically every `checkpoint_every` steps and at the end) and appends to
out/log.jsonl (one line per `log_every` steps: step, loss, PSNR of the batch
in premultiplied RGBA, learning rate, seconds). A folder that already holds
a checkpoint of the same config resumes from it; `steps` may grow.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Optional

import torch

from ....errors import InputError
from ....head import load_head
from ....head.model import HeadModel
from ....progress import Reporter, silent
from .config import NeRFConfig
from .field import HeadField, code_size
from .frames import RayTable, ray_table
from .volume import render_rays

CHECKPOINT_FORMAT = "nerf-teacher-1"
CHECKPOINT_NAME = "checkpoint.pt"


def fit_nerf(frames, params, cameras, config: NeRFConfig, out, reporter: Optional[Reporter] = None,
             head: Optional[HeadModel] = None) -> Path:
    """Fit a NeRF teacher to frames [F] (RGBA [H, W, 4] straight alpha), parameters [F] and cameras [F].

    params: one head-parameter dict (or (MotionClip, frame) pair) per frame,
    as the mesh teacher takes them; head: the head they drive (None: the
    built-in head). Returns the checkpoint path.
    """
    reporter, head, out = reporter or silent(), head or load_head(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    table = ray_table(head, frames, params, cameras)
    write_data_summary(out / "data.json", frames, table)
    field = HeadField(config, code_size(len(head.expression_names)))
    optimizer = make_optimizer(field, config)
    start = resume(out / CHECKPOINT_NAME, config, head, field, optimizer)
    config.save(out / "config.json")
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + start)
    reporter.stage("fitting the NeRF teacher", config.steps)
    reporter.update(start)
    began = time.monotonic()
    with open(out / "log.jsonl", "a" if start else "w") as log:
        for step in range(start, config.steps):
            lr = set_learning_rate(optimizer, step, config)
            stats = fit_step(field, table, config, optimizer, generator)
            done = step + 1
            if field.occupancy is not None and done >= config.occupancy_start and done % config.occupancy_every == 0:
                field.occupancy.update(field, table.codes, generator)
            if done % config.log_every == 0 or done == config.steps:
                line = {"step": done, **stats, "lr": lr, "seconds": round(time.monotonic() - began, 2)}
                if field.occupancy is not None:
                    line["occupied"] = round(field.occupancy.fraction, 4)
                log.write(json.dumps(line) + "\n")
                log.flush()
            if config.checkpoint_every and done % config.checkpoint_every == 0 and done < config.steps:
                save_checkpoint(out / CHECKPOINT_NAME, config, head, field, optimizer, done)
            reporter.update(done, f"PSNR {stats['psnr']:.1f} dB")
    return save_checkpoint(out / CHECKPOINT_NAME, config, head, field, optimizer, max(start, config.steps))


def write_data_summary(path: Path, frames, table: RayTable) -> None:
    """Frames, rays, and the share of the frames' coverage (alpha) outside the head's box, which no fit can learn."""
    coverage = float(sum(float(frame[..., 3].sum()) for frame in frames))
    path.write_text(json.dumps({"frames": len(frames), "rays": len(table),
                                "alpha_outside_box": round(table.missed_coverage / max(coverage, 1e-9), 6)}))


def make_optimizer(field: HeadField, config: NeRFConfig) -> torch.optim.Adam:
    """Adam over the MLPs at `learning_rate` and the planes `plane_lr_scale` times faster."""
    planes = list(field.planes.parameters())
    plane_ids = {id(p) for p in planes}
    others = [p for p in field.parameters() if id(p) not in plane_ids]
    return torch.optim.Adam([{"params": others, "scale": 1.0},
                             {"params": planes, "scale": config.plane_lr_scale}],
                            lr=config.learning_rate, betas=(0.9, 0.99), eps=1e-15)


def set_learning_rate(optimizer, step: int, config: NeRFConfig) -> float:
    """Exponential decay from `learning_rate` to `final_lr_fraction` of it over `steps`; returns the MLPs' rate."""
    lr = config.learning_rate * config.final_lr_fraction ** (step / max(1, config.steps))
    for group in optimizer.param_groups:
        group["lr"] = lr * group["scale"]
    return lr


def fit_step(field: HeadField, table: RayTable, config: NeRFConfig, optimizer, generator) -> dict:
    """One step on `rays_per_step` random rays: premultiplied colour + weighted opacity squared error."""
    field.train()
    index = torch.randint(len(table), (config.rays_per_step,), generator=generator)
    origins, directions, near, far, codes, target = table.batch(index)
    colour, opacity = render_rays(field, origins, directions, near, far, codes, config.samples,
                                  config.importance_samples, jitter=True, generator=generator,
                                  occupancy=field.sampler_mask())
    colour_error = (colour - target[:, :3]).pow(2).mean()
    alpha_error = (opacity - target[:, 3]).pow(2).mean()
    loss = colour_error + config.alpha_weight * alpha_error
    if config.plane_tv_weight:
        loss = loss + config.plane_tv_weight * field.planes.total_variation()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    mse = float((3.0 * colour_error + alpha_error).detach()) / 4.0
    return {"loss": round(float(loss.detach()), 7), "psnr": round(psnr_of_mse(mse), 3)}


def psnr_of_mse(mse: float) -> float:
    """PSNR in dB of a mean squared error of values in [0, 1]."""
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


def save_checkpoint(path: Path, config: NeRFConfig, head: HeadModel, field: HeadField, optimizer, step: int) -> Path:
    """Write field, optimiser, step and config atomically (a killed run leaves the previous checkpoint)."""
    tmp = path.with_name(path.name + ".partial")
    torch.save({"format": CHECKPOINT_FORMAT, "config": config.to_dict(), "step": int(step),
                "head": head.name, "expression_names": list(head.expression_names),
                "field": field.state_dict(), "optimizer": optimizer.state_dict()}, tmp)
    tmp.replace(path)
    return path


def read_checkpoint(path) -> dict:
    """The checkpoint's contents; InputError for a missing file or one that is no NeRF teacher."""
    try:
        data = torch.load(Path(path), map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as error:
        raise InputError(f"Cannot read the NeRF teacher checkpoint '{path}' ({error}); fit one with "
                         f"`python -m engine.training.teachers nerf-fit`.") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"'{path}' is not a NeRF teacher checkpoint ({CHECKPOINT_FORMAT}).")
    return data


def resume(path: Path, config: NeRFConfig, head: HeadModel, field: HeadField, optimizer) -> int:
    """Load a checkpoint of the same config and head into field and optimiser; its step (0 without one)."""
    if not path.exists():
        return 0
    data = read_checkpoint(path)
    differing = config.differences(NeRFConfig.from_dict(data["config"]))
    if differing:
        raise InputError(f"The run in '{path.parent}' was made with other values of {', '.join(differing)}; "
                         f"fit into a new folder, or give the same config to resume.")
    check_head(data, head, path)
    field.load_state_dict(data["field"])
    optimizer.load_state_dict(data["optimizer"])
    return int(data["step"])


def check_head(data: dict, head: HeadModel, path) -> None:
    """InputError unless the checkpoint was fitted on a head with `head`'s expression components."""
    if list(data["expression_names"]) != list(head.expression_names):
        raise InputError(f"The NeRF teacher '{path}' was fitted on the head '{data['head']}', whose expression "
                         f"components differ from '{head.name}''s; give it that head.")


def load_field(path, head: Optional[HeadModel] = None):
    """(config, field in eval mode, head) of a checkpoint; head None loads the built-in head."""
    data = read_checkpoint(path)
    head = head or load_head()
    check_head(data, head, path)
    config = NeRFConfig.from_dict(data["config"])
    field = HeadField(config, code_size(len(head.expression_names)))
    field.load_state_dict(data["field"])
    return config, field.eval(), head
