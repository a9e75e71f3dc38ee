"""The engine's child process: a job in, progress and a complete result out.

    <python> -u worker.py    (stdin: one JSON launch message; the protocol is in jobs.py)

Job kinds: "animate" (a voice clip -> a MotionClip file), "track" (a talking
video -> its tracked MotionClip, `engine.video`, with the fit's quality in its
metadata), "render" (a MotionClip file -> one RGBA PNG per frame in a look,
`engine.nldf`) and "preview" (the live preview: the look loaded once, then one frame rendered
per request line on stdin until stdin closes; protocol in `preview_worker`).

`jobs.Job` runs this file with a plain Python interpreter, never inside
Blender: it imports the engine from the folder it is told and never bpy.
It must not import its neighbours either (they are the add-on), so it
stands alone. Stray prints of the engine's libraries go to stderr, keeping
stdout for the protocol.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback

TEST_HOOK = "TALKING_HEAD_WORKER_TEST"  # tests only: "crash:<code>" exits at once, "hang:<s>" stalls
EXIT_PARENT_GONE = 75                   # the parent closed our stdin before we finished
PROGRESS_INTERVAL_S = 0.05              # at most ~20 progress lines a second per stage
TRACKER_ENV = "TALKING_HEAD_TRACKER_PYTHON"  # engine.video.landmarks reads the tracker Python from it
WORST_FRAMES = 5                        # the frames of a take with the largest landmark error, kept for the panel


def main() -> int:
    """Run one job; every outcome the parent should hear about is a protocol line, and exit code 0."""
    channel = _protocol_channel()
    engine = None
    try:
        launch = json.loads(sys.stdin.buffer.readline() or b"null")
        if not isinstance(launch, dict):
            raise ValueError("no launch message on stdin")
        kind = launch["job"].get("kind", "animate")
        if kind != "preview":  # a preview reads its requests from stdin, and ends when it closes
            _exit_when_parent_goes()
        engine = _import_engine(launch["engine_dir"], launch.get("sys_path", []))
        if launch["job"].get("tracker_python"):  # the Python with mediapipe the preferences name
            os.environ[TRACKER_ENV] = launch["job"]["tracker_python"]
        RUNS[kind](engine, launch, channel)
    except Exception as error:  # noqa: BLE001 - every failure becomes one sentence for the user
        _send(channel, **_failure(error, engine))
    return 0


def _animate(engine, launch: dict, channel) -> None:
    """Animate the job's audio, save the clip atomically, then announce it."""
    job = launch["job"]
    reporter = engine.Reporter(_progress_sender(channel))
    _test_hook(reporter)
    device, models_dir = job.get("device", "auto"), job.get("models_dir")
    clip = engine.animate(job["audio"], fps=float(job["fps"]), driver=job["driver"], seed=int(job["seed"]),
                          start_frame=int(job["start_frame"]), reporter=reporter,
                          transcript=job.get("transcript"), style=_style(engine, job),
                          device=device, models_dir=models_dir)
    clip.save(launch["output"])
    _send(channel, result=launch["output"])


def _track(engine, launch: dict, channel) -> None:
    """Track the job's video onto the built-in head, keep the fit's quality and warnings in the clip's
    metadata, save it atomically, then announce it."""
    import warnings

    job = launch["job"]
    video = importlib.import_module(engine.__name__ + ".video")
    reporter = engine.Reporter(_progress_sender(channel))
    _test_hook(reporter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        take = video.track_video(job["video"], start=float(job.get("start_s") or 0.0), end=job.get("end_s"),
                                 reporter=reporter)
    clip = take.clip.copy()
    clip.start_frame = int(job.get("start_frame", 1))
    clip.metadata.update(fit_quality=_fit_quality(take.fit.error), has_audio=bool(take.info.has_audio),
                         warnings=[str(w.message) for w in caught if issubclass(w.category, UserWarning)][:8])
    clip.save(launch["output"])
    _send(channel, result=launch["output"])


def _fit_quality(error) -> dict:
    """The landmark error [T] (over the eye distance; NaN where the face was lost) as the panel shows it:
    median, 95th percentile and the worst frames [[video frame, error], ...], worst first."""
    import numpy as np

    error = np.asarray(error, np.float64)
    frames = np.nonzero(np.isfinite(error))[0]
    if frames.size == 0:
        return {"median": None, "p95": None, "worst": []}
    worst = frames[np.argsort(-error[frames], kind="stable")[:WORST_FRAMES]]
    return {"median": float(np.median(error[frames])), "p95": float(np.percentile(error[frames], 95)),
            "worst": [[int(t), float(error[t])] for t in worst]}


def _render(engine, launch: dict, channel) -> None:
    """Render every frame of the job's clip in its look into the output folder, then announce the folder."""
    job, out = launch["job"], launch["output"]
    nldf = importlib.import_module(engine.__name__ + ".nldf")
    sequence = importlib.import_module(engine.__name__ + ".preview.frames")
    reporter = engine.Reporter(_progress_sender(channel))
    _test_hook(reporter)
    clip = engine.MotionClip.load(job["clip"])
    reporter.stage("loading the look", 1)
    look = nldf.load_look(job["look"], device=job.get("device", "auto"), models_dir=job.get("models_dir"))
    frames = nldf.render_clip(clip, look, size=int(job.get("size", 256)), camera=_camera(engine, job.get("camera")),
                              reporter=reporter)
    os.makedirs(out, exist_ok=True)
    for _ in sequence.write_frames(frames, out, clip.start_frame):  # PNGs written while the next frames render
        pass
    _send(channel, result=out)


def _preview(engine, launch: dict, channel) -> None:
    """Stay warm for the live preview: load the look once, then answer each frame request on stdin (the
    latest clip's poses kept between requests) until stdin closes."""
    job, out = launch["job"], launch["output"]
    nldf = importlib.import_module(engine.__name__ + ".nldf")
    reporter = engine.Reporter(_progress_sender(channel))
    reporter.stage("loading the look", 1)
    threads = max(1, min(4, (os.cpu_count() or 2) // 2))  # half the cores: Blender evaluates each new frame too
    look = nldf.load_look(job["look"], device=job.get("device", "auto"), models_dir=job.get("models_dir"),
                          threads=threads)
    os.makedirs(out, exist_ok=True)
    _send(channel, ready=look.name)
    poses: dict = {}  # clip path -> (clip, head parameters, transforms [T, 4, 4], conditions [T, C])
    for line in iter(sys.stdin.buffer.readline, b""):
        request = json.loads(line)
        _test_hook(reporter)
        try:
            _send(channel, **_preview_frame(engine, look, poses, request, out))
        except engine.EngineError as error:
            _send(channel, id=request.get("id"), error=str(error), kind=type(error).__name__)


def _preview_frame(engine, look, poses: dict, request: dict, out: str) -> dict:
    """Render one requested frame into out/frame_<id>.rgba (raw RGBA uint8, rows top-down); its answer."""
    render = importlib.import_module(engine.__name__ + ".nldf.render")
    if request["clip"] not in poses:
        poses.clear()  # one clip at a time: the latest Animate's
        poses[request["clip"]] = _clip_poses(engine, look, engine.MotionClip.load(request["clip"]))
    clip, params, transforms, conditions = poses[request["clip"]]
    frame, start = int(request["frame"]), time.perf_counter()
    if not clip.start_frame <= frame <= clip.end_frame:
        raise engine.InputError(f"Frame {frame} is outside the head's clip (frames {clip.start_frame}-"
                                f"{clip.end_frame}); go to one of its frames to preview it.")
    camera = _camera(engine, request.get("camera")) or render.default_camera(look, int(request.get("size", 256)))
    render.check_camera(look, camera)
    t = frame - clip.start_frame
    extent = render.head_extent(look, params, t) if look.mode == "superres" else None
    rgba = render.render_frame(look, camera, transforms[t], conditions[t], extent=extent)
    shading = importlib.import_module(engine.__name__ + ".render.shading")
    path = os.path.join(out, f"frame_{int(request['id'])}.rgba")
    shading.to_uint8(rgba).tofile(path)
    return {"id": request["id"], "frame": frame, "pixels": path, "width": camera.width, "height": camera.height,
            "seconds": time.perf_counter() - start}


def _clip_poses(engine, look, clip) -> tuple:
    """(clip, head parameters, head transforms [T, 4, 4], condition vectors [T, C]) of a clip, as
    `nldf.render_clip` makes them."""
    rays = importlib.import_module(engine.__name__ + ".render.rays")
    condition = importlib.import_module(engine.__name__ + ".nldf.condition")
    params = clip.head_params(look.head)
    transforms = rays.head_transform(look.head, params["pose"], params["translation"], params["expression"])
    return clip, params, transforms, condition.condition_vectors(params, look.head)


def _camera(engine, fields):
    """The engine Camera of a job's camera fields (see `render_camera.camera_fields`), or None."""
    if not fields:
        return None
    import numpy as np

    camera = importlib.import_module(engine.__name__ + ".render.camera")
    intrinsics = (float(fields[k]) for k in ("fx", "fy", "cx", "cy"))
    return camera.Camera(int(fields["width"]), int(fields["height"]), *intrinsics,
                         np.asarray(fields["rotation"], np.float64).reshape(3, 3),
                         np.asarray(fields["translation"], np.float64).reshape(3))


def _style(engine, job: dict):
    """The job's SpeakingStyle, as the CLI makes it: the base (the reference clip's style read by the
    ADF style encoder, else the job's `style` fields, else neutral), then the `style_items` (preset
    names and NAME=VALUE parameters) applied in order."""
    base = engine.style.SpeakingStyle.from_dict(job["style"]) if job.get("style") else None
    if job.get("style_clip"):
        base = engine.style_of_reference(job["style_clip"], models_dir=job.get("models_dir"),
                                         device=job.get("device", "auto"))
    return engine.style.from_items(job.get("style_items") or (), base=base)


def _failure(error: Exception, engine) -> dict:
    """An engine error keeps its sentence and class name; anything else is an internal error."""
    if engine is not None and isinstance(error, engine.EngineError):
        return {"error": str(error), "kind": type(error).__name__}
    traceback.print_exc()
    return {"error": f"The engine failed ({type(error).__name__}: {error}); "
                     "your scene is unchanged.", "kind": "InternalError"}


def _protocol_channel():
    """A private copy of stdout for the protocol; file descriptor 1 and sys.stdout then go to stderr."""
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def _send(channel, **message) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _progress_sender(channel):
    """A Reporter listener sending progress lines: every stage start and end, else throttled."""
    last = {"stage": None, "time": 0.0}

    def send(event) -> None:
        now = time.monotonic()
        boundary = event.stage != last["stage"] or event.done in (0, event.total)
        if boundary or now - last["time"] >= PROGRESS_INTERVAL_S:
            last["stage"], last["time"] = event.stage, now
            _send(channel, stage=event.stage, done=event.done, total=event.total, message=event.message)
    return send


def _exit_when_parent_goes() -> None:
    """Exit when stdin closes: the parent (Blender) has gone or given up on us."""
    def watch() -> None:  # raw reads: a buffered reader's lock would abort interpreter shutdown
        while os.read(sys.stdin.fileno(), 4096):
            pass
        os._exit(EXIT_PARENT_GONE)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _import_engine(engine_dir: str, extra_path: list):
    """Import the engine package at `engine_dir` as `engine`, with the parent's import path for its
    dependencies (Blender's extension wheels), but not this add-on's folder."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != here]
    sys.path.extend(p for p in extra_path if p not in sys.path and os.path.abspath(p) != here)
    spec = importlib.util.spec_from_file_location("engine", os.path.join(engine_dir, "__init__.py"),
                                                  submodule_search_locations=[engine_dir])
    module = importlib.util.module_from_spec(spec)
    sys.modules["engine"] = module
    spec.loader.exec_module(module)
    return module


def _test_hook(reporter) -> None:
    """For the tests of jobs.py only: simulate a crashing or a stuck engine."""
    action, _, value = os.environ.get(TEST_HOOK, "").partition(":")
    if action == "crash":
        os._exit(int(value))
    if action == "hang":
        reporter.stage("testing", 1, "hanging on purpose")
        time.sleep(float(value))


RUNS = {"animate": _animate, "track": _track, "render": _render, "preview": _preview}


if __name__ == "__main__":
    sys.exit(main())
