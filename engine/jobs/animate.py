"""The animate job: a voice clip -> a MotionClip, with its speaking style resolved once, here.

    job = AnimateJob(audio="voice.wav", fps=24, style_items=("happy", "smile=0.2"), outputs=("clip.npz",))
    result = run(job, reporter)          # result.clip, result.written
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Optional

from ..animate import animate, is_video, read_reference
from ..drivers.models import check_models_dir
from ..drivers.registry import default_driver, runnable_driver
from ..errors import AudioError, InputError
from ..motion import MotionClip
from ..progress import Reporter, silent
from ..style import SpeakingStyle, from_items
from . import rules
from .base import Job


@dataclass(frozen=True)
class AnimateJob(Job):
    """Animate a voice: the arguments of `engine.animate` as plain JSON values, plus where the clip goes."""

    kind: ClassVar[str] = "animate"
    version: ClassVar[int] = 1

    audio: str                          # the voice clip (WAV, FLAC, OGG or MP3)
    fps: float = 30.0                   # the clip's frame rate (the scene's, in Blender)
    driver: Optional[str] = None        # None: `chosen_driver()`
    seed: int = 0                       # of blinks, gaze and head sway
    start_frame: int = 1                # scene frame of the clip's first frame
    transcript: Optional[str] = None    # the words spoken, if known (the phonetic driver aligns them)
    style: Optional[dict] = None        # SpeakingStyle fields of the base style; None: neutral
    style_items: tuple[str, ...] = ()   # then these, in order: preset names and NAME=VALUE (`engine.style.from_items`)
    style_clip: Optional[str] = None    # a reference clip or talking video whose style replaces the base
    tracker_python: Optional[str] = None  # a Python with mediapipe for a video reference; None: the engine's search
    device: str = "auto"                # "auto", "cpu" or "gpu": where a network runs
    models_dir: Optional[str] = None    # a folder searched for models before the shipped ones
    outputs: tuple[str, ...] = ()       # clip files to write (.npz, .json, ARKit .csv); none: the clip is returned
    lead_ms: Optional[float] = None     # the mouth moves this many ms before the sound; None: the driver's default

    def chosen_driver(self) -> str:
        """The driver named, else the best that reads the reference clip when there is one, else the drivers'
        default (`engine.drivers.registry.default_driver`: the best that reads a known transcript, else the best
        that can run)."""
        if self.driver:
            return self.driver
        return rules.reference_reader() if self.style_clip else default_driver(self.transcript, self.models_dir)

    def validate(self) -> None:
        rules.check_fps(self.fps)
        rules.check_seed(self.seed)
        rules.check_start_frame(self.start_frame)
        rules.check_device(self.device)
        rules.check_lead_ms(self.lead_ms)
        check_models_dir(self.models_dir)
        self._check_driver()
        if self.transcript is not None:
            rules.check_text(self.transcript, "transcript")
        check_style(self.style, self.style_items)
        for output in self.outputs:
            rules.check_clip_output(output)
        if not Path(self.audio).is_file():
            raise AudioError(f"The audio file '{self.audio}' does not exist.")

    def _check_driver(self) -> None:
        driver = self.chosen_driver()
        runnable_driver(driver, self.models_dir)  # unknown, or its model is not installed: the drivers' sentence
        refusal = rules.reference_refusal(driver, self.style_clip)
        if refusal:
            raise InputError(refusal)
        if self.style_clip:
            check_reference(self.style_clip)


@dataclass(frozen=True)
class AnimateResult:
    """What an animate job made: the clip, and the files it was written to (in the job's order)."""

    clip: MotionClip
    written: tuple = ()

    @property
    def path(self) -> Optional[Path]:
        """The first file written (None when the job wrote none)."""
        return self.written[0] if self.written else None


def check_style(style: Optional[dict], items) -> SpeakingStyle:
    """The style of the base fields and items (the reference clip, read at run time, replaces the base)."""
    return from_items(items, base=SpeakingStyle.from_dict(style) if style else None)


def check_reference(path: str) -> str:
    """A reference performance: an existing clip file (.npz / .json / ARKit .csv) or talking video."""
    rules.check_file(path, "reference clip")
    if not is_video(path) and Path(path).suffix.lower() not in rules.CLIP_SUFFIXES:
        raise InputError(f"The reference clip '{path}' must be a MotionClip (.npz, .json or ARKit .csv) or a "
                         "talking video.")
    return path


def resolve_reference(job: AnimateJob, reporter: Optional[Reporter] = None):
    """The job's style reference read (`animate.read_reference`), None without one."""
    if not job.style_clip:
        return None
    with rules.tracker(job.tracker_python):
        return read_reference(job.style_clip, models_dir=job.models_dir, device=job.device, reporter=reporter)


def resolve_style(job: AnimateJob, reporter: Optional[Reporter] = None, reference=None) -> SpeakingStyle:
    """The job's SpeakingStyle: the base (the reference clip's style: the ADF style encoder's at the
    reference's measured blink rate, else the job's `style` fields, else neutral), then its
    `style_items` (preset names, NAME=VALUE) in order. `reference` the job's reference already read."""
    base = SpeakingStyle.from_dict(job.style) if job.style else None
    if job.style_clip:
        base = (reference or resolve_reference(job, reporter)).style
    return from_items(job.style_items, base=base)


def run(job: AnimateJob, reporter: Optional[Reporter] = None) -> AnimateResult:
    """Validate the job, animate its voice, write the clip to each output atomically; the result. A style
    reference's brow activity is matched too, and what was measured of it goes in the metadata."""
    reporter = reporter or silent()
    job.validate()
    reference = resolve_reference(job, reporter)
    style = resolve_style(job, reporter, reference)
    clip = animate(job.audio, fps=job.fps, driver=job.chosen_driver(),
                   seed=job.seed, start_frame=job.start_frame, reporter=reporter, transcript=job.transcript,
                   style=style, device=job.device, models_dir=job.models_dir, lead_ms=job.lead_ms,
                   brow_activity=None if reference is None else reference.brow_activity)
    if reference is not None:
        clip.metadata["style_reference"] = {"file": Path(job.style_clip).name, **reference.measured}
    return AnimateResult(clip, tuple(rules.write_clip(clip, out) for out in job.outputs))
