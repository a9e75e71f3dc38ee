"""Run the ADF network with onnxruntime: windows of features -> cross-faded channels.

A clip of any length runs in windows of WINDOW_S with OVERLAP_S on each side
of the seams; neighbouring windows are cross-faded linearly over the overlap,
so memory stays constant and the seams do not show (the network is local:
each output frame sees +-0.6 s of audio plus its convolutions).
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ...errors import ModelError
from ..models import SHIPPED as MODELS
from . import MODEL_FILE
from .channels import OUTPUT_CHANNELS, STYLE_NAMES
from .sidecar import read_sidecar

DEFAULT_MODEL = MODELS / MODEL_FILE
WINDOW_S = 4.0        # audio per network call (the training windows' length; shorter is cheaper)
OVERLAP_S = 1.0       # cross-fade between neighbouring windows
FEATURE_RATE = 100    # mel frames per second (2 per output frame)
BATCH_WINDOWS = 8     # full windows per network call, when the graph takes a batch
CUDA_LIBRARIES = ("libcudart.so.12", "libcublas.so.12", "libcudnn.so.9")


@dataclass
class ADFModel:
    """An ONNX network with its checked sidecar."""

    session: object
    sidecar: dict
    path: Path

    @property
    def batched(self) -> bool:
        """Whether the graph's batch axis is dynamic (older exports took one window per call)."""
        return not isinstance(self.session.get_inputs()[0].shape[0], int)

    @property
    def channels(self) -> tuple:
        return tuple(self.sidecar["channels"])


def available(path: Path = DEFAULT_MODEL) -> bool:
    """True when the shipped (or given) model file is there."""
    return Path(path).exists()


def providers(device: str = "auto") -> list[str]:
    """onnxruntime providers for `device` ("auto", "cpu", "gpu"): CUDA only where its libraries
    load (asking for it elsewhere makes onnxruntime print errors), CPU always last."""
    import onnxruntime

    if device == "cpu" or "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        return ["CPUExecutionProvider"]
    try:
        for name in CUDA_LIBRARIES:
            ctypes.CDLL(name)
    except OSError:
        if device == "gpu":
            raise ModelError("A GPU was asked for but CUDA 12 / cuDNN 9 are not installed; use the CPU device.") from None
        return ["CPUExecutionProvider"]
    return ["CUDAExecutionProvider", "CPUExecutionProvider"]


def load_model(path: Optional[Path] = None, kind: str = "adf", device: str = "auto") -> ADFModel:
    """An ADF network (or, kind="adf_style", its style encoder) ready to run; ModelError when the
    file or its sidecar is missing or they do not match this engine."""
    import onnxruntime

    path = Path(path) if path else (DEFAULT_MODEL if kind == "adf" else MODELS / "adf_style.onnx")
    sidecar = read_sidecar(path, kind)
    if kind == "adf" and tuple(sidecar.get("channels", ())) != OUTPUT_CHANNELS:
        raise ModelError(f"'{path.name}' predicts other channels than this engine expects; re-export it "
                         "with the engine it is used with.")
    if tuple(sidecar.get("style_names", ())) != STYLE_NAMES:
        raise ModelError(f"'{path.name}' was trained with other style parameters; re-export it.")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = min(2, os.cpu_count() or 1)
    chosen = providers(device)  # its ModelError (no CUDA for "gpu") is the user's sentence, kept as it is
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=chosen)
    except Exception as error:  # onnxruntime raises its own untyped errors for unreadable graphs
        raise ModelError(f"onnxruntime cannot load '{path.name}' ({type(error).__name__}); reinstall the model.") from None
    return ADFModel(session, sidecar, path)


def run_network(model: ADFModel, mel: np.ndarray, code: np.ndarray, reporter=None) -> np.ndarray:
    """Channels [ceil(T / 2), C] from normalised log-mel [T, M] and a style code [S], window by window.

    Full windows run BATCH_WINDOWS at a time when the graph takes a batch (bigger matrix
    products, fewer calls); memory stays bounded by one batch whatever the length."""
    T = mel.shape[0]
    window, overlap = int(WINDOW_S * FEATURE_RATE), int(OVERLAP_S * FEATURE_RATE)
    out = np.zeros(((T + 1) // 2, len(model.channels)), np.float32)
    weight = np.zeros((T + 1) // 2, np.float32)
    starts = [s - s % 2 for s in range(0, max(1, T - overlap), window - overlap)]  # even: stride-2 aligned
    batch = BATCH_WINDOWS if model.batched else 1
    groups, k = [], 0
    while k < len(starts):  # full windows in batches, a short last window alone
        n = 1
        while n < batch and k + n < len(starts) and starts[k + n] + window <= T:
            n += 1
        groups.append(starts[k:k + n])
        k += n
    if reporter is not None:
        reporter.stage("running the ADF network", len(starts))
    done = 0
    for group in groups:
        pieces = np.stack([mel[s:s + window] for s in group]).astype(np.float32)
        styles = np.repeat(code[None].astype(np.float32), len(group), axis=0)
        results = model.session.run(["channels"], {"mel": pieces, "style": styles})[0]
        for start, result in zip(group, results):
            fade = _fade(result.shape[0], overlap // 2, first=start == 0, last=start + window >= T)
            a = start // 2
            out[a:a + result.shape[0]] += result * fade[:, None]
            weight[a:a + result.shape[0]] += fade
        done += len(group)
        if reporter is not None:
            reporter.update(done)
    return out / np.maximum(weight, 1e-6)[:, None]


def _fade(n: int, ramp: int, first: bool, last: bool) -> np.ndarray:
    """[n] weights rising over `ramp` frames (unless first) and falling over `ramp` (unless last)."""
    w = np.ones(n, np.float32)
    ramp = min(ramp, n // 2)
    if ramp > 0 and not first:
        w[:ramp] = (np.arange(ramp) + 0.5) / ramp
    if ramp > 0 and not last:
        w[n - ramp:] = np.minimum(w[n - ramp:], (np.arange(ramp)[::-1] + 0.5) / ramp)
    return w
