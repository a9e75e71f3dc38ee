"""Speech to head motion: `animate(audio, fps, driver=...)` gives a MotionClip.

Drivers (each a function (audio, fps, seed, transcript, style, reporter, device, models_dir)
-> {channel: values [T]}):
- "phonetic": recognised phones -> coarticulated visemes, prosody -> brows/head/blinks (the default
  when a transcript is given, or when no ADF model is installed);
- "energy": loudness/brightness baseline (no phonemes, no network);
- "adf": the ADF network (ONNX; the default), available when its model file is installed (shipped in
  engine/models, or in a `models_dir` of the user's, which is searched first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..audio.load import Audio, load_audio
from ..errors import InputError
from ..motion import MotionClip
from ..progress import Reporter, silent
from ..style import NEUTRAL, SpeakingStyle
from ..drivers.energy import energy_channels

ADF_MODEL_FILE = "adf.onnx"
DEVICES = ("auto", "cpu", "gpu")
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi")  # style references that are tracked


def _energy(audio, fps, seed, transcript=None, style=NEUTRAL, reporter=None, device="auto", models_dir=None):
    return energy_channels(audio, fps, seed)


def _phonetic(audio, fps, seed, transcript=None, style=NEUTRAL, reporter=None, device="auto", models_dir=None):
    from ..drivers.phonetic.driver import phonetic_channels  # pocketsphinx loads only when used

    return phonetic_channels(audio, fps, seed, transcript=transcript, style=style, reporter=reporter)


def _adf(audio, fps, seed, transcript=None, style=NEUTRAL, reporter=None, device="auto", models_dir=None):
    from ..drivers.adf.driver import adf_channels

    return adf_channels(audio, fps, seed, style=style, reporter=reporter, model_path=adf_model(models_dir),
                        device=device)


def check_models_dir(models_dir) -> Optional[Path]:
    """`models_dir` as a Path (None stays None); InputError when it names no existing folder."""
    if models_dir is None or str(models_dir) == "":
        return None
    path = Path(models_dir)
    if not path.is_dir():
        raise InputError(f"The models folder '{path}' does not exist; choose an existing folder or clear it.")
    return path


def adf_model(models_dir=None) -> Optional[Path]:
    """The user's ADF network, `models_dir`/adf.onnx, when there; None means the shipped one."""
    folder = check_models_dir(models_dir)
    candidate = folder / ADF_MODEL_FILE if folder is not None else None
    return candidate if candidate is not None and candidate.is_file() else None


def available_drivers(models_dir=None) -> dict:
    """{name: driver function} of the drivers that can run: "adf" only where its model is found
    (in `models_dir`, else shipped with the engine)."""
    from ..drivers.adf.runtime import available  # light: the driver (features, prosody) loads only when used

    drivers = {"phonetic": _phonetic, "energy": _energy}
    if adf_model(models_dir) is not None or available():
        drivers["adf"] = _adf
    return drivers


def style_of_reference(reference, models_dir=None, device: str = "auto",
                       reporter: Optional[Reporter] = None) -> SpeakingStyle:
    """The speaking style of a reference performance (a MotionClip, a .npz / .json / ARKit .csv clip
    file, or a talking video, tracked first: ERLNet's style video), read by the style encoder beside
    the ADF network (`models_dir` searched first)."""
    from ..drivers.adf.driver import style_of_clip

    device = _checked_device(device)
    clip = reference if isinstance(reference, MotionClip) else reference_clip(reference, reporter)
    return style_of_clip(clip, model_path=adf_model(models_dir), device=device)


def is_video(path) -> bool:
    """Whether `path` names a video by its suffix (a style reference that is tracked, not loaded)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def reference_clip(path, reporter: Optional[Reporter] = None) -> MotionClip:
    """The performance in a style reference file: a clip file as it is, a video tracked onto the
    built-in head (`engine.video.track_video`; its errors are one sentence each)."""
    path = Path(path)
    if is_video(path):
        from ..video import track_video  # MediaPipe runs in its own child Python

        return track_video(path, reporter=reporter).clip
    return MotionClip.from_arkit_csv(path) if path.suffix.lower() == ".csv" else MotionClip.load(path)


def _checked_device(device: str) -> str:
    if device not in DEVICES:
        raise InputError(f"Unknown device '{device}'; choose one of: {', '.join(DEVICES)}.")
    return device


DRIVERS = available_drivers()
DEFAULT_DRIVER = "adf" if "adf" in DRIVERS else "phonetic"


def default_driver(transcript: Optional[str] = None) -> str:
    """The driver to use when none is named: the phonetic driver when the words are known (forced
    alignment is the most exact lip sync there is), else the ADF network when installed."""
    return "phonetic" if transcript else DEFAULT_DRIVER


def animate(audio, fps: float = 30.0, driver: Optional[str] = None, seed: int = 0,
            start_frame: int = 1, reporter: Optional[Reporter] = None, transcript: Optional[str] = None,
            style: SpeakingStyle = NEUTRAL, device: str = "auto", models_dir=None) -> MotionClip:
    """Animate a voice: an audio path (or decoded `Audio`) -> MotionClip at `fps`.

    The clip has one channel per driven expression/joint axis (channels.py
    names), `ceil(duration * fps)` frames, and metadata naming the source
    audio, driver, style and seed. `transcript` (the words spoken) lets the
    phonetic driver align instead of recognise; other drivers ignore it.
    `driver` None is `default_driver(transcript)`.
    `device` ("auto", "cpu", "gpu") is where a network runs (onnxruntime's CUDA
    provider for "gpu"); `models_dir` is a folder searched for models (adf.onnx)
    before the shipped ones.
    """
    reporter = reporter or silent()
    driver = driver or default_driver(transcript)
    drivers = available_drivers(models_dir)
    if driver not in drivers:
        raise InputError(f"Unknown driver '{driver}'; choose one of: {', '.join(sorted(drivers))}.")
    device = _checked_device(device)
    if not (np.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise InputError(f"The frame rate must be between 1 and 240 fps, not {fps}.")
    if not isinstance(audio, Audio):
        audio = load_audio(audio, min_duration=1.0 / fps, reporter=reporter)
    channels = drivers[driver](audio, fps, seed, transcript=transcript, style=style, reporter=reporter,
                               device=device, models_dir=models_dir)
    reporter.stage("writing the clip", 1)
    names = list(channels)
    values = np.stack([channels[n] for n in names], axis=1)
    metadata = {"source_audio": Path(audio.source).name, "driver": driver, "seed": seed,
                "style": style.to_dict(), "duration_s": round(audio.duration, 4)}
    if transcript and driver == "phonetic":
        metadata["transcript"] = transcript if len(transcript) <= 2000 else transcript[:2000] + "..."
    reporter.update(1)
    return MotionClip(names=names, values=values, fps=fps, start_frame=start_frame, metadata=metadata)
