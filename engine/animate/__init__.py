"""Speech to head motion: `animate(audio, fps, driver=...)` gives a MotionClip.

The drivers and what each reads are declared in `engine.drivers.registry`
("adf", the default where its model is found; "phonetic", the default with a
transcript or without the model; "energy", the baseline). This module loads
the voice, builds the driver's `DriveRequest`, runs it and wraps its channels
in a MotionClip; it also reads the speaking style of a reference clip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..audio.load import Audio, load_audio
from ..drivers.adf import MODEL_FILE as ADF_MODEL_FILE
from ..drivers.interface import DEVICES, DriveRequest, check_device, check_fps, check_lead_ms
from ..drivers.models import check_models_dir, user_model
from ..drivers.registry import available_drivers, default_driver, drive, runnable_driver
from ..motion import MotionClip, read_clip_file
from ..progress import Reporter, silent
from ..style import NEUTRAL, SpeakingStyle
from .reference import ReferenceStyle, match_brows, reference_style

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi")  # style references that are tracked
TRANSCRIPT_KEPT = 2000  # characters of a transcript kept in a clip's metadata

__all__ = ["DEVICES", "animate", "available_drivers", "check_models_dir", "default_driver", "is_video", "read_reference",
           "reference_clip", "style_of_reference"]


def animate(audio, fps: float = 30.0, driver: Optional[str] = None, seed: int = 0,
            start_frame: int = 1, reporter: Optional[Reporter] = None, transcript: Optional[str] = None,
            style: SpeakingStyle = NEUTRAL, device: str = "auto", models_dir=None,
            lead_ms: Optional[float] = None, brow_activity: Optional[float] = None) -> MotionClip:
    """Animate a voice: an audio path (or decoded `Audio`) -> MotionClip at `fps`.

    The clip has one channel per driven expression/joint axis (channels.py
    names), `ceil(duration * fps)` frames, and metadata naming the source
    audio, driver, style and seed. `transcript` (the words spoken) lets the
    phonetic driver align instead of recognise; a driver that does not read it
    (or the style) warns. `driver` None is `default_driver(transcript, models_dir)`.
    `device` ("auto", "cpu", "gpu") is where a network runs (onnxruntime's CUDA
    provider for "gpu"); `models_dir` is a folder searched for models (adf.onnx)
    before the shipped ones. `lead_ms` moves the mouth (jaw and lips, not the head,
    brows or blinks) that many milliseconds before the sound, as real mouths move;
    None is the driver's measured default (`engine.drivers.registry`). `brow_activity`
    (a style reference's, `read_reference`) scales the performed brows about their means to that
    activity (`reference.match_brows`; the gain goes in the metadata). Every
    setting is checked before the audio is read.
    """
    reporter = reporter or silent()
    models_dir = check_models_dir(models_dir)
    driver = driver or default_driver(transcript, models_dir)
    declared = runnable_driver(driver, models_dir)
    check_device(device)
    fps = check_fps(fps)
    lead_ms = check_lead_ms(lead_ms)
    if not isinstance(audio, Audio):
        audio = load_audio(audio, min_duration=1.0 / fps, reporter=reporter)
    request = DriveRequest(audio, fps, seed, transcript, style, device, models_dir, reporter, lead_ms)
    channels = drive(driver, request)
    gain = None if brow_activity is None else match_brows(channels, brow_activity)
    reporter.stage("writing the clip", 1)
    names = list(channels)
    values = np.stack([channels[n] for n in names], axis=1)
    metadata = {"source_audio": Path(audio.source).name, "driver": driver, "seed": seed,
                "style": style.to_dict(), "duration_s": round(audio.duration, 4)}
    if gain is not None:
        metadata["brows_matched"] = {"brow_activity": float(brow_activity), "gain": round(gain, 4)}
    if declared.reads_lead:
        metadata["lead_ms"] = declared.lead_ms if lead_ms is None else lead_ms
    if request.transcript and declared.reads_transcript:
        metadata["transcript"] = transcript if len(transcript) <= TRANSCRIPT_KEPT else transcript[:TRANSCRIPT_KEPT] + "..."
    reporter.update(1)
    return MotionClip(names=names, values=values, fps=fps, start_frame=start_frame, metadata=metadata)


def read_reference(reference, models_dir=None, device: str = "auto",
                   reporter: Optional[Reporter] = None) -> ReferenceStyle:
    """A style reference (a MotionClip, a .npz / .json / ARKit .csv clip file, or a talking video,
    tracked first: ERLNet's style video) read by the style encoder beside the ADF network
    (`models_dir` searched first), with its own blink rate and brow activity measured
    (`reference.measure`): what `--style-clip` gives the performance."""
    from ..drivers.adf.driver import style_of_clip

    device = check_device(device)
    model = user_model(ADF_MODEL_FILE, models_dir)  # None: the shipped one
    clip = reference if isinstance(reference, MotionClip) else reference_clip(reference, reporter)
    return reference_style(clip, style_of_clip(clip, model_path=model, device=device))


def style_of_reference(reference, models_dir=None, device: str = "auto",
                       reporter: Optional[Reporter] = None) -> SpeakingStyle:
    """The speaking style of a reference performance (`read_reference`'s style: the encoder's, at
    the reference's measured blink rate)."""
    return read_reference(reference, models_dir, device, reporter).style


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
    return read_clip_file(path)
