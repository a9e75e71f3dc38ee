"""Child processes the engine and the add-on start and talk to over stdin: ending one gently."""

from __future__ import annotations

import subprocess


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
