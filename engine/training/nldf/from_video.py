"""A look from a talking video: track -> matte -> NeRF teacher set -> NeRF fit -> NLDF distillation -> ONNX look.

    python -m engine.training.nldf look-from-video talk.mp4 --out looks/anna
    -> looks/anna/nldf_anna.onnx + nldf_anna.json (a look: point the add-on's models folder at looks/anna,
       or add --models <the add-on's models folder> to copy it there)

Stages, each cached in its own folder of --out and skipped on a rerun that asks
for the same thing (`done.json` holds a key of everything the stage's output
depends on, chained through the stages before it):

1. track/     the tracker (`engine.video.track_video`): take.npz (a MotionClip at
              the video's rate) and take.track.npz (landmarks, cameras);
2. matte/     one square crop holding the head's box in every frame, scaled to
              size x size, with MediaPipe Selfie Segmentation's person mask as
              alpha (`engine.video.matte`);
3. teacher_set/  the NeRF teacher set (`teachers.nerf.video_set`): alpha cut to
              the head (a plane below the chin in the head's frame: torso and
              neck are cropped away), the first 80 % of frames to fit, the last
              20 % held out;
4. nerf/      the NeRF teacher fitted to the training frames (resumes from its
              checkpoint), then scored on held-out frames against the real ones;
5. nldf/      the NLDF student distilled from the NeRF on the tracked motion of
              the training frames (resumes from its checkpoint);
6. export     nldf_<name>.onnx + .json in --out, the sidecar's "video" block
              saying the source video, the frames used, the held-out face-box
              PSNR of NeRF and NLDF against the real frames and of NLDF against
              NeRF, and how much faster the NLDF renders.

Stages 1-3 and 6 write into --out/.work and move into place when complete, so a
killed stage leaves nothing half-written and restarts cleanly.

Kept in one file, just over 400 lines: the six stages and the keys that chain them (each stage's key
holds the one before it) read as one recipe; the expected times are `video_estimate`, the command
`video_command`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ...errors import InputError
from ...head import load_head
from ...head.model import HeadModel
from ...motion import MotionClip
from ...progress import Reporter, silent
from ..teachers.nerf.config import NeRFConfig
from .config import NLDFConfig
from .video_estimate import expected_seconds, fmt_seconds, last_step

STAGES = ("track", "matte", "teacher_set", "nerf", "nldf", "export")
NLDF_VIDEO_DEFAULTS = {    # a video's NeRF has seen only the tracked views and expressions: stay near them
    "yaw_range": 10.0, "pitch_range": 5.0, "expression_jitter": 0.05, "jaw_jitter": 0.03,
    "neck_jitter": 0.05, "eye_jitter": 0.05, "eval_frames": 4}


def say_now(message: str) -> None:
    """Print a line at once (a log file sees it before the stage ends)."""
    print(message, flush=True)


@dataclass
class LookSettings:
    """What a look from a video is made with: name, crop size, the NeRF and NLDF configs' overrides
    (their defaults otherwise), the held-out frames scored, the part of the video, torch threads."""

    name: str
    size: int = 128
    nerf: dict = field(default_factory=dict)
    nldf: dict = field(default_factory=dict)
    eval_frames: int = 8
    start: float = 0.0
    end: Optional[float] = None
    threads: int = 1

    def nerf_config(self) -> NeRFConfig:
        return NeRFConfig.from_dict({"threads": self.threads, **self.nerf})

    def nldf_config(self, teacher: Path) -> NLDFConfig:
        values = {**NLDF_VIDEO_DEFAULTS, "threads": self.threads, **self.nldf}
        return NLDFConfig.from_dict({**values, "look": self.name, "teacher": str(teacher), "image_size": self.size})


class LookFromVideo:
    """The stages of one look, their folders under `out`, and the keys that say whether each is done."""

    def __init__(self, video, out, settings: LookSettings, reporter: Optional[Reporter] = None,
                 head: Optional[HeadModel] = None, say=say_now) -> None:
        from ...nldf.look import NAME

        self.video, self.out, self.settings = Path(video), Path(out), settings
        self.reporter, self.say = reporter or silent(), say
        if not NAME.match(settings.name):
            raise InputError(f"'{settings.name}' is not a look name; use letters, digits, '_' and '-' "
                             "(give --name, or an --out folder so named).")
        if not 16 <= settings.size <= 1024:
            raise InputError(f"The look's frame size must be between 16 and 1024 pixels, not {settings.size}.")
        self.head = head or load_head()
        self.keys = {}

    # ---- bookkeeping -------------------------------------------------------------------------------------
    def folder(self, stage: str) -> Path:
        return self.out / stage

    def key(self, stage: str) -> str:
        """A hash of everything `stage`'s output depends on (the stage before it included)."""
        s = self.settings
        own = {"track": {"video": self.source()["sha256"], "start": s.start, "end": s.end},
               "matte": {"size": s.size}, "teacher_set": {"version": 1},
               "nerf": {"config": self.nerf_config_dict(), "eval_frames": s.eval_frames},
               "nldf": {"config": s.nldf_config(Path("teacher")).to_dict() | {"threads": 0}},
               "export": {"name": s.name, "eval_frames": s.eval_frames}}[stage]
        before = self.keys.get(STAGES[STAGES.index(stage) - 1], "") if stage != STAGES[0] else ""
        self.keys[stage] = hashlib.sha256(json.dumps([before, own], sort_keys=True).encode()).hexdigest()[:16]
        return self.keys[stage]

    def nerf_config_dict(self) -> dict:
        values = self.settings.nerf_config().to_dict()
        return {k: v for k, v in values.items() if k not in ("threads", "log_every", "checkpoint_every")}

    def done(self, stage: str) -> bool:
        marker = self.folder(stage) / "done.json"
        if stage == "export":
            marker = self.out / ".export_done.json"
        return marker.is_file() and json.loads(marker.read_text()).get("key") == self.key(stage)

    def mark_done(self, stage: str, extra: Optional[dict] = None) -> None:
        marker = self.out / ".export_done.json" if stage == "export" else self.folder(stage) / "done.json"
        marker.write_text(json.dumps({"key": self.key(stage), **(extra or {})}))

    def source(self) -> dict:
        """The video's name, size and sha256 (what tells one video from another)."""
        if not hasattr(self, "_source"):
            digest = hashlib.sha256()
            with open(self.video, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            self._source = {"video": self.video.name, "bytes": self.video.stat().st_size,
                            "sha256": digest.hexdigest()}
        return self._source

    def check_source(self) -> None:
        """InputError when the video is unreadable or --out already holds the look of another video."""
        from ...video.decode import probe_video

        probe_video(self.video)
        path = self.out / "source.json"
        if path.is_file():
            held = json.loads(path.read_text())
            if held.get("sha256") != self.source()["sha256"]:
                raise InputError(f"'{self.out}' already holds the look made from '{held.get('video')}', another "
                                 f"video; choose a new --out for '{self.video.name}'.")
        elif self.out.is_dir() and any(p.name != ".work" for p in self.out.iterdir()):
            raise InputError(f"'{self.out}' is a folder of other files, not a look from a video; choose an empty "
                             "or new --out.")
        self.out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.source(), indent=2))

    def work(self, stage: str) -> Path:
        """An empty scratch folder for an all-or-nothing stage (a killed run's leftovers are cleared)."""
        path = self.out / ".work" / stage
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def publish(self, stage: str, work: Path) -> None:
        """Move a finished scratch folder into place, replacing an older output of the stage."""
        target = self.folder(stage)
        shutil.rmtree(target, ignore_errors=True)
        work.replace(target)

    # ---- the run -----------------------------------------------------------------------------------------
    def run(self, estimate_only: bool = False) -> Optional[Path]:
        """Run every stage not yet done; returns the look's .onnx path (None when only estimating)."""
        self.check_source()
        todo = [stage for stage in STAGES if not self.done(stage)]
        self.print_estimates(todo)
        if estimate_only:
            return None
        for stage in STAGES:
            if stage not in todo and self.done(stage):
                self.say(f"[{stage}] done before, skipped")
                continue
            began = time.monotonic()
            getattr(self, f"stage_{stage}")()
            self.mark_done(stage, {"seconds": round(time.monotonic() - began, 1)})
            self.say(f"[{stage}] finished in {time.monotonic() - began:.0f} s")
        return self.look_path()

    def look_path(self) -> Path:
        return self.out / f"nldf_{self.settings.name}.onnx"

    def stage_track(self) -> None:
        from ...video import save_take, track_video

        work = self.work("track")
        take = track_video(self.video, self.head, start=self.settings.start, end=self.settings.end,
                           reporter=self.reporter)
        save_take(take, work / "take.npz")
        self.publish("track", work)

    def take(self):
        """(the tracked clip, its fitted landmarks [T, L, 2] full-size pixels)."""
        clip = MotionClip.load(self.folder("track") / "take.npz")
        with np.load(self.folder("track") / "take.track.npz") as data:
            return clip, data["fitted_landmarks"]

    def stage_matte(self) -> None:
        from ...video.decode import probe_video
        from ...video.matte import matte_frames
        from ..teachers.nerf.video_set import head_crop

        work = self.work("matte")
        clip, _ = self.take()
        crop = head_crop(self.head, clip)
        rgba = matte_frames(probe_video(self.video), crop, self.settings.size, self.settings.start,
                            self.settings.end, self.reporter)
        np.savez(work / "frames.npz", rgba=rgba, crop=np.array([crop.x0, crop.y0, crop.side]))
        self.publish("matte", work)

    def stage_teacher_set(self) -> None:
        work = self.work("teacher_set")
        videoset = self.video_set()
        np.savez(work / "set.npz", rgba=np.rint(videoset.frames * 255).astype(np.uint8),
                 face_boxes=videoset.face_boxes, train=videoset.train, held=videoset.held)
        self.publish("teacher_set", work)

    def video_set(self):
        """The VideoSet from the matte stage (alpha cut to the head), or as the teacher_set stage saved it."""
        from ...video.matte import Crop
        from ..teachers.nerf.video_set import video_set

        clip, points = self.take()
        with np.load(self.folder("matte") / "frames.npz") as data:
            rgba, crop = data["rgba"], Crop(*(int(v) for v in data["crop"]))
        videoset = video_set(self.head, clip, rgba, crop, points)
        saved = self.folder("teacher_set") / "set.npz"
        if saved.is_file():
            with np.load(saved) as data:
                videoset.frames = data["rgba"].astype(np.float32) / 255.0
        return videoset

    def eval_index(self, videoset) -> np.ndarray:
        """`eval_frames` held-out frames spread evenly over the held-out part."""
        held = videoset.held
        count = min(len(held), max(1, self.settings.eval_frames))
        return held[np.unique(np.linspace(0, len(held) - 1, count).round().astype(int))]

    def stage_nerf(self) -> None:
        from ..teachers.nerf import fit_nerf, nerf_teacher
        from ..teachers.nerf.video_set import face_box_psnr

        folder = self.folder("nerf")
        videoset = self.video_set()
        frames, params, cameras = videoset.pick(videoset.train)
        path = fit_nerf(frames, params, cameras, self.settings.nerf_config(), folder, self.reporter, self.head)
        teacher = nerf_teacher(path, self.head, self.settings.threads)
        index = self.eval_index(videoset)
        reals, held_params, held_cameras = videoset.pick(index)
        self.reporter.stage("scoring the NeRF on held-out frames", len(index))
        images, seconds = [], []
        for k, (p, camera) in enumerate(zip(held_params, held_cameras)):
            began = time.perf_counter()
            images.append(teacher(p, camera))
            seconds.append(time.perf_counter() - began)
            self.reporter.update(k + 1)
        boxes = videoset.face_boxes[index]
        scores = [face_box_psnr(a, b, box) for a, b, box in zip(images, reals, boxes)]
        np.savez(folder / "heldout.npz", images=np.stack(images), index=index)
        (folder / "eval.json").write_text(json.dumps({
            "heldout_frames": [int(i) for i in index], "face_psnr": float(np.mean(scores)),
            "face_psnr_each": [round(s, 3) for s in scores], "ms_per_frame": 1000.0 * float(np.median(seconds))},
            indent=2))

    def stage_nldf(self) -> None:
        from .distill import distill

        videoset = self.video_set()
        params = [videoset.params[int(i)] for i in videoset.train]
        motion = {key: np.stack([p[key] for p in params]) for key in params[0]}
        config = self.settings.nldf_config(self.folder("nerf") / "checkpoint.pt")
        self.drop_stale_student(config)
        distill(config, self.folder("nldf"), reporter=self.reporter, head=self.head, motion=motion)

    def drop_stale_student(self, config: NLDFConfig) -> None:
        """Clear the nldf folder when its student (or its settings) is not the one asked for now: one
        distilled from an earlier NeRF fit, or with other settings, starts again instead of being continued."""
        from .distill import load_checkpoint

        path = self.folder("nldf") / "checkpoint.pt"
        if not path.is_file():
            return
        teacher = f"nerf-{hashlib.sha256(Path(config.teacher).read_bytes()).hexdigest()[:12]}"
        saved_config, _, data = load_checkpoint(path)
        mine, theirs = config.to_dict(), saved_config.to_dict()
        same = all(mine[k] == theirs.get(k) for k in mine if k not in ("steps", "threads", "log_every",
                                                                          "checkpoint_every", "cache_dir"))
        if data.get("teacher") != teacher or not same:
            shutil.rmtree(self.folder("nldf"))

    def stage_export(self) -> None:
        from ...nldf.condition import condition_vectors
        from ...nldf.look import load_look
        from ...nldf.render import render_frame
        from ...render.rays import head_transform
        from ..teachers.nerf.video_set import face_box_psnr
        from .export import export, write_sidecar

        work = self.work("export")
        onnx_path, sidecar_path = export(self.folder("nldf") / "checkpoint.pt", work / f"nldf_{self.settings.name}",
                                         recipe=self.recipe())
        look = load_look(onnx_path, head=self.head, threads=self.settings.threads)
        videoset = self.video_set()
        with np.load(self.folder("nerf") / "heldout.npz") as data:
            nerf_images, index = data["images"], data["index"]
        reals, params, cameras = videoset.pick(index)
        stacked = {key: np.stack([p[key] for p in params]) for key in params[0]}
        transforms = head_transform(self.head, stacked["pose"], stacked["translation"], stacked["expression"])
        conditions = condition_vectors(stacked, self.head)
        self.reporter.stage("scoring the NLDF on held-out frames", len(index))
        images, seconds = [], []
        for k in range(len(index)):
            began = time.perf_counter()
            images.append(render_frame(look, cameras[k], transforms[k], conditions[k]))
            seconds.append(time.perf_counter() - began)
            self.reporter.update(k + 1)
        boxes = videoset.face_boxes[index]
        nerf_eval = json.loads((self.folder("nerf") / "eval.json").read_text())
        nldf_ms = 1000.0 * float(np.median(seconds))
        quality = {
            "source_video": self.video.name, "source_sha256": self.source()["sha256"],
            "frames": len(videoset), "frames_trained": len(videoset.train), "frames_held_out": len(videoset.held),
            "heldout_scored": [int(i) for i in index], "size": self.settings.size,
            "face_psnr_nerf_vs_real": round(nerf_eval["face_psnr"], 3),
            "face_psnr_nldf_vs_real": round(float(np.mean([face_box_psnr(a, b, x) for a, b, x in
                                                           zip(images, reals, boxes)])), 3),
            "face_psnr_nldf_vs_nerf": round(float(np.mean([face_box_psnr(a, b, x) for a, b, x in
                                                           zip(images, nerf_images, boxes)])), 3),
            "nerf_ms_per_frame": round(nerf_eval["ms_per_frame"], 2), "nldf_ms_per_frame": round(nldf_ms, 2),
            "speed_ratio": round(nerf_eval["ms_per_frame"] / max(nldf_ms, 1e-6), 2)}
        sidecar = json.loads(sidecar_path.read_text())
        sidecar.pop("onnx", None)
        sidecar.pop("sha256", None)
        write_sidecar(onnx_path, {**sidecar, "video": quality})
        write_sheet(work / "heldout.png", reals, nerf_images, np.stack(images))
        target = self.look_path()
        for suffix in (".json", ".png", ".onnx"):      # the .onnx last: its arrival makes the look installed
            src = work / ("heldout.png" if suffix == ".png" else onnx_path.with_suffix(suffix).name)
            src.replace(target.with_name("heldout.png") if suffix == ".png" else target.with_suffix(suffix))
        self.say("held-out face box: NeRF {face_psnr_nerf_vs_real:.2f} dB, NLDF {face_psnr_nldf_vs_real:.2f} dB "
                 "vs the real frames; NLDF {face_psnr_nldf_vs_nerf:.2f} dB vs NeRF, {speed_ratio:.1f}x faster"
                 .format(**quality))

    def recipe(self) -> str:
        s = self.settings
        sets = " ".join([f"--nerf-set {k}={json.dumps(v)}" for k, v in s.nerf.items()]
                        + [f"--nldf-set {k}={json.dumps(v)}" for k, v in s.nldf.items()])
        return (f"python -m engine.training.nldf look-from-video {self.video.name} --out {self.out} --name {s.name} "
                f"--size {s.size} {sets}").strip()

    # ---- expected time -----------------------------------------------------------------------------------
    def steps_done(self, stage: str) -> int:
        """Steps a resumable fit (nerf, nldf) has checkpointed already: its run continues from there."""
        folder = self.folder(stage)
        return last_step(folder / "log.jsonl") if (folder / "checkpoint.pt").is_file() else 0

    def print_estimates(self, todo: list) -> None:
        """Print the expected seconds of each stage still to run (from a short timing probe)."""
        if not todo:
            self.say("every stage is done; nothing to run")
            return
        estimates = self.estimates(todo)
        lines = [f"  {stage:<12} {'done' if stage not in todo else fmt_seconds(estimates[stage])}"
                 for stage in STAGES]
        total = sum(estimates[stage] for stage in todo)
        self.say("expected time per stage (a timing probe on this machine):\n" + "\n".join(lines)
                 + f"\n  {'total':<12} {fmt_seconds(total)}")

    def estimates(self, todo: list) -> dict:
        """{stage: expected seconds} of the stages in `todo` on this machine (`video_estimate`)."""
        return expected_seconds(self, todo)


def write_sheet(path: Path, reals, nerf_images, nldf_images) -> Path:
    """A PNG: real held-out frames above, the NeRF's below them, the NLDF's at the bottom."""
    from ...preview.png import write_png
    from ...preview.sheet import contact_sheet

    cells = np.concatenate([reals, nerf_images, nldf_images])
    factor = max(1, 128 // cells.shape[2])
    cells = cells.repeat(factor, axis=1).repeat(factor, axis=2)
    labels = (["real"] * len(reals)) + (["NeRF"] * len(reals)) + (["NLDF"] * len(reals))
    return write_png(path, contact_sheet(cells, labels, columns=len(reals)))


def look_from_video(video, out, settings: LookSettings, reporter: Optional[Reporter] = None,
                    head: Optional[HeadModel] = None, say=say_now, estimate_only: bool = False) -> Optional[Path]:
    """Make (or finish) the look of `video` in folder `out`; returns its .onnx path (None: estimate_only)."""
    return LookFromVideo(video, out, settings, reporter, head, say).run(estimate_only)
