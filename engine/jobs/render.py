"""The render job: a MotionClip -> one RGBA PNG per frame in an NLDF look, optionally an MP4 with the voice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Optional

import numpy as np

from ..drivers.models import check_models_dir
from ..errors import InputError
from ..progress import Reporter, silent
from . import rules
from .base import Job

CAMERA_FIELDS = ("width", "height", "fx", "fy", "cx", "cy", "rotation", "translation")


@dataclass(frozen=True)
class RenderJob(Job):
    """Render a clip: the arguments of `engine.nldf.render_clip` as plain JSON values, plus where frames go."""

    kind: ClassVar[str] = "render"
    version: ClassVar[int] = 1

    clip: str                         # a MotionClip (.npz, .json or ARKit .csv): every frame of it is rendered
    output: str                       # folder receiving frame_NNNN.png (NNNN: the clip's frames from its start)
    look: str = "toon"                # a look name (nldf_<look>.onnx in models_dir or the engine's) or .onnx path
    size: int = 256                   # frame width and height when there is no camera
    camera: Optional[dict] = None     # an engine Camera's fields (CAMERA_FIELDS); None: the look's default framing
    device: str = "auto"              # "auto", "cpu" or "gpu"
    models_dir: Optional[str] = None  # a folder searched for looks before the shipped ones
    video: Optional[str] = None       # also write this .mp4 (frames over white, needs ffmpeg)
    audio: Optional[str] = None       # the video's sound; None: the clip's source audio when it lies beside it

    def validate(self) -> None:
        rules.check_size(self.size)
        rules.check_device(self.device)
        check_models_dir(self.models_dir)
        if self.camera is not None:
            missing = [k for k in CAMERA_FIELDS if k not in self.camera]
            if missing:
                raise InputError(f"The render job's camera lacks {', '.join(missing)}.")
        if self.video is not None:
            rules.check_video_output(self.video)
        if self.audio is not None:
            rules.check_file(self.audio, "audio file")


@dataclass(frozen=True)
class RenderResult:
    """What a render job made: the frame files in order, their folder, the video (or None), the look's name."""

    frames: tuple
    path: Path
    video: Optional[Path] = None
    audio: Optional[Path] = None
    look: str = ""


def camera_from_fields(fields: Optional[dict]):
    """The engine Camera of a job's camera fields (CAMERA_FIELDS: rotation 3x3, translation 3), or None."""
    if not fields:
        return None
    from ..render.camera import Camera

    intrinsics = (float(fields[k]) for k in ("fx", "fy", "cx", "cy"))
    return Camera(int(fields["width"]), int(fields["height"]), *intrinsics,
                  np.asarray(fields["rotation"], np.float64).reshape(3, 3),
                  np.asarray(fields["translation"], np.float64).reshape(3))


def video_audio(job: RenderJob, clip) -> Optional[Path]:
    """The video's sound: the job's audio, else the clip's source audio when it lies beside the clip, else None."""
    if job.audio:
        return Path(job.audio)
    source = clip.metadata.get("source_audio")
    candidate = Path(job.clip).parent / source if source else None
    return candidate if candidate is not None and candidate.is_file() else None


def run(job: RenderJob, reporter: Optional[Reporter] = None) -> RenderResult:
    """Validate the job, render every frame of its clip into its folder (and the video); the result."""
    from ..nldf import load_look, render_clip
    from ..nldf.render import clip_workers
    from ..preview.frames import write_frames

    reporter = reporter or silent()
    job.validate()
    clip = rules.read_clip(job.clip)
    audio = video_audio(job, clip) if job.video else None
    reporter.stage("loading the look", 1)
    workers, threads = clip_workers()  # on the CPU: a frame per core, each on one onnxruntime thread
    look = load_look(job.look, device=job.device, models_dir=job.models_dir, threads=threads)
    frames = render_clip(clip, look, size=job.size, camera=camera_from_fields(job.camera), reporter=reporter,
                         workers=1 if look.on_gpu else workers)
    out = rules.make_folder(job.output)
    written = write_frames(frames, out, clip.start_frame)  # PNGs written while the next frames render
    if not job.video:
        return RenderResult(tuple(path for path, _ in written), out, look=look.name)
    paths, video = _with_video(job, clip, written, audio)
    return RenderResult(paths, out, video, audio, look.name)


def _with_video(job: RenderJob, clip, written, audio) -> tuple:
    """Encode the frames as they are written; (frame paths, video path)."""
    from ..preview.frames import over_white
    from ..preview.video import write_video

    paths = []

    def images():
        for path, rgba in written:
            paths.append(path)
            yield over_white(rgba)

    video = write_video(Path(job.video), images(), clip.fps, audio_path=audio, total=clip.num_frames)
    return tuple(paths), video
