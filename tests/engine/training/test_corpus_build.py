"""A tiny corpus end to end: written, reloaded, resumed, refused, cancelled, from the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine.errors import Cancelled, InputError
from engine.drivers.phonetic import perform
from engine.drivers.phonetic.phones import PHONE_SET
from engine.progress import Reporter
from engine.style import NEUTRAL
from engine.training.corpus import CorpusConfig, build_corpus, iter_corpus, load_shard
from engine.training.corpus.__main__ import main
from engine.training.corpus.shard import shard_paths

TINY = dict(minutes=10 / 60, shard_seconds=5.0, voices=("en-us", "en"), variants=("", "f2", "m3"),
            sentences_per_clip=(1, 1))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 10-second corpus in 2 shards made by one worker; (config, folder, summary)."""
    folder = tmp_path_factory.mktemp("corpus")
    config = CorpusConfig.from_dict(dict(TINY, augmentation={"p_speed": 0.5, "p_tempo": 0.5}))
    return config, folder, build_corpus(config, folder, workers=1)


def test_tiny_corpus_is_written_with_its_manifest(tiny):
    config, folder, summary = tiny
    assert [p.name for p in shard_paths(folder)] == ["shard_00000.npz", "shard_00001.npz"]
    assert summary.shards_written == 2 and summary.shards_skipped == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [s["file"] for s in manifest["shards"]] == ["shard_00000.npz", "shard_00001.npz"]
    assert manifest["clips"] == summary.clips and manifest["seconds"] == pytest.approx(summary.seconds, abs=0.01)
    assert sum(s["seconds"] for s in manifest["shards"]) == pytest.approx(summary.seconds, abs=0.01)
    assert 5.0 < summary.seconds < 25.0
    with np.load(shard_paths(folder)[0], allow_pickle=False) as data:
        assert data["audio"].dtype == np.int16 and int(data["rate"]) == 16000


def test_clips_reload_aligned(tiny):
    config, folder, _ = tiny
    clips = list(iter_corpus(folder))
    assert len(clips) == tiny[2].clips
    for clip in clips:
        assert clip.audio.rate == 16000 and np.abs(clip.audio.samples).max() <= 1.0
        assert clip.phones[0].start == 0.0 and abs(clip.phones[-1].end - clip.audio.duration) < 1e-3
        assert {p.label for p in clip.phones} <= set(PHONE_SET) and clip.phones[0].label == "SIL"
        assert clip.target.fps == 30.0 and clip.target.num_frames == math.ceil(clip.audio.duration * 30 - 1e-9)
        assert clip.target.has_channel("jaw_rx") and clip.text and clip.voice.split("+")[0] in ("en-us", "en")
        assert clip.target.metadata["style"] == clip.style.to_dict()
        assert clip.augmentation["synth_rate"] >= 130 and "noise_snr_db" in clip.augmentation


def test_targets_are_the_performance_of_the_recorded_timings_and_style(tiny):
    clip = next(iter_corpus(tiny[1]))
    again = perform(clip.phones, clip.audio, 30.0, clip.style, seed=clip.target.metadata["seed"])
    mouth = [n for n in clip.target.names if n.startswith(("jaw", "mouth"))]
    assert mouth and np.allclose(again.select(mouth).values, clip.target.select(mouth).values, atol=1e-5)


def test_styles_are_recorded_and_varied(tiny):
    styles = [c.style for c in iter_corpus(tiny[1])]
    assert len({s.articulation for s in styles}) == len(styles) and NEUTRAL not in styles


def test_a_second_run_does_no_work(tiny):
    config, folder, _ = tiny
    before = {p.name: p.stat().st_mtime_ns for p in shard_paths(folder)}
    summary = build_corpus(config, folder, workers=1)
    assert summary.shards_written == 0 and summary.shards_skipped == 2
    assert {p.name: p.stat().st_mtime_ns for p in shard_paths(folder)} == before


def test_shards_are_deterministic_and_partial_files_never_count(tiny, tmp_path):
    config, folder, _ = tiny
    (tmp_path / "shard_00000.npz.partial-999").write_bytes(b"half a shard")
    build_corpus(config, tmp_path, workers=1)
    assert not list(tmp_path.glob("*.partial*"))
    for mine, theirs in zip(shard_paths(tmp_path), shard_paths(folder)):
        a, b = load_shard(mine), load_shard(theirs)
        assert [c.text for c in a] == [c.text for c in b]
        assert all(np.array_equal(x.audio.samples, y.audio.samples) for x, y in zip(a, b))


def test_a_different_config_is_refused(tiny):
    config, folder, _ = tiny
    with pytest.raises(InputError, match=r"other settings \(seed\)"):
        build_corpus(CorpusConfig.from_dict(dict(config.to_dict(), seed=1)), folder)


def test_two_workers_make_the_same_shards(tiny, tmp_path):
    config, folder, _ = tiny
    summary = build_corpus(config, tmp_path, workers=2)
    assert summary.shards_written == 2
    for mine, theirs in zip(iter_corpus(tmp_path), iter_corpus(folder)):  # each shard in a fresh process
        assert mine.text == theirs.text and np.array_equal(mine.audio.samples, theirs.audio.samples)


def test_cancelling_keeps_only_whole_shards(tiny, tmp_path):
    config, _, _ = tiny
    reporter = Reporter(lambda event: reporter.cancel.cancel() if event.done >= 1 else None)
    with pytest.raises(Cancelled):
        build_corpus(config, tmp_path, workers=1, reporter=reporter)
    assert [p.name for p in shard_paths(tmp_path)] == ["shard_00000.npz"]
    assert [s["file"] for s in json.loads((tmp_path / "manifest.json").read_text())["shards"]] == ["shard_00000.npz"]
    assert build_corpus(config, tmp_path, workers=1).shards_written == 1  # resumes with the rest


def test_cli_builds_and_reports(tmp_path, capsys):
    out = tmp_path / "festival"
    assert main(["--out", str(out), "--minutes", str(3 / 60), "--shard-seconds", "3",
                 "--synthesizer", "festival", "--workers", "1"]) == 0
    assert "minutes of audio in" in capsys.readouterr().out
    assert next(iter_corpus(out)).voice == "festival:kal_diphone"
    assert main(["--out", str(out), "--minutes", "-2"]) == 2
    assert "must be a positive number" in capsys.readouterr().err
    assert main(["--out", str(out), "--minutes", "1"]) == 2
    assert "other settings" in capsys.readouterr().err


def test_an_empty_folder_is_not_a_corpus(tmp_path):
    with pytest.raises(InputError, match="holds no corpus shards"):
        next(iter_corpus(tmp_path))
