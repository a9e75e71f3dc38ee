"""The data-only pickle reader and the bounded head .npz reader: what they build, what they refuse."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

import flame_fixture
from engine.errors import HeadModelError
from engine.head.loader import load_head, load_head_npz, save_head_npz
from engine.head.safe_pickle import MAX_DEPTH, RefusedGlobal, RefusedPickle, TruncatedPickle, load_data


@pytest.mark.parametrize("protocol", range(6))
def test_plain_data_and_numeric_arrays_come_back_at_every_protocol(protocol):
    data = {"a": np.arange(6.0).reshape(2, 3), "f": np.asfortranarray(np.arange(6, dtype=">u4").reshape(2, 3)),
            "list": [1, 2.5, "x", b"y", None, True], "s": np.float32(3.5), "big": 10**30, "set": {1, 2}}
    back = load_data(pickle.dumps(data, protocol=protocol))
    for key in ("a", "f"):
        assert np.array_equal(back[key], data[key]) and back[key].dtype == data[key].dtype
        assert back[key].flags.writeable
    assert back["list"] == data["list"] and back["s"] == 3.5 and back["big"] == 10**30 and back["set"] == {1, 2}


def test_a_huge_memo_index_costs_nothing():
    assert load_data(b"\x80\x02Nr\xff\xff\xff\x03.") is None  # LONG_BINPUT 0x03ffffff


def dtype_pickle(code: bytes, state: bytes) -> bytes:
    """A pickle of a bare numpy.dtype(code) given `state` by BUILD (what numpy would __setstate__)."""
    return (b"\x80\x02cnumpy\ndtype\nX" + len(code).to_bytes(4, "little") + code + b"\x89\x88\x87R" + state
            + b"b.")


@pytest.mark.parametrize("code", [b"O8", b"V8", b"U4", b"S3", b"M8", b"c16"])
def test_dtypes_other_than_numbers_are_refused(code):
    array = pickle.dumps(np.zeros(2), protocol=2).replace(b"f8", code[:2])
    with pytest.raises(RefusedPickle):
        load_data(array)


def test_a_structured_dtype_state_is_refused():
    names = b"(X\x01\x00\x00\x00at"
    state = b"(K\x03X\x01\x00\x00\x00|N" + names + b"NK\x08K\x01K\x3ft"
    with pytest.raises(RefusedPickle, match="structured"):
        load_data(dtype_pickle(b"f8", state))


def test_a_bare_dtype_is_never_a_value():
    state = b"(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t"
    with pytest.raises(RefusedPickle, match="bare type"):
        load_data(dtype_pickle(b"f8", state))


def test_array_bytes_must_match_the_shape():
    raw = pickle.dumps(np.arange(4.0), protocol=2)
    with pytest.raises(RefusedPickle, match="bytes of data"):
        load_data(raw.replace(b"K\x04\x85", b"K\x05\x85", 1))


@pytest.mark.parametrize("raw, error", [
    (b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00lsR.", RefusedGlobal),
    (b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93.", RefusedGlobal),
    (b"\x80\x02(cos\nsystem\no.", RefusedPickle),                 # OBJ
    (b"\x80\x02}q\x00(X\x01\x00\x00\x00a", TruncatedPickle),
    (b"\x80\x02" + b"]" * (MAX_DEPTH + 5) + b"a" * (MAX_DEPTH + 4) + b".", RefusedPickle),  # lists nested too deep
])
def test_code_and_damage_are_refused(raw, error):
    with pytest.raises(error):
        load_data(raw)


def test_a_list_holding_itself_loads_without_recursing_and_is_no_array():
    from engine.head.flame_file import to_array

    value = load_data(b"\x80\x02]2a.")
    assert value[0] is value
    with pytest.raises((ValueError, RecursionError)):
        to_array(value)


def test_self_referencing_stand_ins_do_not_recurse_forever(tmp_path, small_arrays):
    with flame_fixture.fake_chumpy() as Ch:
        data = flame_fixture.dense(small_arrays)
        loop = Ch(np.zeros(1))
        data["weights"] = loop
        raw = pickle.dumps(data, protocol=2)
    raw = raw.replace(b"X\x01\x00\x00\x00x", b"X\x01\x00\x00\x00a", 1)  # its value 'x' becomes an expression 'a'
    path = tmp_path / "loop.pkl"
    path.write_bytes(raw)
    with pytest.raises(HeadModelError):
        load_head(path)


# ---- head .npz -----------------------------------------------------------------------------------

@pytest.fixture
def small_head(tmp_path, small_arrays):
    path = tmp_path / "h.pkl"
    flame_fixture.write_flame2023(path, small_arrays)
    return load_head(path)


def saved_with(tmp_path, head, **members):
    path = tmp_path / "head.npz"
    save_head_npz(head, path)
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays.update(members)
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("members, words", [
    (dict(vertex_colors=np.zeros((12, 4))), "'vertex_colors' holds 48 values"),
    (dict(vertex_colors=np.full((12, 3), 2.0)), "vertex colours must be [12, 3] numbers in [0, 1]"),
    (dict(vertex_colors=np.zeros((12, 3), np.int64)), "vertex colours must be"),
    (dict(posedirs=np.full((12, 3, 36), np.nan)), "NaN, infinite or absurdly large values in its pose correctives"),
    (dict(J_regressor=np.full((5, 12), 1e30)), "absurdly large values in its joint regressor"),
    (dict(region_indices=np.array([0, 99]), region_sizes=np.array([2]), region_names=np.array(["lips"])),
     "the region 'lips' must list vertex indices"),
    (dict(joint_limits=np.array([[[1.0, 0, 0], [0, 0, 0]]]), joint_limit_names=np.array(["jaw"])),
     "the joint limits of 'jaw'"),
    (dict(shape_names=np.array([1.0] * 300)), "holds float64 values"),
])
def test_bad_optional_and_required_arrays_are_named(tmp_path, small_head, members, words):
    with pytest.raises(HeadModelError, match=words.replace("[", r"\[").replace("(", r"\(")):
        load_head_npz(saved_with(tmp_path, small_head, **members))


def zipped_zeros(count: int) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, v_template=np.zeros((count, 3), np.float32))
    return buffer.getvalue()


def test_a_zip_bomb_member_is_refused_before_it_is_unpacked():
    from engine.files import FileRefused, read_npz

    def anything(*_):
        return None

    assert read_npz(zipped_zeros(1000), anything)["v_template"].shape == (1000, 3)  # under the 16 MB floor
    bomb = zipped_zeros(2_000_000)  # 24 MB of zeros in ~23 kB
    assert len(bomb) < 100_000
    with pytest.raises(FileRefused, match="zip bomb"):
        read_npz(bomb, anything)
