"""Fuzz tests of every file loader: mutated valid files give an EngineError sentence or a valid result,
each case in a forked child limited to 300 MB more memory and 5 s.

Hypothesis draws the mutations (which seed, which ops, their parameters) with a fixed seed, so a CI run
exercises the same few cases per loader each time; `python build.py fuzz` runs the long campaign.
"""

from __future__ import annotations

import os
import signal

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.fuzz.loaders import BY_NAME, LOADERS  # noqa: E402
from tests.fuzz.mutate import OPS, mutate  # noqa: E402
from tests.fuzz.sandbox import run_case  # noqa: E402

EXAMPLES = 16  # per loader: the suite's share stays a few seconds


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """Valid seed files of every loader, each loaded once here (so forked cases find modules imported)."""
    made = {}
    for loader in LOADERS:
        folder = tmp_path_factory.mktemp(loader.name)
        made[loader.name] = loader.seeds(folder)
        path = folder / f"valid{loader.suffix}"
        for data in made[loader.name]:
            path.write_bytes(data)
            loader.load(path)  # the seeds themselves are valid
    return made


def ops_for(zipped: bool):
    names = ["zip_member"] * 6 + sorted(OPS) if zipped else sorted(OPS)
    return st.lists(st.tuples(st.sampled_from(names), st.integers(0, 2**32 - 1)), min_size=1, max_size=3)


@pytest.mark.parametrize("name", [loader.name for loader in LOADERS])
def test_mutated_files_give_a_sentence_or_a_result(name, seeds, tmp_path):
    loader, files = BY_NAME[name], seeds[name]
    failures = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(files) - 1).flatmap(lambda k: st.tuples(st.just(k), ops_for(files[k][:2] == b"PK"))))
    def case(drawn):
        k, ops = drawn
        outcome = run_case(loader.load, mutate(files[k], ops), tmp_path / f"case{loader.suffix}")
        if not outcome.good:
            failures.append((k, ops, outcome))
        assert outcome.good, f"{name}, seed {k}, ops {ops}: {outcome.kind} ({outcome.detail})"

    case()
    assert not failures


# ---- the sandbox finds what it is for ----------------------------------------------------------------

def _allocates(_path):
    return bytearray(2 * 1024**3)


def _crashes(_path):
    os.kill(os.getpid(), signal.SIGSEGV)


def _spins(_path):
    while True:
        pass


def _bug(_path):
    return {}["a key"]


@pytest.mark.parametrize("load, kind", [(_allocates, "memory"), (_crashes, "crash"), (_bug, "escaped"),
                                        (_spins, "timeout")])
def test_the_sandbox_reports_each_kind_of_failure(tmp_path, load, kind):
    outcome = run_case(load, b"", tmp_path / "x", seconds=1.0)
    assert outcome.kind == kind and not outcome.good
