"""Child processes the engine and the add-on start and talk to over stdin: ending one gently; worker
processes that end with the process that made them."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

PR_SET_PDEATHSIG = 1          # linux/prctl.h: the signal a process gets when its parent ends
PARENT_POLL_S = 0.5           # elsewhere on POSIX: how often a worker looks whether its parent is still there


def close_child(process: subprocess.Popen, grace_s: float) -> None:
    """Close the child's stdin (it finishes what it is doing and exits), then kill it if it has not exited
    within `grace_s` seconds; returns once it has ended."""
    try:
        process.stdin.close()
    except OSError:
        pass
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def die_with_parent(parent: int) -> None:
    """Make this worker process (forked or spawned by process `parent`) end as soon as its parent does.

    A worker left behind by a killed parent keeps the parent's inherited pipes and sockets open: a batch
    on a Ray cluster then never learns that the killed actor is gone, and waits for ever. On Linux the
    kernel sends SIGKILL when the parent ends (prctl PR_SET_PDEATHSIG); on other POSIX systems a daemon
    thread looks every PARENT_POLL_S seconds. Call it first thing in the worker (a pool's initializer),
    with the parent's os.getpid() taken before the pool started.
    """
    if sys.platform.startswith("linux") and _kernel_kills_on_parent_exit():
        if os.getppid() != parent:  # the parent ended before the line above took effect
            os._exit(1)
        return
    if os.name == "posix":
        threading.Thread(target=_end_without_parent, args=(parent,), daemon=True,
                         name="die-with-parent").start()


def _kernel_kills_on_parent_exit() -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    except (OSError, AttributeError):
        return False


def _end_without_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)
