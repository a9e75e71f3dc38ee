"""Reading a head file in a child process: the same head as reading it here; a crash, a hang or a
memory blow-up of the child is one HeadModelError sentence."""

from __future__ import annotations

import numpy as np
import pytest

import flame_fixture
from engine.errors import HeadModelError
from engine.head import isolated
from engine.head.loader import load_head


@pytest.fixture(scope="module")
def small_pickle(tmp_path_factory):
    path = tmp_path_factory.mktemp("iso") / "generic_model.pkl"
    flame_fixture.write_flame2020(path, flame_fixture.make_flame_arrays(n_vertices=40, n_faces=30))
    return path


def test_the_child_reads_the_same_head(small_pickle):
    here, there = load_head(small_pickle), isolated.load_head_isolated(small_pickle)
    for field in ("v_template", "faces", "shapedirs", "exprdirs", "posedirs", "j_regressor", "weights"):
        assert np.array_equal(getattr(here, field), getattr(there, field))
    assert there.name == "generic_model" and there.source == str(small_pickle)
    assert there.expression_names == here.expression_names


def test_a_refused_file_gives_the_loaders_sentence(tmp_path):
    path = tmp_path / "notes.pkl"
    path.write_text("hello")
    with pytest.raises(HeadModelError, match="is not a FLAME model file: it is not a Python pickle"):
        isolated.load_head_isolated(path)


@pytest.mark.parametrize("child, timeout, words", [
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", 60, r"crashed the head file reader \(signal 11\)"),
    ("import time; time.sleep(30)", 1, "took more than 1 s and was stopped"),
    ("import resource, sys; m = int(sys.argv[5]); resource.setrlimit(resource.RLIMIT_AS, (m, m)); "
     "bytearray(2 * m)", 60, "needs more memory than a head model file ever does"),
    ("import sys; sys.exit(3)", 60, "stopped while reading 'generic_model.pkl' \\(exit code 3"),
])
def test_a_child_that_fails_is_one_sentence(small_pickle, monkeypatch, child, timeout, words):
    monkeypatch.setattr(isolated, "CHILD", child)
    with pytest.raises(HeadModelError, match=words) as info:
        isolated.load_head_isolated(small_pickle, timeout=timeout)
    assert "\n" not in str(info.value)
