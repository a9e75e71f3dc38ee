"""Export a trained ADF checkpoint to ONNX (network + style encoder, or the style encoder alone), each
with its sidecar.

The wrappers give the graphs named inputs and outputs with a dynamic length:

    adf.onnx        mel [B, T, M] float32, style [B, S] float32 -> channels [B, ceil(T / 2), C]
    adf_style.onnx  reference [1, R, K] float32 -> style [1, S]

and the sidecars (adf.json, adf_style.json) record what the runtime checks:
format version, inputs/outputs, channel names, rates, feature config, the
sha256 of the .onnx, the training recipe, and the quality measured before it shipped (when given).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

import torch

from ...drivers.adf.channels import MODEL_RATE, OUTPUT_CHANNELS, STYLE_NAMES
from ...drivers.adf.sidecar import FORMAT_VERSION
from .model import STYLE_INPUTS
from .train import load_checkpoint

OPSET = 17
EXAMPLE_FRAMES = 400


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def export(checkpoint: Path, out: Path, recipe: str = "", quality: Optional[dict] = None) -> tuple[Path, Path]:
    """Write out.onnx/out.json (network) and out_style.onnx/out_style.json; returns the first pair.
    `quality` ({measure: figure}) is recorded in both sidecars as it is."""
    config, net, style_net = load_checkpoint(checkpoint)
    n_mels = net.front[0].in_channels
    out.parent.mkdir(parents=True, exist_ok=True)
    net_path, style_path = out.with_suffix(".onnx"), out.parent / f"{out.name}_style.onnx"
    mel, style = torch.zeros(1, EXAMPLE_FRAMES, n_mels), torch.zeros(1, len(STYLE_NAMES))
    torch.onnx.export(net, (mel, style), str(net_path), input_names=["mel", "style"], output_names=["channels"],
                      dynamic_axes={"mel": {0: "batch", 1: "frames"}, "style": {0: "batch"},
                                    "channels": {0: "batch", 1: "out_frames"}}, opset_version=OPSET,
                      dynamo=False)
    common = _common(config, recipe, quality)
    sidecar = _write_sidecar(net_path, {**common, "kind": "adf", "channels": list(OUTPUT_CHANNELS),
                                        "inputs": {"mel": ["batch", "frames", n_mels], "style": ["batch", len(STYLE_NAMES)]},
                                        "outputs": {"channels": ["batch", "ceil(frames / 2)", len(OUTPUT_CHANNELS)]}})
    _export_style(style_net, style_path, common)
    return net_path, sidecar


def export_style(checkpoint: Path, out: Path, recipe: str = "", quality: Optional[dict] = None,
                 style_training: Optional[dict] = None) -> Path:
    """Write only out_style.onnx/out_style.json (the network's files, out.onnx/out.json, are left as
    they are: a style-encoder run changes nothing else); `style_training` (the style run's config) is
    recorded beside the network's config. Returns the style sidecar's path."""
    config, _, style_net = load_checkpoint(checkpoint)
    out.parent.mkdir(parents=True, exist_ok=True)
    common = _common(config, recipe, quality)
    if style_training:
        common["training"]["style_config"] = dict(style_training)
    common["head_about_mean"] = True        # train-style feeds the encoder the head about its mean pose
    return _export_style(style_net, out.parent / f"{out.name}_style.onnx", common)


def _common(config, recipe: str, quality: Optional[dict]) -> dict:
    common = {"format_version": FORMAT_VERSION, "model_rate": MODEL_RATE, "style_names": list(STYLE_NAMES),
              "features": config.features, "training": {"recipe": recipe, "config": config.to_dict()}}
    if quality:
        common["quality"] = dict(quality)
    return common


def _export_style(style_net, style_path: Path, common: dict) -> Path:
    reference = torch.zeros(1, EXAMPLE_FRAMES // 2, len(STYLE_INPUTS))
    torch.onnx.export(style_net, (reference,), str(style_path), input_names=["reference"], output_names=["style"],
                      dynamic_axes={"reference": {1: "frames"}}, opset_version=OPSET, dynamo=False)
    return _write_sidecar(style_path, {**common, "kind": "adf_style", "reference_channels": list(STYLE_INPUTS),
                                       "inputs": {"reference": [1, "frames", len(STYLE_INPUTS)]},
                                       "outputs": {"style": [1, len(STYLE_NAMES)]}})


def _write_sidecar(onnx_path: Path, fields: dict) -> Path:
    path = onnx_path.with_suffix(".json")
    path.write_text(json.dumps({**fields, "onnx": onnx_path.name, "sha256": sha256_of(onnx_path)}, indent=2))
    return path
