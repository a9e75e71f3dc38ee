"""The "adf" driver: speech -> the ADF network (onnxruntime) -> channels at the clip's rate.

The network gives the mouth, brows, smile and head pitch; blinks, gaze and
slow head sway (no audio cause to learn) come from ../procedural.py at the
style's rates, seeded, exactly as for the phonetic driver.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np

from ...audio.features import FeatureConfig, features_of, normalize_features, relative_level_db
from ...audio.load import Audio
from ...motion import MotionClip
from ...style import NEUTRAL, SpeakingStyle
from ..interface import DriveRequest, frame_count
from ..models import user_model
from ..procedural import prosody_channels
from . import MODEL_FILE
from .channels import LIP_OUTPUTS, MODEL_RATE, STYLE_INPUTS, head_about_mean, style_code, style_from_code
from .runtime import DEFAULT_MODEL, load_model, run_network

PROCEDURAL = ("eyeBlinkLeft", "eyeBlinkRight", "eye_left_rx", "eye_right_rx", "eye_left_ry", "eye_right_ry",
              "neck_ry", "neck_rz")


@lru_cache(maxsize=4)
def _model(path: str, kind: str, device: str = "auto"):
    return load_model(Path(path), kind=kind, device=device)


def drive(request: DriveRequest) -> dict[str, np.ndarray]:
    """The "adf" driver: {channel: values [T] float32}, T = request.frame_count, by the network in
    `request.models_dir` (else the shipped DEFAULT_MODEL) on `request.device`."""
    return adf_channels(request.audio, request.fps, request.seed, request.style, request.reporter,
                        model_path=user_model(MODEL_FILE, request.models_dir), device=request.device,
                        lead_s=request.lead_s)


def adf_channels(audio: Audio, fps: float, seed: int = 0, style: SpeakingStyle = NEUTRAL,
                 reporter=None, model_path: Optional[Path] = None, device: str = "auto",
                 lead_s: float = 0.0) -> dict[str, np.ndarray]:
    """Channel values {name: [T]} for `audio` at `fps` (T = ceil(duration * fps)), the network run
    on `device` ("auto", "cpu", "gpu"); `model_path` None is the shipped model. The lip and jaw
    channels (LIP_OUTPUTS) lead the sound by `lead_s` seconds: frame t shows the network's mouth at
    t + lead_s (read between its 50 Hz frames; past either end of the sound, the mouth it had there);
    brows, smile and head are not moved."""
    model = _model(str(model_path or DEFAULT_MODEL), "adf", device)
    config = FeatureConfig.from_dict({**model.sidecar["features"], "voice": False})  # mel + energy: all it needs
    features = features_of(audio, config)
    network = run_network(model, normalize_features(features).log_mel, style_code(style), reporter)
    T = frame_count(audio.duration, fps)
    model_times, frame_times = np.arange(network.shape[0]) / MODEL_RATE, np.arange(T) / fps
    # linear interpolation: the network's 50 Hz output is already smooth, and this is 100x cheaper
    # than the band-limited MotionClip.resample
    led = np.clip(frame_times + lead_s, 0.0, max(audio.duration, 0.0))  # past the sound's ends: its first/last mouth
    channels = {name: np.interp(led if name in LIP_OUTPUTS else frame_times, model_times, network[:, k])
                for k, name in enumerate(model.channels)}
    for name in channels:
        if not name.endswith(("_rx", "_ry", "_rz")):
            channels[name] = np.clip(channels[name], 0.0, 1.0)
    level = relative_level_db(features.energy_db)
    extra = prosody_channels(np.arange(T) / fps, features.times, level, features.pitch_hz, [], style,
                             np.random.default_rng(seed))
    channels.update({name: extra[name] for name in PROCEDURAL})
    return {name: np.asarray(v, np.float32) for name, v in channels.items()}


def style_of_clip(reference: MotionClip, model_path: Optional[Path] = None, device: str = "auto",
                  encoder_path: Optional[Path] = None) -> SpeakingStyle:
    """The speaking style of a reference performance (a few seconds of any MotionClip), by the
    style encoder shipped beside the network (`model_path`; None is the shipped model), or the
    encoder file `encoder_path` itself (with its sidecar beside it) when given."""
    path = Path(model_path or DEFAULT_MODEL)
    encoder = _model(str(encoder_path or path.parent / f"{path.stem}_style.onnx"), "adf_style", device)
    clip = reference.resample(MODEL_RATE) if abs(reference.fps - MODEL_RATE) > 1e-9 else reference
    column = {n: k for k, n in enumerate(clip.names)}
    frames = np.zeros((clip.num_frames, len(STYLE_INPUTS)), np.float32)
    for k, name in enumerate(STYLE_INPUTS):
        if name in column:
            frames[:, k] = clip.values[:, column[name]]
    if encoder.sidecar.get("head_about_mean"):
        frames = head_about_mean(frames)
    code = encoder.session.run(["style"], {"reference": frames[None]})[0][0]
    return style_from_code(code)
