"""The batch bench: its lines, its figures read from a real batch's summary, and a long manifest's memory."""

from __future__ import annotations

import csv

import soundfile

from engine.bench import batch_suite
from engine.bench.suites import SUITES


def test_the_bench_lines_are_3_to_8_seconds_of_the_sample_voice(tmp_path):
    manifest = batch_suite.write_lines(tmp_path, 8)
    with open(manifest, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["id"] for r in rows] == [f"line{k:04d}" for k in range(8)]
    lengths = [soundfile.info(tmp_path / r["audio"]).duration for r in rows]
    assert lengths == [3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 3.0, 4.0]
    assert {"batch throughput", "batch memory"} <= {name for name, _ in SUITES}


def test_a_batch_run_is_timed_from_its_summary_and_becomes_rows(tmp_path):
    manifest = batch_suite.write_lines(tmp_path, 3)
    one = batch_suite.timed_batch(manifest, tmp_path / "one", "energy", workers=1)
    assert one.wall > one.makespan > 0 and one.cpu > 0
    rows = batch_suite._scaling_rows("energy", 3, 12.0, one, one)
    assert [r.unit for r in rows] == ["x real time"] * 2 and rows[1].ratio == 1.0
    assert rows[1].note.startswith("scaling efficiency 0.50 by the wall clock, 0.50 once warm; CPU per line 1 vs 2 "
                                   "workers 1.00")


def test_a_long_manifest_runs_in_about_the_memory_of_a_short_one(tmp_path):
    peaks = {}
    for count in (4, 40):
        folder = tmp_path / str(count)
        folder.mkdir()
        peaks[count], _ = batch_suite.peak_batch_memory(batch_suite.write_lines(folder, count), folder / "out",
                                                        driver="energy")
    assert peaks[4] > 100  # the batch process and two warm workers were seen
    assert peaks[40] < 1.25 * peaks[4], peaks
