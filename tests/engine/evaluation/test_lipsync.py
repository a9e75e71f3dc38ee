"""eval-lipsync: drivers scored against festival's own phone timings."""

from __future__ import annotations

import json
import shutil

import pytest

from engine.cli.main import main
from engine.evaluation.lipsync import evaluate_lipsync, heldout_clips, write_evaluation

pytestmark = pytest.mark.skipif(shutil.which("festival") is None, reason="festival is not installed")


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    clips = heldout_clips(3, seed=7)
    return evaluate_lipsync(clips, drivers=("phonetic", "energy"), plot=out / "eval.png"), out


def test_target_scores_perfectly_and_the_phonetic_driver_beats_the_baseline(evaluation):
    result, _ = evaluation
    scores = {s.driver: s for s in result.scores}
    target, phonetic, energy = scores["target (true phones)"], scores["phonetic"], scores["energy"]
    assert target.bilabials >= 3
    assert (target.closure_recall, target.closure_precision, target.lip_vertex_error_mm) == (1.0, 1.0, 0.0)
    assert target.opening_correlation == pytest.approx(1.0)
    assert phonetic.closure_recall >= 0.6 and phonetic.closure_recall > energy.closure_recall
    assert phonetic.opening_correlation > 0.5
    assert phonetic.lip_vertex_error_mm < energy.lip_vertex_error_mm
    assert phonetic.real_time > 1.0


def test_plot_and_json_are_written(evaluation):
    result, out = evaluation
    assert (out / "eval.png").read_bytes()[:4] == b"\x89PNG"
    data = json.loads(write_evaluation(result, out).read_text())
    assert data["clips"] == 3 and {s["driver"] for s in data["scores"]} >= {"phonetic", "energy"}


def test_cli_eval_lipsync(tmp_path, capsys):
    assert main(["eval-lipsync", "--clips", "1", "--driver", "energy", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "energy" in out and (tmp_path / "eval_lipsync.json").exists() and (tmp_path / "eval_lipsync.png").exists()
    assert main(["eval-lipsync", "--clips", "0", "--out", str(tmp_path)]) == 2
