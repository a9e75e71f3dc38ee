"""The two-style bench: its statistics measure what a speaking style changes."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engine.bench.style_suite import compare_styles, style_statistics
from engine.motion import MotionClip


def test_style_statistics_measure_head_motion_brows_smile_and_blinks():
    fps, T = 30.0, 600                                   # 20 s
    t = np.arange(T) / fps
    names = ["neck_rx", "neck_ry", "browInnerUp", "mouthSmileLeft", "mouthSmileRight", "eyeBlinkLeft"]
    values = np.zeros((T, len(names)), np.float32)
    values[:, 0] = np.radians(2.0) * np.sqrt(2) * np.sin(2 * np.pi * 0.5 * t) + 0.3   # 2 deg RMS about a tilt
    values[:, 2] = 0.5 * (t > 10)
    values[:, 3] = values[:, 4] = 0.4
    values[np.abs((t % 4.0) - 2.0) < 0.05, 5] = 1.0      # a blink every 4 s: 15 per minute
    stats = style_statistics(MotionClip(names, values, fps))
    assert stats["head_motion_deg"] == pytest.approx(2.0 / np.sqrt(3), rel=0.02)   # RMS over three neck axes
    assert stats["brow_activity"] == pytest.approx(0.25 / 5, rel=0.01)           # one of five brows moves
    assert stats["smile"] == pytest.approx(0.4, rel=1e-5) and stats["blinks_per_min"] == pytest.approx(15.0, abs=0.5)


@pytest.mark.skipif(shutil.which("festival") is None, reason="held-out speech needs festival")
def test_two_styles_keep_the_lip_sync_and_change_the_statistics():
    from engine.evaluation.lipsync import heldout_clips

    scores = compare_styles(heldout_clips(1, 5), ("serious", "happy"), "phonetic")
    assert scores["mutual_opening_correlation"] > 0.9
    assert scores["happy"]["smile"] > scores["serious"]["smile"] + 0.1
    assert scores["happy"]["head_motion_deg"] > 1.5 * scores["serious"]["head_motion_deg"]


def test_bench_runs_only_the_suites_asked_for(tmp_path, capsys):
    import json

    from engine.cli.main import main

    assert main(["bench", "--out", str(tmp_path), "--quick", "--only", "skinning"]) == 0
    rows = json.loads((tmp_path / "bench.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert rows and all("skin" in json.dumps(r) for r in rows)
    assert main(["bench", "--out", str(tmp_path), "--only", "nothing"]) != 0
    assert "Unknown benchmark suite 'nothing'" in capsys.readouterr().err
