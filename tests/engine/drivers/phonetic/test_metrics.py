"""Lip-sync measures: known answers on hand-made opening tracks and clips."""

from __future__ import annotations

import numpy as np
import pytest

from engine.head import load_head
from engine.motion import MotionClip
from engine.drivers.phonetic.metrics import closure_runs, closure_score, lip_vertex_error, mouth_opening
from engine.drivers.phonetic.phones import Phone

FPS = 100.0


def track(closed_spans, seconds=2.0, open_mm=10.0):
    """An opening track [T] (mm) open everywhere except the given (start, end) spans (s)."""
    t = np.arange(int(seconds * FPS)) / FPS
    out = np.full(t.shape, open_mm)
    for a, b in closed_spans:
        out[(t >= a) & (t < b)] = 0.0
    return out


def test_closure_runs():
    assert closure_runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
    assert closure_runs(np.zeros(3, bool)) == []


def test_perfect_missed_and_spurious_closures():
    phones = [Phone("SIL", 0.0, 0.2), Phone("AA", 0.2, 0.5), Phone("M", 0.5, 0.6), Phone("AA", 0.6, 1.0),
              Phone("B", 1.0, 1.08), Phone("IY", 1.08, 1.6), Phone("SIL", 1.6, 2.0)]
    perfect = closure_score(track([(0.0, 0.2), (0.5, 0.6), (1.0, 1.08), (1.6, 2.0)]), FPS, phones)
    assert (perfect.recall, perfect.precision, perfect.bilabials, perfect.closures) == (1.0, 1.0, 2, 2)
    missed = closure_score(track([(0.52, 0.58)]), FPS, phones)
    assert missed.recall == 0.5 and missed.precision == 1.0
    spurious = closure_score(track([(0.5, 0.6), (1.0, 1.08), (1.3, 1.4)]), FPS, phones)
    assert spurious.recall == 1.0 and spurious.precision == pytest.approx(2 / 3)
    late = closure_score(track([(0.63, 0.66)]), FPS, phones)  # 30 ms after the m: within tolerance
    assert late.recall == 0.5


def test_mouth_opening_and_lip_vertex_error_on_the_head():
    head = load_head()
    jaw = np.array([0.0, 0.1, 0.2], np.float32)
    clip = MotionClip(["jaw_rx"], jaw[:, None], 30.0)
    opening = mouth_opening(head, clip)
    assert abs(opening[0]) < 0.3 and 7.0 < opening[1] < 13.0 and opening[2] > opening[1] + 7.0
    assert lip_vertex_error(head, clip, clip) == 0.0
    shut = MotionClip(["jaw_rx"], np.zeros((3, 1), np.float32), 30.0)
    error = lip_vertex_error(head, clip, shut)
    assert 3.0 < error < 20.0
