"""Fixtures for tests that train or run torch models (import them into the test module to use them)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_thread():
    """Torch on one thread for the test: the suite runs two workers on two cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
