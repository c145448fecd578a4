"""Change points of long series: a step (two free lines) or a kink (a joined broken line).

Pure numpy (scipy is not a dependency), closed forms from cumulative sums. The Theil–Sen slope
and its interval are in `theilsen`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TwoSegments:
    """The best split into two least-squares lines: free (a step) or joined (a kink, step 0).

    `split` is the index of the first point of the second line (for a kink, the kink itself).
    """

    split: int
    sse_one: float  # residual sum of squares of one line through everything
    sse_two: float  # of the two lines
    slope_before: float
    slope_after: float
    step: float  # value of the line after minus the line before, at the split
    lag_one: float  # lag-1 autocorrelation of the residuals of the two lines

    def excess_f(self, points: int) -> float:
        """F statistic of the second line against one, discounted for autocorrelated residuals.

        Residuals that wander (a slow random walk) make every split look significant; the
        effective number of points n (1 - r) / (1 + r) keeps the test honest.
        """
        if self.sse_two <= 0:
            return math.inf
        r = min(max(self.lag_one, 0.0), 0.98)
        effective = points * (1 - r) / (1 + r)
        return (self.sse_one - self.sse_two) / 2 / (self.sse_two / max(effective - 4, 1.0))


def fit_two_segments(x: FloatArray, y: FloatArray, min_points: int) -> TwoSegments | None:
    """The split that minimises the squared residuals of two independent lines.

    Closed form from cumulative sums: every split is tried in linear time.
    """
    n = len(x)
    if n < 2 * min_points or n < 6:
        return None
    x0 = x - x[0]
    sums = _cumulative_moments(x0, y)
    splits = np.arange(min_points, n - min_points + 1)
    before = _line_sse(sums[:, splits - 1])
    after = _line_sse(sums[:, -1:] - sums[:, splits - 1])
    total = before[0] + after[0]
    best = int(np.argmin(total))
    split = int(splits[best])
    one = _line_sse(sums[:, -1:])
    line_before = before[1][best] + before[2][best] * x0
    line_after = after[1][best] + after[2][best] * x0
    step = line_after[split] - line_before[split]
    fitted = np.where(np.arange(n) < split, line_before, line_after)
    return TwoSegments(
        split=split,
        sse_one=float(one[0][0]),
        sse_two=float(total[best]),
        slope_before=float(before[2][best]),
        slope_after=float(after[2][best]),
        step=float(step),
        lag_one=_lag_one(y - fitted),
    )


def fit_hinge(x: FloatArray, y: FloatArray, min_points: int) -> TwoSegments | None:
    """The kink of a continuous broken line (growth that began, or stopped, at one point).

    y = a + b x + c max(x - x[k], 0) for every k, by least squares from suffix sums: a hinge
    is located far more precisely than by two free lines, which may jump at the split.
    """
    n = len(x)
    # A kink needs `min_points` on each side of it and a point of its own.
    if n <= 2 * min_points or n < 6:
        return None
    x0 = x - x.mean()
    sums = _cumulative_moments(x0, y)
    total = sums[:, -1]
    kinks = np.arange(min_points, n - min_points)
    suffix = total[:, None] - sums[:, kinks]  # over the points after each kink
    s0, s1, sy, s2, sxy = suffix[0], suffix[1], suffix[2], suffix[3], suffix[4]
    tau = x0[kinks]
    h1, hx, hh, hy = (
        s1 - tau * s0,
        s2 - tau * s1,
        s2 - 2 * tau * s1 + tau * tau * s0,
        sxy - tau * sy,
    )
    gram = np.empty((len(kinks), 3, 3))
    gram[:, 0, 0], gram[:, 0, 1], gram[:, 1, 1] = total[0], total[1], total[3]
    gram[:, 1, 0], gram[:, 0, 2], gram[:, 2, 0] = total[1], h1, h1
    gram[:, 1, 2], gram[:, 2, 1], gram[:, 2, 2] = hx, hx, hh
    rhs = np.stack([np.full(len(kinks), total[2]), np.full(len(kinks), total[4]), hy], axis=1)
    try:
        beta = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        return None
    sse = np.maximum(total[5] - np.sum(beta * rhs, axis=1), 0.0)
    best = int(np.argmin(sse))
    a, b, c = beta[best]
    fitted = a + b * x0 + c * np.maximum(x0 - tau[best], 0.0)
    return TwoSegments(
        split=int(kinks[best]),
        sse_one=float(_line_sse(sums[:, -1:])[0][0]),
        sse_two=float(sse[best]),
        slope_before=float(b),
        slope_after=float(b + c),
        step=0.0,
        lag_one=_lag_one(y - fitted),
    )


def _lag_one(residuals: FloatArray) -> float:
    centred = residuals - residuals.mean()
    denominator = float(np.dot(centred, centred))
    return float(np.dot(centred[:-1], centred[1:])) / denominator if denominator > 0 else 0.0


def _cumulative_moments(x: FloatArray, y: FloatArray) -> FloatArray:
    ones = np.ones_like(x)
    return np.cumsum(np.vstack([ones, x, y, x * x, x * y, y * y]), axis=1)


def _line_sse(m: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Residual sum of squares, intercept and slope of least squares from summed moments."""
    n, sx, sy, sxx, sxy, syy = m
    sxx_c = sxx - sx * sx / n
    sxy_c = sxy - sx * sy / n
    syy_c = syy - sy * sy / n
    safe = np.where(sxx_c > 1e-12, sxx_c, 1.0)
    slope = np.where(sxx_c > 1e-12, sxy_c / safe, 0.0)
    intercept = (sy - slope * sx) / n
    sse = np.maximum(syy_c - slope * sxy_c, 0.0)
    return sse, intercept, slope
