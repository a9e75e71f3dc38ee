"""Score looks against their teacher on held-out frames, and by the tracker's known answers.

    python -m engine.training.nldf score engine/models/nldf_clay.onnx runs/x/checkpoint.pt [--frames 16]
        [--set key=value] [--cache runs/clay_cache] [--json scores.json] [--picture sheet.png] [--known-answers]

Recipe:
1. the held-out frames: those `distill` draws for its log (seed + EVAL_SEED_OFFSET) from the first
   candidate's recorded config (its look, teacher, image size, motion, jitter and camera ranges; `--set`
   changes a field), `--frames` of them: a run's eval_frames first, then more; rendered by that config's
   teacher (the mesh teacher of its look, or its NeRF checkpoint);
2. each candidate renders them: an exported look (.onnx or an installed look's name) through the runtime
   (`engine.nldf.render_frame`, as the engine draws it), a distillation checkpoint (.pt) through its
   trainer's render (as the log's PSNR);
3. per candidate: PSNR of the whole frames, the mouth boxes and the eye boxes (`trainers.region_psnr`), and
   the sharpness inside the face (`sharpness`: 1 = as sharp as the teacher);
4. optionally the known answers (`engine.bench.video_known`): the built-in head performing known
   parameters, rendered in the candidate (a checkpoint is exported to a temporary folder first) and
   tracked back: mean rotation error per axis, blinks found, false blink frames.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np

from ...errors import InputError
from ...head import load_head
from ...head.model import HeadModel
from ...progress import Reporter, silent
from ...render.quality import premultiplied
from ..config_file import key_values
from .config import NLDFConfig
from .data import FrameSet, sample_specs, teacher_frames
from .distill import EVAL_SEED_OFFSET, load_checkpoint, resolve_teacher, training_motion
from .trainers import FrameTrainer, RayTrainer, region_psnr

PICTURE_FRAMES = 4  # held-out frames (columns) on the side-by-side picture


def is_checkpoint(candidate) -> bool:
    return str(candidate).endswith(".pt")


def candidate_config(candidate, models_dir=None) -> NLDFConfig:
    """The distillation config a candidate was made with: a checkpoint's own, or an exported look's
    sidecar record (training.config)."""
    if is_checkpoint(candidate):
        return load_checkpoint(Path(candidate))[0]
    from ...nldf.look import look_path
    from ...nldf.sidecar import read_sidecar

    path = look_path(candidate, models_dir)
    recorded = read_sidecar(path).get("training", {}).get("config")
    if not recorded:
        raise InputError(f"The look '{path}' does not record the config it was distilled with; give its "
                         "checkpoint.pt instead.")
    return NLDFConfig.from_dict(recorded)


def held_out_frames(config: NLDFConfig, head: HeadModel, count: int, cache: Path,
                    reporter: Optional[Reporter] = None) -> FrameSet:
    """The first `count` held-out frames of a run with `config` (the log's eval_frames are the first of
    them), rendered by its teacher or read from `cache`."""
    teacher, name = resolve_teacher(config, head, None, None)
    specs = sample_specs(config, head, count, config.seed + EVAL_SEED_OFFSET, training_motion(config, head))
    return teacher_frames(config, head, teacher, name, specs, cache, reporter)


def look_renders(candidate, frames: FrameSet, head: HeadModel, models_dir=None) -> np.ndarray:
    """Straight-alpha RGBA [F, H, W, 4] of an exported look (.onnx path or name) on `frames`, by the runtime."""
    from ...nldf import load_look
    from ...nldf.render import render_frame

    look = load_look(candidate, device="cpu", head=head, models_dir=models_dir)
    return np.stack([render_frame(look, frames.cameras[k], frames.transforms[k], frames.conditions[k])
                     for k in range(len(frames))])


def checkpoint_renders(checkpoint: Path, frames: FrameSet) -> np.ndarray:
    """Straight-alpha RGBA [F, H, W, 4] of a distillation checkpoint's student on `frames` (its trainer's
    render, as the log scores it)."""
    import torch

    config, model, _ = load_checkpoint(Path(checkpoint))
    size = frames.rgba.shape[1]
    if config.image_size != size:
        raise InputError(f"The checkpoint '{checkpoint}' was distilled at {config.image_size}² and renders only "
                         f"that size, not the {size}² held-out frames; export it and score the look instead.")
    trainer = (FrameTrainer if config.mode == "superres" else RayTrainer)(model, frames, config)
    with torch.no_grad():
        return np.stack([trainer.render(frames, k) for k in range(len(frames))])


def gradient_energy(rgba: np.ndarray, mask: np.ndarray) -> float:
    """Sum over the pixels inside mask [H, W] (all but the last row and column) of the squared differences
    of their premultiplied colour (straight-alpha RGBA [H, W, 4]) to the right and lower neighbours: the
    detail a reader sees (alpha left out: inside the face it is the silhouette's, not the features')."""
    colour = premultiplied(rgba)[..., :3]
    dx = ((colour[:-1, 1:] - colour[:-1, :-1]) ** 2).sum(axis=-1)
    dy = ((colour[1:, :-1] - colour[:-1, :-1]) ** 2).sum(axis=-1)
    inside = np.asarray(mask, bool)[:-1, :-1]
    return float(dx[inside].sum() + dy[inside].sum())


def sharpness(renders, frames: FrameSet) -> Optional[float]:
    """The renders' gradient energy over the teacher's inside the mouth and eye boxes, summed over the frames
    (1 = as sharp as the teacher, less = softer; None without boxes or teacher detail in them)."""
    student = teacher = 0.0
    for k in range(len(frames)):
        face = frames.mouth[k] | (frames.eyes[k] if frames.eyes is not None else False)
        student += gradient_energy(renders[k], face)
        teacher += gradient_energy(frames.rgba[k], face)
    return student / teacher if teacher > 0 else None


def frame_scores(renders, frames: FrameSet) -> dict:
    """PSNR of the whole frames, mouth and eye boxes (dB) and the sharpness of renders [F, H, W, 4]."""
    return {**region_psnr(renders, frames), "sharpness": sharpness(renders, frames)}


def known_answers(candidate, models_dir=None) -> dict:
    """The known-answer tracking of a candidate: mean rotation error per axis (degrees), blinks found (of
    video_known.BLINKS), false blink frames and the inner-lip gap correlation with the truth."""
    import warnings

    from ...bench import video_known
    from ...nldf.look import look_path
    from ...video import track_video

    if not video_known.has_tracker():
        raise InputError("The known-answer test needs the tracker's Python with MediaPipe (.venv-video).")
    with tempfile.TemporaryDirectory() as folder:
        onnx = look_path(candidate, models_dir)
        if is_checkpoint(candidate):
            from .export import export

            onnx = export(Path(candidate), Path(folder) / "nldf_candidate", recipe="score")[0]
        video = video_known.render_look_video(Path(folder) / "known.mp4", str(Path(onnx).resolve()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = video_known.compare(track_video(video))
    pitch, yaw, roll = (float(v) for v in result["rotation_mean_deg"])
    return {"rotation_mean_deg": {"pitch": pitch, "yaw": yaw, "roll": roll}, "blinks_found": result["blinks_found"],
            "blinks": len(video_known.BLINKS), "false_blink_frames": result["false_blinks"],
            "lip_r": result["lip_r"]}


def score(candidates: list, frames: int = 16, overrides: Optional[dict] = None, cache: Optional[Path] = None,
          with_known_answers: bool = False, models_dir=None, reporter: Optional[Reporter] = None):
    """(report dict, teacher frames, renders [per candidate]) of `candidates` (.onnx paths, look names or
    checkpoint .pt paths) on `frames` held-out frames of the first one's config (with `overrides`)."""
    if not candidates:
        raise InputError("Give at least one look or checkpoint to score.")
    if frames < 1:
        raise InputError(f"The number of held-out frames must be at least 1, not {frames}.")
    reporter = reporter or silent()
    config = NLDFConfig.from_dict({**candidate_config(candidates[0], models_dir).to_dict(), **(overrides or {})})
    head = load_head()
    with tempfile.TemporaryDirectory() as folder:
        held = held_out_frames(config, head, frames, Path(cache) if cache else Path(folder), reporter)
    rows, renders = [], []
    reporter.stage("scoring", len(candidates))
    for i, candidate in enumerate(candidates):
        rgba = (checkpoint_renders(Path(candidate), held) if is_checkpoint(candidate)
                else look_renders(candidate, held, head, models_dir))
        row = {"candidate": str(candidate), "kind": "checkpoint" if is_checkpoint(candidate) else "look",
               **frame_scores(rgba, held)}
        if with_known_answers:
            row["known_answers"] = known_answers(candidate, models_dir)
        rows.append(row)
        renders.append(rgba)
        reporter.update(i + 1)
    report = {"frames": frames, "size": config.image_size, "teacher": config.teacher or config.look,
              "seed": config.seed + EVAL_SEED_OFFSET, "candidates": rows}
    return report, held, renders


def table(report: dict) -> str:
    """The report as a Markdown table, one row per candidate."""
    known = any("known_answers" in row for row in report["candidates"])
    head = "| candidate | held-out PSNR | mouth box | eye boxes | sharpness |"
    if known:
        head += " known answers: rotation pitch / yaw / roll | blinks (false frames) |"
    lines = [f"{report['frames']} held-out frames at {report['size']}², teacher '{report['teacher']}'", "",
             head, "|" + "---|" * (head.count("|") - 1)]
    for row in report["candidates"]:
        cells = [row["candidate"]] + [_db(row[k]) for k in ("psnr", "psnr_mouth", "psnr_eyes")]
        cells.append("-" if row["sharpness"] is None else f"{row['sharpness']:.2f}")
        if known:
            k = row.get("known_answers")
            r = k["rotation_mean_deg"] if k else None
            cells += ([f"{r['pitch']:.1f} / {r['yaw']:.1f} / {r['roll']:.1f}°",
                       f"{k['blinks_found']} of {k['blinks']} ({k['false_blink_frames']})"] if k else ["-", "-"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _db(value) -> str:
    return "-" if value is None else f"{value:.1f} dB"


def picture(held: FrameSet, renders: list, labels: list, count: int = PICTURE_FRAMES) -> np.ndarray:
    """RGB uint8 side-by-side sheet: one column per held-out frame (the first `count`), the teacher's row
    above one row per candidate, labelled."""
    from ...preview.sheet import contact_sheet

    count = min(count, len(held))
    cells = [held.rgba[:count]] + [np.asarray(r[:count]) for r in renders]
    names = [name for name in ["teacher"] + list(labels) for _ in range(count)]
    return contact_sheet(np.concatenate(cells), names, columns=count)


def run_command(args) -> dict:
    """`python -m engine.training.nldf score` (parsed args): score, print the table, write JSON and picture."""
    from ...progress import TerminalBar

    if len(args.label) > len(args.candidates):
        raise InputError(f"{len(args.label)} labels were given for {len(args.candidates)} candidates.")
    report, held, renders = score(args.candidates, args.frames, key_values(args.set, "--set"), args.cache,
                                  args.known_answers, args.models_dir, Reporter(TerminalBar()))
    labels = list(args.label) + [str(c) for c in args.candidates[len(args.label):]]
    for row, label in zip(report["candidates"], labels):
        row["label"] = label
    print(table({**report, "candidates": [{**row, "candidate": row["label"]} for row in report["candidates"]]}))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    if args.picture:
        from ...preview.png import write_png

        write_png(args.picture, picture(held, renders, labels))
        print(f"wrote {args.picture}")
    return report
