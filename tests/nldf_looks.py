"""Tiny NLDF looks the tests make themselves: an untrained student, checkpointed and exported (needs torch)."""

from __future__ import annotations

from pathlib import Path

TINY = {"image_size": 16, "frames": 3, "eval_frames": 1, "shard_frames": 2, "width": 8, "blocks": 1,
        "batch_rays": 64, "batch_frames": 2, "sr_features": 4, "sr_channels": 4, "num_points": 4,
        "num_frequencies": 2, "steps": 2, "log_every": 1, "checkpoint_every": 1, "pool_refresh": 1}


def tiny_config(**changes):
    from engine.training.nldf.config import NLDFConfig

    return NLDFConfig.from_dict({**TINY, **changes})


def tiny_checkpoint(folder: Path, seed: int = 0, **changes) -> Path:
    """A checkpoint of a randomly initialised tiny student (built-in head conditions) in `folder`."""
    import torch

    from engine.head import load_head
    from engine.nldf.condition import condition_names
    from engine.training.nldf.model import build_model

    config = tiny_config(**changes)
    names = condition_names(load_head())
    torch.manual_seed(seed)
    model = build_model(config, len(names))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "checkpoint.pt"
    torch.save({"config": config.to_dict(), "model": model.state_dict(), "condition_names": list(names),
                "head": "builtin", "teacher": config.look, "step": 0}, path)
    return path


def tiny_look(folder: Path, name: str = "tiny", **changes) -> Path:
    """Export a tiny student to folder/nldf_<name>.onnx (+ .json); returns the .onnx path."""
    from engine.training.nldf.export import export

    checkpoint = tiny_checkpoint(folder / f"run_{name}", **changes)
    return export(checkpoint, folder / f"nldf_{name}", recipe="tests")[0]
