"""The engine's child process: a job in, progress and a complete result out.

    <python> -u worker.py    (stdin: one JSON launch message; the protocol is in jobs.py)

The launch message's "job" is an engine job's JSON (`engine.jobs`: "animate",
"track", "render", each with its "version"): the worker reads it with
`engine.jobs.from_json` and runs it with `engine.jobs.run`, so every rule of a
job (its checks, the style, the reference clip, models, devices) is the engine's,
the same as the CLI's; it announces the result's path. The one kind of its own is
"preview" (the live preview: the look loaded once, then one frame rendered per
request line on stdin until stdin closes; protocol in `preview_worker`).

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


def main() -> int:
    """Run one job; every outcome the parent should hear about is a protocol line, and exit code 0."""
    channel = _protocol_channel()
    engine = None
    try:
        launch = json.loads(sys.stdin.buffer.readline() or b"null")
        if not isinstance(launch, dict) or not isinstance(launch.get("job"), dict):
            raise ValueError("no launch message on stdin")
        preview = launch["job"].get("kind") == "preview"
        if not preview:  # a preview reads its requests from stdin, and ends when it closes
            _exit_when_parent_goes()
        engine = _import_engine(launch["engine_dir"], launch.get("sys_path", []))
        (_preview if preview else _run_job)(engine, launch, channel)
    except Exception as error:  # noqa: BLE001 - every failure becomes one sentence for the user
        _send(channel, **_failure(error, engine))
    return 0


def _run_job(engine, launch: dict, channel) -> None:
    """Read the engine job, run it (it writes its outputs atomically), then announce the result's path."""
    jobs = importlib.import_module(engine.__name__ + ".jobs")
    reporter = engine.Reporter(_progress_sender(channel))
    _test_hook(reporter)
    result = jobs.run(jobs.from_json(launch["job"]), reporter)
    _send(channel, result=str(result.path))


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
    """The engine Camera of a request's camera fields (the render job's, `engine.jobs.render`), or None."""
    return importlib.import_module(engine.__name__ + ".jobs.render").camera_from_fields(fields)


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


if __name__ == "__main__":
    sys.exit(main())
