"""The render-throughput bench rows on a few frames: every frame written by the whole-process render, ratios of
figures of the same run."""

import pytest

from engine.bench import throughput_suite


def test_throughput_rows_on_a_short_clip(tmp_path, monkeypatch):
    monkeypatch.setattr(throughput_suite, "QUICK_FRAMES", 4)
    rows = throughput_suite.render_throughput(True, tmp_path)
    whole, png = rows
    assert whole.unit == "fps" and whole.value > 0 and whole.baseline > 0
    assert whole.ratio == pytest.approx(whole.value / whole.baseline)
    assert "4 PNGs" in whole.note and "4 frames" in whole.name and "CPU per frame" in whole.note
    assert png.unit == "ms" and png.value > 0 and png.ratio == pytest.approx(png.baseline / png.value)
