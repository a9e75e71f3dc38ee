"""The shortcuts that make tracking cheaper without changing its answer: the field-of-view search's
early stop and the one-thread decoder for pictures up to 1080p."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from engine.video import decode, solve
from engine.video import fit as vfit


def _search(monkeypatch, curve: dict) -> tuple:
    """Run `solve._identity` over a made-up keyframe error per field of view; (fov chosen, fovs tried)."""
    tried = []

    class Problem:
        shape = np.zeros(3)
        settings = vfit.FitSettings()

    def fake_keyframes(problem, fov, keys, target, visible, iod, model_iod, rounds, refine=False):
        if not refine:
            tried.append(fov)
            problem.shape = np.full(3, fov)
        return curve.get(fov, 0.0), problem.shape.copy(), np.zeros((len(keys), 1))

    monkeypatch.setattr(solve, "_fit_keyframes", fake_keyframes)
    monkeypatch.setattr(solve, "_model_iod", lambda problem: 1.0)
    problem = Problem()
    fov, _ = solve._identity(problem, None, None, None, np.arange(4))
    assert problem.shape[0] == fov                       # the refinement starts from the chosen fov's shape
    return fov, tried


def test_the_fov_search_stops_once_the_error_clearly_rises(monkeypatch):
    fov, tried = _search(monkeypatch, {12.0: 1.0, 20.0: 1.04, 32.0: 1.1, 48.0: 1.2})
    assert fov == 12.0 and tried == [12.0, 20.0]


def test_a_bump_inside_the_margin_does_not_hide_a_better_wider_fov(monkeypatch):
    # real3dportrait_May_5s: 12 / 20 / 32 within 0.5 %, 32 the best, 48 far worse
    fov, tried = _search(monkeypatch, {12.0: 1.003, 20.0: 1.005, 32.0: 1.0, 48.0: 1.296})
    assert fov == 32.0 and tried == [12.0, 20.0, 32.0, 48.0]


def test_a_falling_curve_tries_every_fov(monkeypatch):
    fov, tried = _search(monkeypatch, {12.0: 1.3, 20.0: 1.2, 32.0: 1.1, 48.0: 1.0})
    assert fov == 48.0 and tried == list(vfit.FOV_CHOICES)


def _info(width: int, height: int) -> decode.VideoInfo:
    return decode.VideoInfo(Path("clip.mp4"), width, height, Fraction(25), 9.0, 0, "h264", True, False)


@pytest.mark.parametrize("size, one_thread", [((512, 512), True), ((1920, 1080), True), ((1080, 1920), True),
                                              ((3840, 2160), False)])
def test_one_decoding_thread_up_to_1080p(size, one_thread):
    command = decode.decode_command(_info(*size))
    threads = [command[k + 1] for k, a in enumerate(command[:-1]) if a == "-threads"]
    assert threads == (["1"] if one_thread else [])
    if one_thread:
        assert command.index("-threads") < command.index("-i")          # a decoder option: before the input
