"""Peak memory of the current process, for benchmark child processes.

On Linux `ru_maxrss` also counts the memory the parent had when it forked
the child (the high-water mark survives exec), so a child started from a big
benchmark process reports at least the parent's size. VmHWM in /proc is the
peak of the child's own program; ru_maxrss is used where there is no /proc.
"""

from __future__ import annotations

import resource
import sys


def peak_rss_kib() -> float:
    """This program's peak resident memory in KiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform == "darwin" else float(peak)   # bytes on macOS, KiB elsewhere
