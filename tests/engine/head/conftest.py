"""Fixtures for head tests: synthetic FLAME files written once per module."""

from __future__ import annotations

import pytest

import flame_fixture


@pytest.fixture(scope="module")
def flame_arrays():
    """Full-size synthetic FLAME arrays (5023 vertices, 9976 faces, sparse J_regressor)."""
    return flame_fixture.make_flame_arrays()


@pytest.fixture(scope="module")
def flame2020_path(tmp_path_factory, flame_arrays):
    """A FLAME 2020-style `generic_model.pkl` (Python 2 pickle with chumpy objects)."""
    path = tmp_path_factory.mktemp("flame2020") / "generic_model.pkl"
    flame_fixture.write_flame2020(path, flame_arrays)
    return path


@pytest.fixture(scope="module")
def flame2023_path(tmp_path_factory, flame_arrays):
    """A FLAME 2023-style `flame2023_Open.pkl`."""
    path = tmp_path_factory.mktemp("flame2023") / "flame2023_Open.pkl"
    flame_fixture.write_flame2023(path, flame_arrays)
    return path


@pytest.fixture(scope="module")
def small_arrays():
    """A consistent 12-vertex FLAME-format model, for fast bad-file variants."""
    return flame_fixture.make_flame_arrays(n_vertices=12, n_faces=8)
