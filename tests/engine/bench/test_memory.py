"""Benchmark children measure their own peak memory, not the parent's."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from engine.bench.memory import peak_rss_kib

CHILD = "from engine.bench.memory import peak_rss_kib; print(peak_rss_kib())"


def test_a_child_of_a_big_process_reports_its_own_peak():
    ballast = np.ones(300 * 2 ** 20 // 8)              # this process holds 300 MB more than the child will
    assert peak_rss_kib() > 300 * 1024
    child = float(subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout)
    assert 0 < child < peak_rss_kib() - 250 * 1024
    del ballast
