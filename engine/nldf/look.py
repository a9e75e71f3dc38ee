"""Looks: a distilled NLDF network (ONNX) with its checked sidecar, ready for onnxruntime.

A look is found by name (`engine/models/nldf_<name>.onnx`, or in a models
folder of the user's, searched first) or by the path of its .onnx file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import InputError, ModelError
from ..head import load_head
from ..head.model import HeadModel
from ..render.rays import Box
from .condition import condition_names
from .sidecar import check_contents, read_sidecar, sidecar_box

MODELS = Path(__file__).resolve().parent.parent / "models"
PREFIX = "nldf_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass
class Look:
    """A look's network: the onnxruntime session, its sidecar, and the head and box it was distilled on."""

    session: object
    sidecar: dict
    path: Path
    head: HeadModel
    box: Box

    @property
    def name(self) -> str:
        return self.sidecar.get("look", self.path.stem[len(PREFIX):])

    @property
    def mode(self) -> str:
        """"rays" (one network row per pixel ray) or "superres" (low-res rays + upsampling)."""
        return self.sidecar["mode"]

    @property
    def num_points(self) -> int:
        return int(self.sidecar["encoding"]["num_points"])

    @property
    def stride(self) -> int:
        """Pixels per ray along each axis: 1, or the super-resolution factor."""
        return int(self.sidecar.get("ray_stride", 1))

    @property
    def on_gpu(self) -> bool:
        """Whether onnxruntime runs the network on the GPU (its CUDA provider) rather than the CPU."""
        providers = self.session.get_providers() if hasattr(self.session, "get_providers") else ()
        return "CUDAExecutionProvider" in providers

    @property
    def image_sizes(self):
        """"any", or the list of square frame sizes the network renders (super-resolution graphs are fixed)."""
        return self.sidecar.get("image_sizes", "any")


def installed_looks(models_dir=None) -> list[str]:
    """Names of the looks found in `models_dir` (when given) and the engine's models folder, sorted."""
    folders = [Path(models_dir)] if models_dir else []
    names = {p.stem[len(PREFIX):] for folder in folders + [MODELS] for p in folder.glob(f"{PREFIX}*.onnx")}
    return sorted(names)


def look_path(look, models_dir=None) -> Path:
    """The .onnx file of a look name or path; ModelError, saying how to make one, when none is installed."""
    text = str(look)
    if text.endswith(".onnx") or os.sep in text or "/" in text:
        return Path(text)
    if not NAME.match(text):
        raise InputError(f"'{text}' is not a look name; use letters, digits, '_' and '-', or a path to a .onnx file.")
    for folder in ([Path(models_dir)] if models_dir else []) + [MODELS]:
        candidate = folder / f"{PREFIX}{text}.onnx"
        if candidate.is_file():
            return candidate
    return missing_look(text, models_dir)


def missing_look(name: str, models_dir=None):
    """Raise the ModelError for a look that is not installed, with the commands that make one."""
    others = installed_looks(models_dir)
    have = f" (installed: {', '.join(others)})" if others else " (none is installed yet)"
    raise ModelError(f"No model is installed for the look '{name}'{have}; distil one with 'python -m "
                     f"engine.training.nldf distill --look {name} --out runs/nldf_{name}', then export it with "
                     f"'python -m engine.training.nldf export runs/nldf_{name}/checkpoint.pt --out "
                     f"engine/models/nldf_{name}'.")


def load_look(look="toon", device: str = "auto", head: Optional[HeadModel] = None, models_dir=None,
              threads: Optional[int] = None) -> Look:
    """A look ready to render: by name or .onnx path; ModelError when it is missing or its sidecar does not
    match (no sidecar, other file, other kind or format, other encoding or condition channels).

    device: "auto", "cpu" or "gpu" (onnxruntime's CUDA provider); head: the head the clips are given for
    (None: the built-in head); threads: onnxruntime's intra-op threads (None: its default, every core).
    """
    import onnxruntime

    from ..drivers.adf.runtime import providers

    path = look_path(look, models_dir)
    sidecar = read_sidecar(path)
    head = load_head() if head is None else head
    check_contents(sidecar, path.name, condition_names(head))
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    # onnxruntime's pool threads spin between runs by default: on 2 cores that burned ~40 % more CPU per
    # frame than the graph needs and starved the PNG writers beside it; off, the same outputs bit for bit
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = int(threads)
    chosen = providers(device)
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=chosen)
    except Exception as error:  # onnxruntime raises its own untyped errors for unreadable graphs
        raise ModelError(f"onnxruntime cannot load '{path.name}' ({type(error).__name__}); export it again.") from None
    width = session.get_inputs()[0].shape[-1]
    if session.get_inputs()[0].name != "points" or width != 3 * int(sidecar["encoding"]["num_points"]):
        raise ModelError(f"'{path.name}' takes other ray inputs than its sidecar says ({width} values per ray, "
                         f"not 3 x {sidecar['encoding']['num_points']}); export it again.")
    return Look(session, sidecar, path, head, sidecar_box(sidecar, path.name))
