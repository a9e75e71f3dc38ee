"""A training checkpoint from a shipped ONNX model: fine-tune the model that ships even when its
run folder (runs/adf_stage2/checkpoint.pt) is gone.

    python -m engine.training.adf from-onnx engine/models/adf.onnx --out runs/adf_shipped

The export keeps every weight: the convolutions, norms and biases under their module names,
and each transformer Linear's weight as a MatMul operand (transposed) on a node named after
the module (`/encoder.0/qkv/MatMul` -> `encoder.0.qkv.weight`). The config is the sidecar's.
The auxiliary phone head is not in the exported graph: it starts from a seeded random init.
The rebuilt network is checked against onnxruntime on a random input before it is saved.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ...errors import InputError
from .config import ADFConfig
from .model import STYLE_INPUTS, ADFNet, StyleEncoder
from .train import save_checkpoint

MATCH_TOLERANCE = 1e-4     # largest |torch - onnxruntime| accepted on the check input


def onnx_weights(path: Path) -> dict:
    """{state-dict name: array} of an exported graph: named initializers as they are, MatMul
    operands renamed after their node and transposed back to torch's [out, in]."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    weights = {k: v for k, v in arrays.items() if not k.startswith("onnx::")}
    for node in graph.node:
        if node.op_type == "MatMul" and len(node.input) == 2 and node.input[1] in arrays:
            module = node.name.strip("/").rsplit("/", 1)[0].split("/")[-1]   # "/encoder.0/ff/ff.0/MatMul" -> "ff.0"
            block = node.name.strip("/").split("/")[0]                      # -> "encoder.0"
            name = f"{block}.{module}.weight" if module != block else f"{block}.weight"
            weights[name] = arrays[node.input[1]].T.copy()
    return weights


def load_weights(module: torch.nn.Module, weights: dict, skip_prefix: str = "") -> None:
    """Copy `weights` ({state name: array}, from onnx_weights) into `module`; InputError naming a weight
    that is missing (other than under `skip_prefix`) or of another shape."""
    state = module.state_dict()
    missing = [k for k in state if k not in weights and not (skip_prefix and k.startswith(skip_prefix))]
    if missing:
        raise InputError(f"The ONNX model lacks the weight(s) {', '.join(missing[:3])}; it is not an ADF export.")
    for k in state:
        if k in weights:
            if tuple(weights[k].shape) != tuple(state[k].shape):
                raise InputError(f"The ONNX weight {k} is {weights[k].shape}, the network's {tuple(state[k].shape)}.")
            state[k] = torch.from_numpy(np.array(weights[k], np.float32))
    module.load_state_dict(state)


def checkpoint_from_onnx(onnx_path: Path, out: Path) -> Path:
    """Write out/checkpoint.pt (+ config.json) holding the network of `onnx_path` (its sidecar beside it)
    and the style encoder `<name>_style.onnx`; returns the checkpoint path."""
    onnx_path = Path(onnx_path)
    sidecar = onnx_path.with_suffix(".json")
    if not sidecar.is_file():
        raise InputError(f"The ONNX model '{onnx_path}' has no sidecar '{sidecar.name}' beside it.")
    values = dict(json.loads(sidecar.read_text())["training"]["config"])
    values.update(init_from="", stop_at_step=0)
    config = ADFConfig.from_dict(values)
    n_mels = int(config.feature_config.n_mels)
    torch.manual_seed(config.seed)
    net, style_net = ADFNet(config, n_mels).eval(), StyleEncoder(config).eval()
    load_weights(net, onnx_weights(onnx_path), skip_prefix="phone_head.")
    load_weights(style_net, onnx_weights(onnx_path.parent / f"{onnx_path.stem}_style.onnx"))
    _check_against_onnx(net, style_net, onnx_path, n_mels)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "config.json")
    return save_checkpoint(out / "checkpoint.pt", config, net, style_net, n_mels)


def _check_against_onnx(net, style_net, onnx_path: Path, n_mels: int) -> None:
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    mel = rng.standard_normal((1, 300, n_mels)).astype(np.float32)
    style = rng.uniform(-1, 1, (1, 7)).astype(np.float32)
    reference = rng.standard_normal((1, 150, len(STYLE_INPUTS))).astype(np.float32)
    with torch.no_grad():
        ours = net(torch.from_numpy(mel), torch.from_numpy(style)).numpy()
        our_style = style_net(torch.from_numpy(reference)).numpy()
    theirs = ort.InferenceSession(str(onnx_path)).run(None, {"mel": mel, "style": style})[0]
    style_path = onnx_path.parent / f"{onnx_path.stem}_style.onnx"
    their_style = ort.InferenceSession(str(style_path)).run(None, {"reference": reference})[0]
    error = max(float(np.abs(ours - theirs).max()), float(np.abs(our_style - their_style).max()))
    if error > MATCH_TOLERANCE:
        raise InputError(f"The network rebuilt from '{onnx_path.name}' differs from it by {error:.2g}; "
                         "the export's layout is not the one this reader knows.")
