"""The job commands animate and render: each builds an `engine.jobs` job from its arguments and runs it (every
rule is the job layer's; track is the same, in track_command.py)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from ..errors import InputError
from ..jobs import AnimateJob, RenderJob, run
from ..jobs import rules
from .arguments import ANIMATE_FPS, FRAME_SIZE, LEAD_MS, SEED, START_FRAME, reporter


# -- animate ------------------------------------------------------------------------------------

def register_animate(sub) -> None:
    from ..drivers.registry import DRIVER_NAMES, default_driver

    animate = sub.add_parser("animate", help="turn a voice clip into a MotionClip")
    animate.add_argument("audio", help="WAV, FLAC, OGG or MP3 speech")
    animate.add_argument("-o", "--output", required=True, help="output clip (.npz, .json or ARKit .csv)")
    animate.add_argument("--fps", type=ANIMATE_FPS, default=30.0, help="frame rate (default 30)")
    animate.add_argument("--driver", choices=sorted(DRIVER_NAMES), default=None,
                         help=f"how speech becomes motion (default {default_driver()}; phonetic when --transcript "
                              "is given; adf when --style-clip is)")
    animate.add_argument("--transcript", metavar="TEXT_OR_FILE",
                         help="the words spoken (text, or a .txt file): the phonetic driver aligns them "
                              "instead of recognising phones")
    animate.add_argument("--style", action="append", metavar="PRESET|NAME=VALUE",
                         help="a style preset (neutral, subtle, expressive, happy, serious) and/or style "
                              "parameters, repeatable (articulation, smoothness, smile, brow, brow_accent, "
                              "head_motion, blink_rate)")
    animate.add_argument("--style-clip", metavar="REF",
                         help="take the speaking style from a reference performance (a MotionClip: .npz, "
                              ".json or ARKit .csv, or a talking video, tracked first); read by the ADF "
                              "model's style encoder, for the ADF driver")
    animate.add_argument("--seed", type=SEED, default=0, help="seed of blinks, gaze and head sway")
    animate.add_argument("--lead-ms", type=LEAD_MS, default=None, metavar="MS",
                         help="move the mouth (jaw and lips only) this many milliseconds before the sound, as "
                              "real mouths do (default: the driver's measured lead; 0: exactly on the sound)")
    animate.add_argument("--start-frame", type=START_FRAME, default=1, help="scene frame of the clip's first frame")
    animate.add_argument("--device", choices=rules.DEVICES, default="auto",
                         help="where a network runs (default auto: CUDA when available)")
    animate.add_argument("--models-dir", help="a folder searched for models (adf.onnx) before the engine's")
    animate.set_defaults(handler=run_animate)


def animate_job(args) -> AnimateJob:
    """The animate command's job."""
    return AnimateJob(audio=args.audio, fps=args.fps, driver=args.driver, seed=args.seed,
                      start_frame=args.start_frame, transcript=read_transcript(args.transcript),
                      style_items=tuple(args.style or ()), style_clip=args.style_clip, device=args.device,
                      models_dir=args.models_dir, outputs=(args.output,), lead_ms=args.lead_ms)


def run_animate(args) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(animate_job(args), reporter())
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            print(f"warning: {warning.message}", file=sys.stderr)
    clip = result.clip
    print(f"wrote {result.path}: {clip.num_frames} frames at {clip.fps:g} fps, {len(clip.names)} channels "
          f"({clip.metadata['driver']} driver)", file=sys.stdout)
    return 0


def read_transcript(value):
    """The --transcript argument: the text itself, or the contents of the text file it names."""
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() in (".txt", ".lab", ".text") or (len(value) < 256 and path.is_file()):
        if not path.is_file():
            raise InputError(f"The transcript file '{value}' does not exist.")
        try:
            value = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"The transcript file '{value}' is not UTF-8 text.") from None
    return rules.check_text(value, "transcript")


# -- render -------------------------------------------------------------------------------------

def register_render(sub) -> None:
    render = sub.add_parser("render", help="render a MotionClip in an NLDF look: a PNG sequence (RGBA), "
                                           "optionally an MP4 with the voice")
    render.add_argument("clip", help="a .npz, .json or ARKit .csv MotionClip")
    render.add_argument("-o", "--output", required=True, help="folder for the frames (frame_0001.png, ... "
                                                               "numbered from the clip's start frame)")
    render.add_argument("--look", default="toon", help="a look name (engine/models/nldf_<look>.onnx) or the "
                                                       "path of a look's .onnx (default toon)")
    render.add_argument("--size", type=FRAME_SIZE, default=256, help="frame width and height in pixels (default 256)")
    render.add_argument("--video", metavar="OUT.mp4", help="also write an MP4 (frames over white, needs ffmpeg)")
    render.add_argument("--audio", metavar="VOICE.wav", help="the video's sound (default: the clip's source "
                                                             "audio when it lies beside the clip)")
    render.add_argument("--device", choices=rules.DEVICES, default="auto",
                        help="where the network runs (default auto: CUDA when available)")
    render.add_argument("--models-dir", help="a folder searched for nldf_<look>.onnx before the engine's")
    render.set_defaults(handler=run_render)


def render_job(args) -> RenderJob:
    """The render command's job."""
    return RenderJob(clip=args.clip, output=args.output, look=args.look, size=args.size, device=args.device,
                     models_dir=args.models_dir, video=args.video, audio=args.audio)


def run_render(args) -> int:
    result = run(render_job(args), reporter())
    if result.video is not None:
        print(f"wrote {result.video}" + (f" with the sound of {result.audio.name}" if result.audio else " (no sound)"))
    size = f"{args.size}x{args.size}"
    print(f"wrote {len(result.frames)} frames ({size}, look '{result.look}') to {result.path}")
    return 0
