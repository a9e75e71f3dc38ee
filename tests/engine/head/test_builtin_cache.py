"""The built-in head's disk cache: a hit is the fresh build bit for bit, a bad file or folder falls back to
building, and the key follows the head's definition."""

from __future__ import annotations

import numpy as np
import pytest

from engine.head.builtin import build_arrays
from engine.head.builtin.cache import ENVIRONMENT, cache_folder, cached_arrays, definition_key


@pytest.fixture(scope="module")
def fresh():
    return build_arrays()


class Builder:
    """Counts how often the cache had to build (returns `fresh`'s arrays)."""

    def __init__(self, arrays):
        self.arrays, self.calls = arrays, 0

    def __call__(self):
        self.calls += 1
        return self.arrays


def assert_same(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for name, value in a.items():
        other = b[name]
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype and value.shape == other.shape, name
            np.testing.assert_array_equal(value, other, err_msg=name)
        elif isinstance(value, dict):
            assert list(value) == list(other), name
            for key in value:
                np.testing.assert_array_equal(np.asarray(value[key]), np.asarray(other[key]), err_msg=key)
                assert np.asarray(value[key]).dtype == np.asarray(other[key]).dtype
        elif isinstance(value, list):
            assert value == other and all(type(x) is str for x in other), name
        else:  # the landmark embedding
            for field in ("faces", "bary", "ids"):
                np.testing.assert_array_equal(getattr(value, field), getattr(other, field))
                assert getattr(value, field).dtype == getattr(other, field).dtype


def test_a_hit_is_the_fresh_build_bit_for_bit(tmp_path, monkeypatch, fresh):
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path / "cache"))
    builder = Builder(fresh)
    first = cached_arrays(builder, key="k")
    assert builder.calls == 1 and [p.name for p in (tmp_path / "cache").iterdir()] == ["builtin_head_k.npz"]
    second = cached_arrays(builder, key="k")
    assert builder.calls == 1   # read from the file
    assert_same(fresh, first)
    assert_same(fresh, second)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped", "other layout", "object array"])
def test_a_damaged_file_is_built_again_and_written_over(tmp_path, monkeypatch, fresh, damage):
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path))
    builder = Builder(fresh)
    cached_arrays(builder, key="k")
    path = tmp_path / "builtin_head_k.npz"
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not a zip at all")
    elif damage == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif damage == "flipped":   # one byte inside v_template's numbers: the zip's CRC no longer matches
        at = data.index(b"v_template.npy") + 4000
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    elif damage == "other layout":
        np.savez(path, v_template=np.zeros((3, 3)))
    else:
        np.savez(path, v_template=np.array([object()], dtype=object))
    assert_same(fresh, cached_arrays(builder, key="k"))
    assert builder.calls == 2
    assert_same(fresh, cached_arrays(builder, key="k"))   # the rebuilt file was written over the bad one
    assert builder.calls == 2


def test_an_unwritable_folder_or_caching_off_only_builds(tmp_path, monkeypatch, fresh):
    (tmp_path / "a file").write_text("")
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path / "a file" / "cache"))   # cannot be made: a file is in the way
    builder = Builder(fresh)
    assert_same(fresh, cached_arrays(builder, key="k"))
    assert_same(fresh, cached_arrays(builder, key="k"))
    assert builder.calls == 2
    monkeypatch.setenv(ENVIRONMENT, "off")
    assert cache_folder() is None
    cached_arrays(builder, key="k")
    assert builder.calls == 3


def test_the_default_folder_is_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("sys.platform", "linux")
    assert cache_folder() == tmp_path / "talking-head"
    monkeypatch.delenv("XDG_CACHE_HOME")

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr("pathlib.Path.home", no_home)
    assert cache_folder() is None   # no home folder: the head is built, nothing fails


def test_the_key_changes_with_the_definition(tmp_path):
    source = tmp_path / "layout.py"
    source.write_text("MOUTH_WIDTH = 0.05\n")
    before = definition_key([source])
    assert definition_key([source]) == before
    source.write_text("MOUTH_WIDTH = 0.051\n")
    assert definition_key([source]) != before
    assert definition_key([tmp_path / "missing.py"]) is None   # unreadable sources: no cache rather than a stale one
    assert definition_key() == definition_key() and definition_key() is not None   # the package's own sources
