"""Export a distilled NLDF checkpoint to ONNX with its sidecar: a look the runtime (`engine.nldf`) can load.

    python -m engine.training.nldf export runs/nldf_toon/checkpoint.pt --out engine/models/nldf_toon

The graphs take the box-normalised segment points of the rays that hit the
box (what `engine.render.rays.encode_rays` gives with zero frequencies; the
graph applies the positional encoding) and the frame's condition vector:

    "rays" mode      points [N, 3K] float32, condition [1, C] float32 -> rgba [N, 4]   (N dynamic)
    "superres" mode  points [M, 3K] float32, index [M] int64 (flat position of each ray in the
                     low-res grid [h, w]), condition [1, C] float32, grid [h, w] uint8 (only its
                     shape is read: it sizes the grid) -> rgba [1, 4, h s, w s]
                     (M, h and w dynamic: one graph renders any frame size that s divides; the
                     sidecar's trained_size is the size it was distilled at)

RGBA is straight alpha in [0, 1]; the runtime sets full-resolution rays that
miss the box to 0. The sidecar (same name, .json) records what the runtime
checks: format version, kind "nldf", look, mode, image sizes, condition
channel names, box, encoding, inputs/outputs, sha256 of the .onnx, and the
training recipe (command, config, teacher, step, last held-out PSNR).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...errors import ModelError
from ...nldf.sidecar import ENCODING_INPUT, FORMAT_VERSION, KIND
from ...render.rays import HEAD_BOX
from . import graph_rewrite
from .distill import load_checkpoint

OPSET = 17
EXAMPLE_RAYS = 64


class SuperResGraph(nn.Module):
    """The super-resolution student for one frame (the exported signature): the grid's size is the shape of
    the `grid` input, so it stays dynamic in the graph."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, points: torch.Tensor, index: torch.Tensor, condition: torch.Tensor,
                grid: torch.Tensor) -> torch.Tensor:
        return self.model(points, index, condition, 1, grid.shape[0], grid.shape[1])


def export(checkpoint: Path, out: Path, recipe: str = "") -> tuple[Path, Path]:
    """Write out.onnx and out.json from a distillation checkpoint; returns both paths."""
    config, model, data = load_checkpoint(Path(checkpoint))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx_path = out.with_suffix(".onnx")
    width, channels = 3 * config.num_points, len(data["condition_names"])
    points, condition = torch.zeros(EXAMPLE_RAYS, width), torch.zeros(1, channels)
    if config.mode == "superres":
        grid = config.image_size // config.sr_stride
        count = min(EXAMPLE_RAYS, grid * grid)
        example = (points[:count], torch.arange(count), condition, torch.zeros(grid, grid, dtype=torch.uint8))
        graph, names = SuperResGraph(model), ["points", "index", "condition", "grid"]
        dynamic = {"points": {0: "rays"}, "index": {0: "rays"}, "grid": {0: "grid_height", 1: "grid_width"},
                   "rgba": {2: "height", 3: "width"}}
        outputs = {"rgba": [1, 4, "height", "width"]}
        sizes, stride, extra = "any", config.sr_stride, {"trained_size": config.image_size}
    else:
        graph, example = model, (points, condition)
        names, dynamic = ["points", "condition"], {"points": {0: "rays"}, "rgba": {0: "rays"}}
        outputs, sizes, stride, extra = {"rgba": ["rays", 4]}, "any", 1, {}
    torch.onnx.export(graph.eval(), example, str(onnx_path), input_names=names, output_names=["rgba"],
                      dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)
    if config.mode == "superres":
        extra["graph_rewrites"] = faster_export(onnx_path)
    inputs = {"points": ["rays", width], "condition": [1, channels]}
    if config.mode == "superres":
        inputs["index"], inputs["grid"] = ["rays"], ["grid_height", "grid_width"]
    sidecar = {"format_version": FORMAT_VERSION, "kind": KIND, "look": config.look, "mode": config.mode,
               "head": data["head"], "image_sizes": sizes, "ray_stride": stride, **extra, "alpha": "straight",
               "condition_channels": list(data["condition_names"]),
               "box": {"low": list(HEAD_BOX.low), "high": list(HEAD_BOX.high)},
               "encoding": {"input": ENCODING_INPUT, "num_points": config.num_points,
                            "num_frequencies": config.num_frequencies, "include_input": True},
               "inputs": inputs, "outputs": outputs,
               "training": {"recipe": recipe, "teacher": data.get("teacher"), "step": data["step"],
                            "quality": last_quality(Path(checkpoint).parent / "log.jsonl", data["step"]),
                            "config": config.to_dict()}}
    return onnx_path, write_sidecar(onnx_path, sidecar)


def faster_export(onnx_path: Path) -> list:
    """Rewrite a just-exported super-resolution graph into its faster, equivalent form (`graph_rewrite`);
    the names of the rewrites, for the sidecar."""
    import onnx

    onnx.save(graph_rewrite.faster_graph(onnx.load(str(onnx_path))), str(onnx_path))
    return graph_rewrite.REWRITES


def rewrite_look(onnx_path: Path, rays: int = 96, grid: int = 12, seed: int = 0) -> float:
    """Rewrite an exported super-resolution look's .onnx in place with `graph_rewrite.faster_graph`, after
    checking on `rays` random rays of a grid x grid frame that both graphs give the same RGBA (within its
    TOLERANCE); update its sidecar (sha256, the rewrites). Returns the largest difference found; ModelError
    when it is larger (the files are then left as they were)."""
    import onnx

    onnx_path = Path(onnx_path)
    sidecar = json.loads(onnx_path.with_suffix(".json").read_text())
    before = onnx.load(str(onnx_path))
    after = graph_rewrite.faster_graph(before)
    feeds = graph_rewrite.example_feeds(sidecar, rays, grid, seed)
    outputs = [graph_rewrite.run_graph(model, feeds) for model in (before, after)]
    difference = float(np.abs(outputs[0] - outputs[1]).max())
    if difference > graph_rewrite.TOLERANCE:
        raise ModelError(f"The rewritten graph of '{onnx_path.name}' differs by {difference:.2g} from the "
                         "original; it was left as it was.")
    onnx.save(after, str(onnx_path))
    fields = {k: v for k, v in sidecar.items() if k not in ("onnx", "sha256")}
    fields["graph_rewrites"] = graph_rewrite.REWRITES
    write_sidecar(onnx_path, fields)
    return difference


def last_quality(log: Path, step: int | None = None) -> dict:
    """The held-out PSNR of a run's log.jsonl at `step` (the last line at or before it; None: the last
    line), {} without one: a kept checkpoint of a run that went on is scored at its own step."""
    if not log.exists():
        return {}
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    if step is not None:
        lines = [line for line in lines if line.get("step", 0) <= step]
    return {k: lines[-1][k] for k in ("step", "psnr", "psnr_mouth", "psnr_eyes") if lines and k in lines[-1]}


def write_sidecar(onnx_path: Path, fields: dict) -> Path:
    """Write the sidecar beside `onnx_path`, with the file's name and sha256."""
    path = onnx_path.with_suffix(".json")
    digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    path.write_text(json.dumps({**fields, "onnx": onnx_path.name, "sha256": digest}, indent=2))
    return path
