"""A batch's lines: a folder or a CSV manifest, read one line at a time, every cell checked."""

from __future__ import annotations

import pytest

from batch_voices import write_manifest
from engine.batch import BatchJob, BatchLine, count_lines, read_lines
from engine.errors import InputError

DEFAULTS = BatchLine(id="", audio="", fps=24.0, formats=("npz",), style=("subtle",), seed=3)


def test_a_manifest_row_takes_its_cells_and_the_defaults_elsewhere(tmp_path):
    (tmp_path / "words.txt").write_text("hello there\n", encoding="utf-8")
    manifest = write_manifest(tmp_path / "lines.csv", [
        {"id": "Hero Line #1", "audio": "vo/a.wav", "style": "happy; smile=0.8", "fps": "29.97",
         "formats": "npz,csv video", "driver": "phonetic", "transcript": "words.txt", "look": "clay"},
        {"audio": "/abs/b.flac"},
        {"audio": "vo/a.wav", "seed": "7"},
    ], columns=("id", "audio", "style", "fps", "formats", "driver", "transcript", "look", "seed"))
    first, second, third = read_lines(manifest, DEFAULTS)
    assert first == BatchLine(id="Hero_Line_1", audio=str(tmp_path / "vo" / "a.wav"), fps=29.97,
                              formats=("npz", "csv", "video"), transcript="hello there", style=("happy", "smile=0.8"),
                              look="clay", driver="phonetic", seed=3, row=1)
    assert (second.id, second.audio, second.fps, second.style, second.seed, second.row) == \
        ("b", "/abs/b.flac", 24.0, ("subtle",), 3, 2)
    assert (third.id, third.seed) == ("a", 7)  # the stem again: made unique
    assert BatchLine.from_json(first.to_json()) == first
    assert count_lines(manifest) == 3


def test_a_folder_is_its_audio_files_by_name(tmp_path):
    for name in ("b.wav", "a.flac", "notes.txt", "c.MP3"):
        (tmp_path / name).write_bytes(b"")
    assert [line.id for line in read_lines(tmp_path, DEFAULTS)] == ["a", "b", "c"]
    assert count_lines(tmp_path) == 3


@pytest.mark.parametrize("cells, sentence", [
    ({"audio": "a.wav", "fps": "fast"}, "The fps 'fast' of row 1 (a.wav) is not a number."),
    ({"audio": "a.wav", "formats": "npz,fbx"}, "The output format 'fbx' of row 1 (a.wav) is not one of"),
    ({"audio": "", "id": "x"}, "Row 1 of the manifest has no audio file"),
])
def test_a_bad_cell_fails_its_line_alone(tmp_path, cells, sentence):
    manifest = write_manifest(tmp_path / "lines.csv", [cells, {"audio": "b.wav"}])
    bad, good = read_lines(manifest, DEFAULTS)
    assert bad.problem.startswith(sentence) and good.problem is None and good.id == "b"


def test_an_unknown_column_or_no_audio_column_is_one_sentence(tmp_path):
    typo = write_manifest(tmp_path / "typo.csv", [{"audio": "a.wav"}], columns=("audio", "styel"))
    with pytest.raises(InputError, match="unknown column 'styel'"):
        list(read_lines(typo, DEFAULTS))
    none = write_manifest(tmp_path / "none.csv", [{"file": "a.wav"}], columns=("file",))
    with pytest.raises(InputError, match="has no 'audio' column"):
        list(read_lines(none, DEFAULTS))
    with pytest.raises(InputError, match="neither a folder of audio files nor a CSV manifest"):
        list(read_lines(tmp_path / "missing.csv", DEFAULTS))


def test_the_batch_job_round_trips_and_checks_its_values(tmp_path):
    job = BatchJob(lines=str(tmp_path), out=str(tmp_path / "out"), workers=2, formats=("npz", "csv"),
                   style_items=("happy",))
    assert BatchJob.from_json(job.to_json()) == job and job.to_json()["kind"] == "batch"
    job.validate()
    for bad, sentence in [(dict(workers=0), "number of workers"), (dict(formats=("gif",)), "output formats"),
                          (dict(formats=("video",)), "need a look"), (dict(fps=0.5), "frame rate"),
                          (dict(style_items=("grumpy",)), "grumpy"), (dict(lines=str(tmp_path / "no")), "neither")]:
        fields = dict(job.to_json(), **bad)
        fields.pop("kind"), fields.pop("version")
        with pytest.raises(InputError, match=sentence):
            BatchJob(**fields).validate()


def test_column_names_are_read_whatever_their_case(tmp_path):
    manifest = write_manifest(tmp_path / "lines.csv", [{"Audio": "vo/a.wav", "FPS": "fast"}, {"Audio": "b.wav",
                                                                                              "FPS": "25"}],
                              columns=("Audio", "FPS"))
    bad, good = read_lines(manifest, DEFAULTS)
    assert (bad.id, bad.audio, bad.problem) == ("a", "vo/a.wav", "The fps 'fast' of row 1 (a.wav) is not a number.")
    assert (good.id, good.fps, good.problem) == ("b", 25.0, None)
