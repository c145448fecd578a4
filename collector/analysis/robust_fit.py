"""Line fits for long series: Theil–Sen with its interval; a step or a kink as change point.

Pure numpy (scipy is not a dependency). Long series are handled by sampling pairs, so a fit
over thousands of points stays within a millisecond or so.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Z_95 = 1.959963984540054  # two-sided 95 % quantile of the standard normal
MAX_PAIRS = 20_000  # sampled pairwise slopes: the median moves by well under 1 % of the interval
MIN_POINTS = 4  # below this Sen's interval is undefined at 95 %
_SEED = 14  # a fixed seed: the same series always gives the same figures


@dataclass(frozen=True)
class SlopeFit:
    """A Theil–Sen slope with its Sen (Hollander–Wolfe) confidence interval."""

    slope: float
    low: float
    high: float
    points: int
    effective_points: float  # after the lag-1 autocorrelation correction


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


def fit_slope_interval(
    x: FloatArray,
    y: FloatArray,
    groups: IntArray | None = None,
    confidence_z: float = Z_95,
) -> SlopeFit | None:
    """Theil–Sen slope of y on x with its interval; pairs only within a group when given.

    With groups (cycles between resets), this is Sen's stratified estimator: every cycle
    contributes its own pairs, and a reset between cycles is never read as a slope. The
    interval widens with the residuals' lag-1 autocorrelation (fewer effective points).
    """
    if len(x) < MIN_POINTS:
        return None
    if groups is None:
        groups = np.zeros(len(x), dtype=np.int64)
    first, second, variance = _pairs(groups)
    if len(first) == 0:
        return None
    dx = x[second] - x[first]
    usable = dx != 0
    if not usable.any():
        return None
    slopes = (y[second] - y[first])[usable] / dx[usable]
    count = len(slopes)
    middle = [(count - 1) // 2, count // 2]
    ordered = np.partition(slopes, middle)
    slope = float(ordered[middle].mean())
    effective = _effective_points(x, y - slope * x, groups)
    # Sen's interval: the slopes ranked (N ∓ z √Var S) / 2, here as shares of the slopes so
    # that a sample of pairs gives the same ranks; Var S grows by n / n_effective.
    half = confidence_z * math.sqrt(variance * len(x) / effective) / (2 * _pair_count(groups))
    low_rank = max(math.floor((0.5 - half) * count), 0)
    high_rank = min(math.ceil((0.5 + half) * count), count - 1)
    ordered = np.partition(ordered, [low_rank, high_rank])
    return SlopeFit(slope, float(ordered[low_rank]), float(ordered[high_rank]), len(x), effective)


def _pairs(groups: IntArray) -> tuple[IntArray, IntArray, float]:
    """Index pairs i < j within the same group (all, or a sample), and Var(S) under H0."""
    starts, sizes = _runs(groups)
    variance = float(sum(n * (n - 1) * (2 * n + 5) for n in sizes) / 18)
    first, second = _pairs_of_runs(tuple(starts), tuple(sizes))
    return first, second, variance


@functools.lru_cache(maxsize=64)
def _pairs_of_runs(starts: tuple[int, ...], sizes: tuple[int, ...]) -> tuple[IntArray, IntArray]:
    """Pairs for these runs; cached, as a fleet's series mostly share one length."""
    total = sum(n * (n - 1) // 2 for n in sizes)
    firsts, seconds = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    uniform_a, uniform_b = _uniforms()
    used = 0
    for start, n in zip(starts, sizes, strict=True):
        if n < 2:
            continue
        if total <= MAX_PAIRS:
            a, b = np.triu_indices(n, k=1)
        else:
            # Pairs in proportion to each run's own count: the sample keeps the weights.
            wanted = min(round(MAX_PAIRS * (n * (n - 1) / 2) / total), MAX_PAIRS - used)
            a = (uniform_a[used : used + wanted] * n).astype(np.int64)
            b = (uniform_b[used : used + wanted] * (n - 1)).astype(np.int64)
            b = b + (b >= a)  # b != a, uniform over the others
            used += wanted
        firsts.append(np.minimum(a, b).astype(np.int64) + start)
        seconds.append(np.maximum(a, b).astype(np.int64) + start)
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    first.flags.writeable = False  # shared by every caller through the cache
    second.flags.writeable = False
    return first, second


@functools.lru_cache(maxsize=1)
def _uniforms() -> tuple[FloatArray, FloatArray]:
    """Two fixed uniform samples in [0, 1): scaled to any run length, they draw its pairs."""
    rng = np.random.default_rng(_SEED)
    return rng.random(MAX_PAIRS), rng.random(MAX_PAIRS)


def _runs(groups: IntArray) -> tuple[list[int], list[int]]:
    """Start and length of each run of equal group ids (groups are contiguous)."""
    if len(groups) == 0:
        return [], []
    edges = np.flatnonzero(np.diff(groups)) + 1
    starts = np.concatenate([[0], edges]).astype(int)
    ends = np.concatenate([edges, [len(groups)]]).astype(int)
    return starts.tolist(), (ends - starts).tolist()


def _pair_count(groups: IntArray) -> int:
    return sum(n * (n - 1) // 2 for n in _runs(groups)[1])


def _effective_points(x: FloatArray, residuals: FloatArray, groups: IntArray) -> float:
    """n (1 - r) / (1 + r) with r the lag-1 autocorrelation of the residuals (r ≥ 0 only)."""
    centred = residuals.copy()
    for start, n in zip(*_runs(groups), strict=True):
        # Each cycle about its own level: a reset between cycles is not autocorrelation.
        centred[start : start + n] -= np.median(residuals[start : start + n])
    same = groups[1:] == groups[:-1]
    a, b = centred[:-1][same], centred[1:][same]
    denominator = float(np.dot(centred, centred))
    if len(a) < 3 or denominator <= 0:
        return float(len(x))
    r = min(max(float(np.dot(a, b)) / denominator, 0.0), 0.98)
    return max(float(len(x)) * (1 - r) / (1 + r), float(MIN_POINTS))


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
    if n < 2 * min_points or n < 6:
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
