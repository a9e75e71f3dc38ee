"""The live preview's render engine: one warm child process answering frame requests, a sentence for a bad
request, closed with its files, a crash told in a sentence, and gone when the Blender that started it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # to make the tiny look; the add-on and its engine never import it

from tests.nldf_looks import tiny_look  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def look(tmp_path_factory):
    folder = tmp_path_factory.mktemp("looks")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return tiny_look(folder, "tiny")
    finally:
        torch.set_num_threads(threads)


def clip_file(folder: Path) -> str:
    from engine import MotionClip

    t = np.linspace(0, 1, 3)[:, None]
    values = np.concatenate([0.3 * t, t, 0.2 * t], axis=1).astype(np.float32)
    clip = MotionClip(names=["jaw_rx", "mouthFunnel", "neck_ry"], values=values, fps=24.0, start_frame=1)
    return str(clip.save(folder / "clip.npz"))


def answer(worker, timeout=120.0) -> dict:
    """The next frame answer (or failure) of `worker`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in worker.poll():
            if "id" in message:
                return message
        if worker.failure is not None:
            return {"failure": worker.failure}
        time.sleep(0.01)
    raise AssertionError("the render engine did not answer in time")


def test_one_warm_engine_answers_frame_after_frame_and_a_bad_request_in_a_sentence(look, tmp_path):
    from addon.engine_link.preview_worker import PreviewWorker
    from engine import MotionClip
    from engine.nldf import load_look, render_clip

    clip = clip_file(tmp_path)
    worker = PreviewWorker(str(look), device="cpu").start()
    try:
        first = worker.ask({"clip": clip, "frame": 2, "size": 24, "camera": None})
        message = answer(worker)
        assert worker.ready and message["id"] == first and message["frame"] == 2
        rgba = PreviewWorker.pixels(message)
        assert not Path(message["pixels"]).exists()  # read once, then removed
        expected = list(render_clip(MotionClip.load(clip), load_look(look, device="cpu"), size=24))[1]
        assert np.abs(rgba.astype(int) - expected).max() <= 1
        worker.ask({"clip": clip, "frame": 9, "size": 24, "camera": None})
        assert answer(worker)["error"] == ("Frame 9 is outside the head's clip (frames 1-3); go to one of its "
                                           "frames to preview it.")
        worker.ask({"clip": clip, "frame": 3, "size": 24, "camera": None})
        assert answer(worker)["frame"] == 3 and worker.alive  # still warm after the bad request
    finally:
        worker.close()
    assert worker._process.poll() is not None and not worker.folder.exists() and not worker.alive


def test_an_engine_that_dies_is_a_sentence(look, tmp_path, monkeypatch):
    from addon.engine_link import worker as worker_module
    from addon.engine_link.preview_worker import PreviewWorker

    monkeypatch.setenv(worker_module.TEST_HOOK, "crash:3")
    worker = PreviewWorker(str(look), device="cpu").start()
    try:
        worker.ask({"clip": clip_file(tmp_path), "frame": 1, "size": 24, "camera": None})
        failure = answer(worker)["failure"]
    finally:
        worker.close()
    assert failure.message == "The render engine stopped unexpectedly (exit code 3); your scene is unchanged."
    assert failure.kind == "Crash" and not worker.alive


BLENDER = """
import sys, time
sys.path.insert(0, {root!r})
from addon.engine_link.preview_worker import PreviewWorker
worker = PreviewWorker({look!r}, device="cpu").start()
while not worker.ready:
    worker.poll()
    time.sleep(0.01)
print(worker._process.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_the_engine_does_not_outlive_a_blender_that_is_killed(look):
    """A Blender killed outright (SIGKILL: no handler, no atexit) takes its render engine with it."""
    blender = subprocess.Popen([sys.executable, "-c", BLENDER.format(root=str(ROOT), look=str(look))],
                               stdout=subprocess.PIPE, text=True)
    try:
        child = int(blender.stdout.readline())
        assert alive(child)
        os.kill(blender.pid, signal.SIGKILL)
        blender.wait()
        deadline = time.monotonic() + 20
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(child)
    finally:
        if blender.poll() is None:
            blender.kill()


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie waiting for its reaper has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
