"""Image quality of straight-alpha RGBA frames against a reference: PSNR and SSIM.

Both are measured on premultiplied RGBA (colour times alpha, and alpha): the
colour of a transparent pixel does not count, a wrong silhouette does. Teachers,
students and the benchmarks all score this way.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

SSIM_SIGMA = 1.5                   # the Gaussian window of SSIM (Wang et al. 2004)
SSIM_C1, SSIM_C2 = 0.01 ** 2, 0.03 ** 2


def premultiplied(rgba: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA [..., 4] -> premultiplied RGBA [..., 4] (colour times alpha)."""
    rgba = np.asarray(rgba, np.float32)
    return np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], axis=-1)


def rgba_psnr(image: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of RGBA image [..., 4] against reference [..., 4] (both in [0, 1]), premultiplied."""
    mse = float(np.mean((premultiplied(image) - premultiplied(reference)) ** 2))
    return float(10.0 * np.log10(1.0 / max(mse, 1e-12)))


def rgba_ssim(image: np.ndarray, reference: np.ndarray) -> float:
    """Mean SSIM over the four premultiplied channels of [H, W, 4] images in [0, 1]."""
    a, b = premultiplied(image).astype(np.float64), premultiplied(reference).astype(np.float64)
    blur = lambda x: gaussian_filter(x, sigma=(SSIM_SIGMA, SSIM_SIGMA, 0))  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b, cov = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2, blur(a * b) - mu_a * mu_b
    score = ((2 * mu_a * mu_b + SSIM_C1) * (2 * cov + SSIM_C2)) / ((mu_a ** 2 + mu_b ** 2 + SSIM_C1) * (var_a + var_b + SSIM_C2))
    return float(score.mean())
