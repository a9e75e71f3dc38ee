"""Worker processes end with the process that made them (`engine.children.die_with_parent`): a worker
outliving a killed parent would keep its pipes and sockets open (a Ray batch then waits for ever)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PARENT = """
import multiprocessing, os, sys, time
from engine import children
if sys.argv[1] == "poll":
    children._kernel_kills_on_parent_exit = lambda: False   # the other POSIX systems' way
def worker(parent):
    if sys.argv[1] != "none":
        children.die_with_parent(parent)
    time.sleep(60)
child = multiprocessing.get_context("fork").Process(target=worker, args=(os.getpid(),))
child.start()
print(child.pid, flush=True)
time.sleep(60)
"""


def _orphan_lives(mode: str) -> bool:
    """Start a parent whose forked worker runs in `mode`, SIGKILL the parent; whether the worker is still
    there 3 s later (it is then killed)."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    worker = int(parent.stdout.readline())
    time.sleep(0.3)  # the worker is inside die_with_parent's effect
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.05)
    alive = _alive(worker)
    if alive:
        os.kill(worker, signal.SIGKILL)
    return alive


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_a_worker_is_left_behind_without_it():
    assert _orphan_lives("none")  # what the guard is for: otherwise the check below cannot fail


@pytest.mark.parametrize("mode", ["kernel", "poll"])
def test_a_worker_ends_when_its_parent_is_killed(mode):
    assert not _orphan_lives(mode)
