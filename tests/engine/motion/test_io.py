"""MotionClip files: .npz readable by numpy alone, .json, lossless round trips, clear load errors."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from engine.errors import MotionClipError
from engine.motion import MotionClip, load_clip
from engine.motion.io import NPZ_KEYS


@pytest.fixture
def awkward_clip() -> MotionClip:
    """Values that only survive an exact round trip: float32 oddities, NTSC rate, unicode, start frame."""
    rng = np.random.default_rng(1)
    values = rng.standard_normal((37, 4)).astype(np.float32)
    values[0] = [np.float32(0.1), np.finfo(np.float32).tiny, np.nextafter(np.float32(1e4), np.float32(0)), -0.0]
    return MotionClip(names=["jaw_rx", "eyeBlinkLeft", "mouth\u00e9", "exp099"], values=values,
                      fps=30000 / 1001, start_frame=-12,
                      metadata={"source_audio": "voix \u00e9t\u00e9.wav", "style": {"preset": "happy", "k": 0.5}})


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_round_trip_is_exact(tmp_path, awkward_clip, suffix):
    path = awkward_clip.save(tmp_path / f"take{suffix}")
    back = MotionClip.load(path)
    assert back == awkward_clip
    assert back.values.dtype == np.float32
    assert np.array_equal(back.values.view(np.uint32), awkward_clip.values.view(np.uint32))  # bit-exact, -0 too
    assert back.fps == 30000 / 1001 and back.start_frame == -12
    assert not list(tmp_path.glob("*.part"))


def test_npz_opens_with_bare_numpy(tmp_path, awkward_clip):
    path = awkward_clip.save(tmp_path / "take.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(NPZ_KEYS)
        assert archive["names"].dtype.kind == "U" and archive["names"].tolist() == awkward_clip.names
        assert archive["values"].dtype == np.float32 and archive["values"].shape == (37, 4)
        assert archive["fps"].dtype == np.float64 and archive["fps"].shape == ()
        assert int(archive["start_frame"]) == -12 and int(archive["format_version"]) == 1
        assert json.loads(str(archive["metadata"])) == awkward_clip.metadata


def test_json_layout(tmp_path, awkward_clip):
    document = json.loads(awkward_clip.save(tmp_path / "take.json").read_text(encoding="utf-8"))
    assert document["format"] == "talking-head-motion" and document["version"] == 1
    assert set(document) == {"format", "version", "fps", "start_frame", "names", "values", "metadata"}
    assert len(document["values"]) == 37 and len(document["values"][0]) == 4


def write_npz(path, **overrides):
    arrays = dict(names=np.array(["a", "b"]), values=np.zeros((3, 2), np.float32), fps=np.float64(30.0),
                  start_frame=np.int64(1), metadata=np.array("{}"), format_version=np.int64(1))
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_hand_written_npz_loads(tmp_path):
    clip = load_clip(write_npz(tmp_path / "ok.npz"))
    assert clip.names == ["a", "b"] and clip.num_frames == 3


NPZ_ERRORS = [
    (dict(format_version=np.int64(2)), "has format version 2; this engine reads version 1"),
    (dict(values=None), "is not a motion clip file: it has no values entries"),
    (dict(names=np.array([1, 2])), "has malformed names"),
    (dict(values=np.zeros((3, 2), np.float64)), "has malformed values: expected a 2-D float32 array"),
    (dict(values=np.zeros(3, np.float32)), "has malformed values"),
    (dict(values=np.zeros((3, 5), np.float32)), "has 5 value columns but 2 channel names"),
    (dict(values=np.full((3, 2), np.nan, np.float32)), "NaN in channel 'a' at frame 1"),
    (dict(fps=np.array([30.0])), "malformed 'fps' entry"),
    (dict(start_frame=np.float64(1.0)), "malformed 'start_frame' entry"),
    (dict(metadata=np.array("not json")), "metadata that is not a JSON object"),
    (dict(fps=np.float64(0.0)), "frame rate must be a number from 0.1 to 1000"),
]


@pytest.mark.parametrize("overrides, sentence", NPZ_ERRORS, ids=[s for _, s in NPZ_ERRORS])
def test_bad_npz_files_say_what_is_wrong(tmp_path, overrides, sentence):
    path = write_npz(tmp_path / "bad.npz", **overrides)
    with pytest.raises(MotionClipError, match=sentence.replace("(", r"\(")):
        load_clip(path)


def test_missing_corrupt_and_foreign_files(tmp_path, awkward_clip):
    with pytest.raises(MotionClipError, match="'.*nothing.npz' does not exist."):
        load_clip(tmp_path / "nothing.npz")
    good = awkward_clip.save(tmp_path / "good.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 2])
    with pytest.raises(MotionClipError, match="'cut.npz' is corrupt or truncated"):
        load_clip(tmp_path / "cut.npz")
    flipped = bytearray(good)
    flipped[60:80] = bytes(20)
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    with pytest.raises(MotionClipError, match="'flipped.npz' is (corrupt or truncated|not a motion clip file)"):
        load_clip(tmp_path / "flipped.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(MotionClipError, match="'text.npz' is not a motion clip file"):
        load_clip(tmp_path / "text.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    with pytest.raises(MotionClipError, match="holds a single array"):
        load_clip(tmp_path / "single.npz")
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as archive:
        archive.writestr("readme.txt", "not arrays")
    with pytest.raises(MotionClipError, match="not a motion clip file: it has no names"):
        load_clip(tmp_path / "other.npz")


JSON_ERRORS = [
    ("{not json", "is corrupt or not JSON"),
    ("[1, 2]", "is not a motion clip file"),
    ('{"format": "something-else"}', "is not a motion clip file"),
    ('{"format": "talking-head-motion", "version": 9}', "has format version 9"),
    ('{"format": "talking-head-motion", "version": 1, "fps": 30}', "lacks names, values"),
    ('{"format": "talking-head-motion", "version": 1, "fps": 30, "names": ["a"], "values": [[1, 2]]}',
     "expected a list of rows of 1 numbers"),
    ('{"format": "talking-head-motion", "version": 1, "fps": 30, "names": ["a"], "values": [["x"]]}',
     "has malformed values"),
    ('{"format": "talking-head-motion", "version": 1, "fps": "30", "names": ["a"], "values": [[1]]}',
     "malformed 'fps'"),
    ('{"format": "talking-head-motion", "version": 1, "fps": 30, "names": ["a"], "values": []}',
     "has no frames"),
    ('{"format": "talking-head-motion", "version": 1, "fps": 30, "names": ["a"], "values": [[NaN]]}',
     "NaN in channel 'a' at frame 1"),
    ('{"format": "talking-head-motion", "version": 1, "fps": 30, "names": ["a"], "values": [[1]],'
     ' "start_frame": 1.5}', "malformed 'start_frame'"),
    ('{"format": "talking-head-motion", "version": 1, "fps": 30, "names": ["a"], "values": [[1]],'
     ' "metadata": 3}', "metadata that is not a JSON object"),
]


@pytest.mark.parametrize("text, sentence", JSON_ERRORS, ids=[s for _, s in JSON_ERRORS])
def test_bad_json_files_say_what_is_wrong(tmp_path, text, sentence):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(MotionClipError, match=sentence.replace("(", r"\(")) as caught:
        load_clip(path)
    assert "\n" not in str(caught.value)


def test_unknown_suffix_is_refused(tmp_path, awkward_clip):
    with pytest.raises(MotionClipError, match="must end in .npz or .json"):
        awkward_clip.save(tmp_path / "take.txt")
    with pytest.raises(MotionClipError, match="must end in .npz or .json"):
        MotionClip.load(tmp_path / "take.csv")
