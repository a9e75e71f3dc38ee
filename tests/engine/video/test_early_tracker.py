"""The MediaPipe child `python -m engine track` starts before its imports: it is the one used, and a
command that fails before handing it a job (a file that is no video, Ctrl-C) closes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import needs_tracker
from engine import early_tracker
from engine.cli.main import main
from engine.video import decode, landmarks
from engine.video.errors import TrackerMissingError

ROOT = Path(__file__).resolve().parents[3]


def _logging_tracker(tmp_path: Path) -> tuple:
    """A tracker Python that writes its pid and arguments to a log, then becomes the real one."""
    log, script = tmp_path / "started.log", tmp_path / "tracker.sh"
    script.write_text(f'#!/bin/sh\necho "$$ $*" >> "{log}"\nexec "{landmarks.tracker_python()}" "$@"\n')
    script.chmod(0o755)
    return script, log


def _ended(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_command_line_picks_the_commands_that_track():
    assert early_tracker.wants_early(["track", "a.mp4", "-o", "a.npz"])
    assert early_tracker.wants_early(["--debug", "track", "a.mp4"])
    assert not early_tracker.wants_early(["track", "--help"])
    assert not early_tracker.wants_early(["animate", "track.wav"])
    assert not early_tracker.wants_early([])


@needs_tracker
def test_python_m_engine_track_uses_the_child_it_started_early(known_video, tmp_path):
    tracker, log = _logging_tracker(tmp_path)
    env = dict(os.environ, TALKING_HEAD_TRACKER_PYTHON=str(tracker))
    done = subprocess.run([sys.executable, "-m", "engine", "track", str(known_video), "-o", str(tmp_path / "t.npz")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    started = log.read_text().splitlines()
    assert len(started) == 1 and started[0].split()[1:] == [str(early_tracker.WORKER), early_tracker.WAIT]
    assert (tmp_path / "t.npz").is_file() and _ended(int(started[0].split()[0]))


@needs_tracker
def test_a_file_that_is_no_video_closes_the_early_child(tmp_path):
    tracker, log = _logging_tracker(tmp_path)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 20)
    env = dict(os.environ, TALKING_HEAD_TRACKER_PYTHON=str(tracker))
    done = subprocess.run([sys.executable, "-m", "engine", "track", str(text), "-o", str(tmp_path / "t.npz")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: 'notes.mp4' is not a readable video")
    started = log.read_text().splitlines()
    assert len(started) == 1 and _ended(int(started[0].split()[0]))
    assert not (tmp_path / "t.npz").exists()


@needs_tracker
def test_ctrl_c_before_the_job_closes_the_early_child(known_video, tmp_path, monkeypatch, capsys):
    def interrupted(path):
        child = early_tracker._early
        assert child is not None and child.process.poll() is None     # started, waiting for its job
        seen.append(child.process)
        raise KeyboardInterrupt

    seen = []
    monkeypatch.setattr(decode, "probe_video", interrupted)
    assert main(["track", str(known_video), "-o", str(tmp_path / "t.npz")]) == 1
    assert "cancelled" in capsys.readouterr().err
    assert len(seen) == 1 and seen[0].returncode is not None and early_tracker._early is None


def test_an_early_child_without_mediapipe_says_so_in_one_sentence(known_video, monkeypatch):
    if __import__("importlib").util.find_spec("mediapipe") is not None:
        pytest.skip("this Python has mediapipe")
    monkeypatch.setenv("TALKING_HEAD_TRACKER_PYTHON", sys.executable)
    assert early_tracker.start_early(["track", str(known_video)], landmarks.send_early_job)
    process = early_tracker._early.process
    with pytest.raises(TrackerMissingError, match="MediaPipe Face Mesh could not start"):
        landmarks.track_landmarks(decode.probe_video(known_video))
    assert early_tracker._early is None and process.returncode == 3


def test_a_child_of_another_python_is_closed_not_adopted(monkeypatch, tmp_path):
    monkeypatch.setenv("TALKING_HEAD_TRACKER_PYTHON", sys.executable)
    assert early_tracker.start_early(["track", "x.mp4"])
    process = early_tracker._early.process
    assert early_tracker.adopt(str(tmp_path / "another-python")) is None
    assert process.returncode is not None and early_tracker._early is None


@needs_tracker
def test_the_waiting_worker_ends_quietly_when_no_job_comes():
    done = subprocess.run([landmarks.tracker_python(), str(early_tracker.WORKER), early_tracker.WAIT],
                          input=b"", capture_output=True, env=early_tracker.quiet_env(), timeout=120)
    assert done.returncode == 0 and done.stdout == b""



@needs_tracker
@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or (os.cpu_count() or 1) < 2,
                    reason="counts threads in Linux's /proc, on more than one core")
def test_the_childs_numpy_starts_no_blas_threads():
    count = "import numpy, os; print(len(os.listdir('/proc/self/task')))"
    env = early_tracker.quiet_env()
    threads = {}
    for name, value in (("child", env["OPENBLAS_NUM_THREADS"]), ("default", None)):
        run_env = dict(env, OPENBLAS_NUM_THREADS=value) if value else {k: v for k, v in env.items()
                                                                       if k != "OPENBLAS_NUM_THREADS"}
        done = subprocess.run([landmarks.tracker_python(), "-c", count], capture_output=True, text=True,
                              env=run_env, timeout=60, check=True)
        threads[name] = int(done.stdout)
    assert threads["child"] == 1 < threads["default"]

@needs_tracker
def test_the_early_job_is_the_readers_and_its_probe_is_reused(known_video):
    assert early_tracker.start_early(["--debug", "track", str(known_video), "-o", "take.npz"], landmarks.send_early_job)
    child = early_tracker.waiting()
    info = landmarks.early_probe(str(known_video))
    assert child.job == landmarks.worker_job(info, 0.0, None) and child.process.stdin.closed   # sent already
    try:
        marks = landmarks.track_landmarks(info)
    finally:
        early_tracker.close_early()
    assert early_tracker.waiting() is None and child.process.returncode == 0
    assert marks.points.shape == (40, landmarks.NUM_POINTS, 3) and marks.found.all()


@needs_tracker
def test_a_wrong_guess_of_the_job_starts_a_child_for_the_real_one(known_video):
    assert early_tracker.start_early(["track", str(known_video), "--start", "0.8"], landmarks.send_early_job)
    guessed = early_tracker.waiting()
    assert guessed.job is not None
    info = decode.probe_video(known_video)
    try:
        marks = landmarks.track_landmarks(info, 0.0, 0.4)        # not what the command line said
    finally:
        early_tracker.close_early()
    assert guessed.process.returncode is not None and len(marks.faces) == 10


def test_no_early_job_for_a_file_that_is_no_video(tmp_path, monkeypatch):
    monkeypatch.setenv("TALKING_HEAD_TRACKER_PYTHON", sys.executable)
    text = tmp_path / "notes.txt"
    text.write_text("words\n")
    try:
        assert early_tracker.start_early(["track", str(text)], landmarks.send_early_job)
        assert early_tracker.waiting().job is None and landmarks.early_probe(text) is None
    finally:
        early_tracker.close_early()
