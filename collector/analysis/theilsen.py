"""Theil–Sen: a slope robust to outliers and its confidence interval, the one implementation.

numpy only (scipy is not a dependency). The slope is the median of the pairwise slopes; its 95 %
interval takes the slopes of ranks (N ∓ C)/2 (Sen 1968, Hollander & Wolfe), C = z·√Var S with
Var S = n(n − 1)(2n + 5)/18 the spread of Kendall's S. Its callers differ only in how they draw
the pairs and round the ranks, as their `Pairing` says:

- `INCIDENT` (memory trends before a page): one window of a few hours, thinned evenly to 600
  points, all their pairs, errors taken as independent, ranks rounded to the nearest.
- `FLEET` (the fleet review): weeks of samples in cycles between restarts. Pairs only within a
  cycle (Sen's stratified estimator), a fixed sample of 20,000 when there are more; Var S grows
  with the residuals' lag-1 autocorrelation; ranks are shares of the slopes rounded outward,
  so that a sample of pairs gives the same ranks as all of them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_SEED = 14  # a fixed seed: the same series always gives the same figures


@dataclass(frozen=True)
class Pairing:
    """How a caller draws the pairs of points and ranks the interval's bounds."""

    z: float  # two-sided 95 % quantile of the standard normal, as each caller has used it
    min_points: int  # fewer points: no fit
    max_points: int | None  # thin evenly to this many points, then take all pairs
    max_pairs: int | None  # more pairs than this: a fixed sample of them
    autocorrelated: bool  # grow Var S by n / n_effective (lag-1 autocorrelation of residuals)
    outward_shares: bool  # bounds at shares of the slopes rounded outward, else nearest ranks


# All pairs of 600 points: 180k slopes, a few milliseconds.
INCIDENT = Pairing(1.959964, 2, 600, None, autocorrelated=False, outward_shares=False)
# Sampled pairs: the median moves by well under 1 % of the interval. Below 4 points Sen's
# interval is undefined at 95 %.
FLEET = Pairing(1.959963984540054, 4, None, 20_000, autocorrelated=True, outward_shares=True)


@dataclass(frozen=True)
class SlopeFit:
    """A Theil–Sen slope with its Sen (Hollander–Wolfe) confidence interval."""

    slope: float
    low: float
    high: float
    points: int
    effective_points: float  # after the lag-1 autocorrelation correction


def fit_slope_interval(
    x: FloatArray, y: FloatArray, groups: IntArray | None = None, pairing: Pairing = FLEET
) -> SlopeFit | None:
    """Theil–Sen slope of y on x with its interval; pairs only within a group when given.

    With groups (cycles between resets), this is Sen's stratified estimator: every cycle
    contributes its own pairs, and a reset between cycles is never read as a slope. None when
    there are too few points or x never changes within a group.
    """
    if len(x) < pairing.min_points:
        return None
    x, y, groups = _thin(x, y, groups, pairing.max_points)
    first, second, variance = _pairs(groups, pairing.max_pairs)
    slopes = _pairwise_slopes(x, y, first, second)
    count = len(slopes)
    if not count:
        return None
    middle = [(count - 1) // 2, count // 2]
    ordered = np.partition(slopes, middle)
    slope = float(ordered[middle].mean())
    effective = float(len(x))
    if pairing.autocorrelated:
        effective = _effective_points(x, y - slope * x, groups)
    low, high = _bound_ranks(count, variance, len(x), effective, _pair_count(groups), pairing)
    ordered = np.partition(ordered, [low, high])  # two order statistics, no full sort
    return SlopeFit(slope, float(ordered[low]), float(ordered[high]), len(x), effective)


def fit_incident_window(x: FloatArray, y: FloatArray) -> tuple[SlopeFit, float] | None:
    """An incident window's slope with its 95 % interval, and its intercept (median residual);
    None if x is constant. The interval assumes independent errors (`theil_sen_interval`)."""
    x, y, _ = _thin(x, y, None, INCIDENT.max_points)
    fit = fit_slope_interval(x, y, pairing=INCIDENT)
    if fit is None:
        return None
    return fit, median_intercept(fit.slope, x, y)


def median_intercept(slope: float, x: FloatArray, y: FloatArray) -> float:
    """The Theil–Sen line's intercept: the median of y − slope·x."""
    return median(y - slope * x)


def median(values: FloatArray) -> float:
    """The median of finite values, the same number as `np.median`'s, without the checks that
    cost most of its time on short arrays (called thousands of times per incident); NaN when
    there are none."""
    count = len(values)
    if not count:
        return math.nan
    half = count // 2
    if count % 2:
        return float(np.partition(values, half)[half])
    ordered = np.partition(values, (half - 1, half))
    return float((ordered[half - 1] + ordered[half]) / 2)


def theil_sen_interval(x: FloatArray, y: FloatArray) -> tuple[float, float] | None:
    """The 95 % confidence interval of an incident window's slope.

    It assumes independent errors: samples that drift together make it too narrow, hence also
    the floor of `memory.is_growing`.
    """
    fit = fit_slope_interval(x, y, pairing=INCIDENT)
    return None if fit is None else (fit.low, fit.high)


def _bound_ranks(
    count: int, variance: float, points: int, effective: float, pairs: int, pairing: Pairing
) -> tuple[int, int]:
    """Ranks (from 0) of the interval's bounds among `count` sorted slopes."""
    if pairing.outward_shares:
        # Shares of the slopes, so that a sample of pairs gives the same ranks as all of them;
        # Var S grows by n / n_effective.
        half = pairing.z * math.sqrt(variance * points / effective) / (2 * pairs)
        low = max(math.floor((0.5 - half) * count), 0)
        high = min(math.ceil((0.5 + half) * count), count - 1)
        return low, high
    # Ranks (N − C)/2 and (N + C)/2 + 1, counted from 1.
    spread = pairing.z * np.sqrt(variance)
    low = int(np.clip(np.round((count - spread) / 2) - 1, 0, count - 1))
    high = int(np.clip(np.round((count + spread) / 2), 0, count - 1))
    return low, high


def _thin(
    x: FloatArray, y: FloatArray, groups: IntArray | None, most: int | None
) -> tuple[FloatArray, FloatArray, IntArray]:
    if groups is None:
        groups = np.zeros(len(x), dtype=np.int64)
    if most is None or len(x) <= most:
        return x, y, groups
    # Evenly spaced thinning is deterministic and keeps the share of outliers unchanged.
    keep = np.unique(np.linspace(0, len(x) - 1, most).round().astype(int))
    return x[keep], y[keep], groups[keep]


def _pairwise_slopes(x: FloatArray, y: FloatArray, first: IntArray, second: IntArray) -> FloatArray:
    dx = x[second] - x[first]
    usable = dx != 0
    slopes: FloatArray = (y[second] - y[first])[usable] / dx[usable]
    return slopes


def _pairs(groups: IntArray, most: int | None) -> tuple[IntArray, IntArray, float]:
    """Index pairs i < j within the same group (all, or a sample), and Var(S) under H0."""
    starts, sizes = _runs(groups)
    variance = float(sum(n * (n - 1) * (2 * n + 5) for n in sizes) / 18)
    first, second = _pairs_of_runs(tuple(starts), tuple(sizes), most)
    return first, second, variance


@functools.lru_cache(maxsize=64)
def _pairs_of_runs(
    starts: tuple[int, ...], sizes: tuple[int, ...], most: int | None
) -> tuple[IntArray, IntArray]:
    """Pairs for these runs; cached, as a fleet's series mostly share one length."""
    total = sum(n * (n - 1) // 2 for n in sizes)
    firsts, seconds = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    used = 0
    for start, n in zip(starts, sizes, strict=True):
        if n < 2:
            continue
        if most is None or total <= most:
            a, b = np.triu_indices(n, k=1)
        else:
            # Pairs in proportion to each run's own count: the sample keeps the weights.
            wanted = min(round(most * (n * (n - 1) / 2) / total), most - used)
            uniform_a, uniform_b = _uniforms(most)
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
def _uniforms(size: int) -> tuple[FloatArray, FloatArray]:
    """Two fixed uniform samples in [0, 1): scaled to any run length, they draw its pairs."""
    rng = np.random.default_rng(_SEED)
    return rng.random(size), rng.random(size)


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
        centred[start : start + n] -= median(residuals[start : start + n])
    same = groups[1:] == groups[:-1]
    a, b = centred[:-1][same], centred[1:][same]
    denominator = float(np.dot(centred, centred))
    if len(a) < 3 or denominator <= 0:
        return float(len(x))
    r = min(max(float(np.dot(a, b)) / denominator, 0.0), 0.98)
    return max(float(len(x)) * (1 - r) / (1 + r), float(FLEET.min_points))
