"""Distil a look: teacher frames -> NLDF student trained with the active pool -> resumable checkpoints.

    python -m engine.training.nldf distill --look toon --out runs/nldf_toon [--set key=value ...]

Writes out/config.json (resolved, before the first step), out/checkpoint.pt
(weights, optimiser, step, pool and random state; written atomically every
checkpoint_every steps, and a run started again on the same folder continues
from it; with keep_checkpoints each one is also kept as checkpoint_<step>.pt),
out/log.jsonl (every log_every steps: the loss, and the PSNR of the
student against the teacher on held-out frames, whole frame and mouth box)
and out/teacher/ (the teacher frames as npz shards, unless cache_dir is set).

Under torchrun (engine.training.distributed) each process renders its share
of the teacher shards, every step is split across the processes, and only
rank 0 writes config.json, the log and the checkpoints; batch_rays (or
batch_frames) must split evenly across them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ...errors import InputError
from ...head import load_head
from ...head.model import HeadModel
from ...nldf.condition import condition_names
from ...progress import Reporter, silent
from ..checkpoints import keep_step_copy
from ..distributed import Processes, with_processes
from .config import NLDFConfig
from .data import FrameSet, Specs, cached_shard, sample_specs, teacher_frames
from .model import build_model, parameter_groups
from .trainers import FrameTrainer, RayTrainer, evaluate

# may change on resuming
RESUMABLE_CHANGES = {"steps", "log_every", "checkpoint_every", "keep_checkpoints", "threads", "cache_dir"}
EVAL_SEED_OFFSET = 1_000_003  # held-out frames are drawn with seed + this


@with_processes
def distill(config: NLDFConfig, out: Path, teacher=None, teacher_name: Optional[str] = None,
            reporter: Optional[Reporter] = None, head: Optional[HeadModel] = None,
            processes: Optional[Processes] = None, motion: Optional[dict] = None) -> Path:
    """Distil `teacher` ((params, camera) -> RGBA; None: the mesh teacher of config.look) into a student;
    returns the checkpoint path. A folder that holds a checkpoint of the same settings is continued.
    `processes`: torchrun's (found in the environment when not given), else one process; `motion`: head
    parameters to draw the frames from ({"expression": [T, E], "pose": [T, 5, 3], "translation": [T, 3]},
    e.g. a tracked video's; None: the config's voice through the phonetic driver)."""
    reporter = (reporter or silent()) if processes.main else silent()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    resumed = load_resumable(out / "checkpoint.pt", config)
    if processes.main:
        config.save(out / "config.json")
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    head = load_head() if head is None else head
    teacher, teacher_name = resolve_teacher(config, head, teacher, teacher_name)
    train_frames, eval_frames = distillation_frames(config, head, teacher, teacher_name, out, reporter, processes,
                                                    motion)
    names = condition_names(head)
    model = build_model(config, len(names))
    superres = config.mode == "superres"
    processes.check_split(config.batch_frames if superres else config.batch_rays,
                          "batch_frames" if superres else "batch_rays")
    trainer = (FrameTrainer if superres else RayTrainer)(model, train_frames, config, processes)
    optimizer = torch.optim.Adam(parameter_groups(model, config), lr=config.learning_rate)
    rng = np.random.default_rng(config.seed)
    step = 0
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        trainer.pool.load_state(resumed["pool"])
        rng.bit_generator.state = resumed["rng"]
        step = int(resumed["step"])
    extra = {"condition_names": list(names), "head": head.name, "teacher": teacher_name}
    reporter.stage("distilling NLDF", config.steps)
    with open(out / "log.jsonl", "a") if processes.main else contextlib.nullcontext() as log:
        started, first_step = time.monotonic(), step
        while step < config.steps:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, config) * group.get("lr_scale", 1.0)
            loss = processes.mean({"loss": trainer.step(optimizer, rng)})["loss"]
            step += 1
            if step % max(1, config.pool_refresh) == 0:
                trainer.pool.refresh()
            if processes.main and (step % config.log_every == 0 or step == config.steps):
                line = {"step": step, "time": round(time.time(), 1), "loss": loss,
                        "lr": learning_rate(step - 1, config), **evaluate(trainer, eval_frames),
                        "pool_size": int(trainer.pool.hard.size),
                        "seconds_per_step": round((time.monotonic() - started) / (step - first_step), 4)}
                log.write(json.dumps(line) + "\n")
                log.flush()
            reporter.update(step, f"loss {loss:.5f}")
            if processes.main and config.checkpoint_every and step % config.checkpoint_every == 0:
                save_checkpoint(out / "checkpoint.pt", config, model, optimizer, trainer.pool, rng, step, extra)
                if config.keep_checkpoints:
                    keep_step_copy(out / "checkpoint.pt", step)
    if processes.main:
        save_checkpoint(out / "checkpoint.pt", config, model, optimizer, trainer.pool, rng, step, extra)
    processes.barrier()   # the checkpoint is on disk when distill returns, on every process
    return out / "checkpoint.pt"


def resolve_teacher(config: NLDFConfig, head: HeadModel, teacher, teacher_name: Optional[str]):
    """(teacher, name): the given callable (named `teacher_name`, or the look), else the NeRF teacher of
    config.teacher (named by a hash of its checkpoint, so a refit is not mixed up with the cache), else
    the mesh teacher of config.look."""
    if teacher is not None:
        return teacher, teacher_name or config.look
    if config.teacher:
        path = Path(config.teacher)
        if not path.is_file():
            raise InputError(f"The NeRF teacher checkpoint '{path}' does not exist; fit one with "
                             "'python -m engine.training.teachers nerf-fit' or clear 'teacher' to use the mesh look.")
        from ..teachers.nerf import nerf_teacher

        return nerf_teacher(path), f"nerf-{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    from ..teachers import teacher as mesh_teacher

    return mesh_teacher(config.look, head), config.look


def training_motion(config: NLDFConfig, head: HeadModel) -> dict:
    """Head parameters {"expression": [T, E], "pose": [T, 5, 3], "translation": [T, 3]} of the config's voice."""
    from ...animate import animate

    if not config.voice_path.is_file():
        raise InputError(f"The voice '{config.voice_path}' does not exist; set 'voice' to a speech file.")
    return animate(config.voice_path, fps=config.fps, driver="phonetic", seed=config.seed).head_params(head)


def teacher_cache(config: NLDFConfig, out: Path) -> Path:
    """Where the run in folder `out` keeps its teacher frames: config.cache_dir, else out/teacher."""
    return Path(config.cache_dir) if config.cache_dir else Path(out) / "teacher"


def distillation_frames(config: NLDFConfig, head: HeadModel, teacher, teacher_name: str, out: Path,
                        reporter: Reporter, processes: Optional[Processes] = None,
                        motion: Optional[dict] = None) -> tuple[FrameSet, FrameSet]:
    """(training frames, held-out frames), rendered by the teacher or read from the cache; drawn from
    `motion` (None: the config's voice, `training_motion`)."""
    cache = teacher_cache(config, out)
    motion = training_motion(config, head) if motion is None else motion
    train = sample_specs(config, head, config.frames, config.seed, motion)
    held = sample_specs(config, head, config.eval_frames, config.seed + EVAL_SEED_OFFSET, motion)
    for specs in (train, held):
        render_share(config, head, teacher, teacher_name, specs, cache, processes or Processes())
    return (teacher_frames(config, head, teacher, teacher_name, train, cache, reporter),
            teacher_frames(config, head, teacher, teacher_name, held, cache, reporter))


def render_share(config: NLDFConfig, head: HeadModel, teacher, teacher_name: str, specs: Specs, cache: Path,
                 processes: Processes) -> None:
    """With several processes: render this one's share of the teacher shards of `specs` into `cache` (shard i
    by rank i mod size), then wait for the others, so each shard is rendered once where the cache is shared."""
    if processes.size == 1:
        return
    for i, start in enumerate(range(0, len(specs), config.shard_frames)):
        if i % processes.size == processes.rank:
            cached_shard(config, head, teacher, teacher_name, specs.slice(start, start + config.shard_frames), cache)
    processes.barrier()


def distillation_set(run: Path, head: HeadModel, reporter: Optional[Reporter] = None):
    """The training frames of the NLDF run in folder `run` (its config.json and teacher cache) as
    (frames [F, H, W, 4], params [F] dicts, cameras [F], the run's NLDFConfig): what a NeRF teacher is
    fitted to when it is to see exactly the frames the student saw."""
    path = Path(run) / "config.json"
    if not path.is_file():
        raise InputError(f"'{run}' is not an NLDF run folder (it has no config.json); give the --out folder "
                         "of a 'python -m engine.training.nldf distill' run.")
    config = NLDFConfig.load(path)
    teacher, name = resolve_teacher(config, head, None, None)
    cache = teacher_cache(config, Path(run))
    specs = sample_specs(config, head, config.frames, config.seed, training_motion(config, head))
    frames = teacher_frames(config, head, teacher, name, specs, cache, reporter)
    return frames.rgba, [specs.params(k) for k in range(len(specs))], frames.cameras, config


def learning_rate(step: int, config: NLDFConfig) -> float:
    """Linear warm-up then cosine decay to 5% of the peak."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.learning_rate * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def load_resumable(path: Path, config: NLDFConfig) -> Optional[dict]:
    """The checkpoint at `path` when there is one to continue; InputError when it was made with other
    settings (only RESUMABLE_CHANGES may differ)."""
    if not path.exists():
        return None
    data = torch.load(path, map_location="cpu", weights_only=False)
    # a key the saved config lacks is one added since it was written: it ran with that key's default
    saved, wanted = {**NLDFConfig().to_dict(), **data["config"]}, config.to_dict()
    changed = sorted(k for k in wanted if k not in RESUMABLE_CHANGES and saved.get(k) != wanted[k])
    if changed:
        raise InputError(f"The run folder '{path.parent}' holds a run with other settings ({', '.join(changed)}); "
                         "continue it with the same settings or choose a new --out.")
    return data


def save_checkpoint(path: Path, config: NLDFConfig, model, optimizer, pool, rng, step: int, extra: dict) -> Path:
    """Write everything a continued run and the export need, atomically (a killed run keeps the last one)."""
    tmp = path.with_name(path.name + ".partial")
    torch.save({"config": config.to_dict(), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "pool": pool.state(), "rng": rng.bit_generator.state, "step": step, **extra}, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: Path):
    """(config, student in eval mode, checkpoint dict) of a checkpoint."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError) as error:
        raise InputError(f"Cannot read the NLDF checkpoint '{path}' ({error}).") from None
    config = NLDFConfig.from_dict(data["config"])
    model = build_model(config, len(data["condition_names"]))
    model.load_state_dict(data["model"])
    return config, model.eval(), data
