"""Theil–Sen: a slope robust to outliers, and its confidence interval, with numpy only.

scipy is not a dependency: the slope is the median of pairwise slopes, and its interval takes
the ranks of Sen (1968) / Hollander & Wolfe over the same sorted slopes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
MAX_FIT_POINTS = 600  # all pairs of 600 points: 180k slopes, a few milliseconds
CONFIDENCE_Z = 1.959964  # two-sided 95 % interval of the Theil–Sen slope


def fit_theil_sen(x: FloatArray, y: FloatArray) -> tuple[float, float] | None:
    """Slope (median of pairwise slopes) and intercept (median residual); None if x is constant."""
    x, y = _thin(x, y)
    slopes = _pairwise_slopes(x, y)
    if not slopes.size:
        return None
    slope = float(np.median(slopes))
    return slope, float(np.median(y - slope * x))


def theil_sen_interval(x: FloatArray, y: FloatArray) -> tuple[float, float] | None:
    """The 95 % confidence interval of the Theil–Sen slope (Sen 1968, Hollander & Wolfe).

    Of the N sorted pairwise slopes, the bounds are those of rank (N − C)/2 and (N + C)/2 + 1,
    with C = z·sqrt(n(n − 1)(2n + 5)/18), the spread of Kendall's S for n points. It assumes
    independent errors: samples that drift together make it too narrow, hence also the floor
    of `is_growing`.
    """
    x, y = _thin(x, y)
    slopes = _pairwise_slopes(x, y)
    count, n = slopes.size, len(x)
    if not count:
        return None
    spread = CONFIDENCE_Z * np.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    low = int(np.clip(np.round((count - spread) / 2) - 1, 0, count - 1))
    high = int(np.clip(np.round((count + spread) / 2), 0, count - 1))
    ranked = np.partition(slopes, [low, high])  # two order statistics, no full sort
    return float(ranked[low]), float(ranked[high])


def _thin(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    if len(x) <= MAX_FIT_POINTS:
        return x, y
    # Evenly spaced thinning is deterministic and keeps the share of outliers unchanged.
    keep = np.unique(np.linspace(0, len(x) - 1, MAX_FIT_POINTS).round().astype(int))
    return x[keep], y[keep]


def _pairwise_slopes(x: FloatArray, y: FloatArray) -> FloatArray:
    first, second = np.triu_indices(len(x), k=1)
    dx = x[second] - x[first]
    usable = dx != 0
    slopes: FloatArray = (y[second] - y[first])[usable] / dx[usable]
    return slopes
