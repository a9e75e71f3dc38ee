"""engine.numeric gives scipy's answers (scipy is the reference here; the animate path never imports it)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.fft import next_fast_len
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from engine.numeric import fast_fft_size, peaks_above, smooth


@pytest.mark.parametrize("n, sigma, mode", [(200, 5.0, "reflect"), (7, 3.0, "reflect"), (50, 0.4, "reflect"),
                                            (1, 2.0, "reflect"), (300, 14.4, "wrap"), (9, 6.0, "wrap")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_smooth_is_gaussian_filter1d(n, sigma, mode, dtype):
    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    got, expected = smooth(x, sigma, mode=mode), gaussian_filter1d(x, sigma, mode=mode)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 if dtype == np.float32 else 1e-12)


def test_smooth_keeps_a_constant_and_the_sum():
    assert np.allclose(smooth(np.full(40, 3.0), 4.0), 3.0)
    pulse = np.zeros(101)
    pulse[50] = 1.0
    assert np.isclose(smooth(pulse, 3.0).sum(), 1.0) and smooth(pulse, 3.0).argmax() == 50


@pytest.mark.parametrize("seed", range(12))
def test_peaks_above_is_find_peaks(seed):
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(rng.integers(3, 400)), 1)  # rounded: flat tops and ties occur
    height, gap = float(rng.uniform(-1, 1.5)), float(rng.choice([1, 2.5, 7, 30]))
    expected, properties = find_peaks(x, height=height, distance=gap)
    peaks, heights = peaks_above(x, height, gap)
    assert peaks.tolist() == expected.tolist()
    assert np.array_equal(heights, properties["peak_heights"])


def test_peaks_flat_tops_and_ends():
    x = np.array([5.0, 1, 3, 3, 3, 1, 2, 2, 1, 0, 4, 4])  # the ends never count; a flat top at its middle
    assert peaks_above(x, 0.0)[0].tolist() == [3, 6] == find_peaks(x, height=0.0)[0].tolist()
    assert peaks_above(np.array([1.0, 2.0]), 0.0)[0].size == 0


@pytest.mark.parametrize("n", [1, 2, 7, 11, 97, 400, 401, 1000, 4097])
def test_fast_fft_size_is_next_fast_len(n):
    assert fast_fft_size(n) == next_fast_len(n, real=True)
