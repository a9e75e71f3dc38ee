"""Scoring looks on held-out frames: the teacher against itself, a blurred teacher, distill's held-out frames,
an exported look and its checkpoint scored alike, the CLI's report, table and picture, and its refusals."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from scipy.ndimage import gaussian_filter  # noqa: E402

from engine.errors import InputError  # noqa: E402
from engine.head import load_head  # noqa: E402
from engine.preview.png import read_png  # noqa: E402
from engine.training.nldf.__main__ import main  # noqa: E402
from engine.training.nldf.distill import distillation_frames, resolve_teacher  # noqa: E402
from engine.training.nldf.export import export  # noqa: E402
from engine.training.nldf.score import frame_scores, gradient_energy, held_out_frames, known_answers  # noqa: E402
from engine.progress import silent  # noqa: E402
from tests.nldf_looks import tiny_checkpoint, tiny_config  # noqa: E402
from tests.torch_fixtures import one_thread  # noqa: E402,F401  (autouse: torch on one thread)

SUPERRES = {"mode": "superres", "sr_stride": 4, "image_size": 32}


@pytest.fixture(scope="module")
def held(tmp_path_factory):
    """Three held-out toon frames at 32² (the mouth and eye boxes a few pixels wide)."""
    return held_out_frames(tiny_config(image_size=32), load_head(), 3, tmp_path_factory.mktemp("cache"))


def test_gradient_energy_counts_the_colour_steps_inside_the_mask():
    rgba = np.zeros((3, 3, 4), np.float32)
    rgba[:, 2] = (1.0, 0.5, 0.0, 1.0)       # a vertical edge between columns 1 and 2, alpha 1 beyond it
    mask = np.ones((3, 3), bool)
    assert gradient_energy(rgba, mask) == pytest.approx(2 * (1.0 + 0.25))   # rows 0 and 1, colour only
    mask[:, 1] = False
    assert gradient_energy(rgba, mask) == 0.0


def test_the_teacher_against_itself_scores_the_ceiling_and_a_blur_scores_softer(held):
    assert held.mouth.any() and held.eyes.any()
    same = frame_scores(held.rgba, held)
    assert same["psnr"] == same["psnr_mouth"] == same["psnr_eyes"] == pytest.approx(120.0)
    assert same["sharpness"] == pytest.approx(1.0)
    blurred = frame_scores(gaussian_filter(held.rgba, sigma=(0, 1.0, 1.0, 0)), held)
    assert blurred["sharpness"] < 0.7
    assert all(15.0 < blurred[k] < 60.0 for k in ("psnr", "psnr_mouth", "psnr_eyes"))


def test_held_out_frames_begin_with_the_ones_distill_logs(tmp_path):
    config, head = tiny_config(eval_frames=2), load_head()
    teacher, name = resolve_teacher(config, head, None, None)
    _, logged = distillation_frames(config, head, teacher, name, tmp_path / "run", silent())
    more = held_out_frames(config, head, 3, tmp_path / "cache")
    assert len(more) == 3
    np.testing.assert_array_equal(more.conditions[:2], logged.conditions)
    np.testing.assert_allclose(more.rgba[:2], logged.rgba, atol=1e-3)   # float16 shards


def test_a_look_and_its_checkpoint_score_alike_and_the_report_says_so(tmp_path, capsys):
    checkpoint = tiny_checkpoint(tmp_path / "run", seed=3, **SUPERRES)
    onnx = export(checkpoint, tmp_path / "nldf_tiny", recipe="tests")[0]
    report, picture = tmp_path / "score.json", tmp_path / "sheet.png"
    assert main(["score", str(onnx), str(checkpoint), "--frames", "2", "--json", str(report),
                 "--picture", str(picture), "--label", "look"]) == 0
    rows = json.loads(report.read_text())["candidates"]
    assert [row["kind"] for row in rows] == ["look", "checkpoint"]
    assert rows[0]["psnr"] == pytest.approx(rows[1]["psnr"], abs=0.05)
    assert rows[0]["psnr_mouth"] == pytest.approx(rows[1]["psnr_mouth"], abs=0.05)
    assert rows[0]["sharpness"] == pytest.approx(rows[1]["sharpness"], rel=0.02)
    assert rows[0]["psnr"] < 40.0   # an untrained student is far from its teacher
    printed = capsys.readouterr().out
    assert "| look |" in printed and f"| {checkpoint} |" in printed
    sheet = read_png(picture)
    assert sheet.shape[1] == 2 * 32 + 3 * 8 and sheet.shape[0] > 3 * 32   # 2 frames wide, 3 rows


def test_refusals_are_one_sentence_errors(tmp_path, capsys, monkeypatch):
    checkpoint = tiny_checkpoint(tmp_path / "run", **SUPERRES)
    assert main(["score", str(checkpoint), "--frames", "1", "--set", "image_size=64"]) != 0
    assert "distilled at 32²" in capsys.readouterr().err
    assert main(["score", str(checkpoint), "--frames", "0"]) != 0
    assert "at least 1" in capsys.readouterr().err
    assert main(["score", str(checkpoint), "--label", "a", "--label", "b"]) != 0
    assert "2 labels" in capsys.readouterr().err
    from engine.bench import video_known

    monkeypatch.setattr(video_known, "has_tracker", lambda: False)
    with pytest.raises(InputError, match="tracker"):
        known_answers(checkpoint)
