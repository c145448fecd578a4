"""One Theil–Sen for the memory trends and the fleet review, on series known by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from analysis_support import fit_theil_sen

from collector.analysis.theilsen import (
    FLEET,
    INCIDENT,
    fit_slope_interval,
    median,
    theil_sen_interval,
)

SLOPE = 0.5


def symmetric_series(n: int) -> tuple[np.ndarray, np.ndarray]:
    """y = 3 + x/2 + noise, the noise mirror-symmetric (n odd): so are the slopes about 1/2.

    The noise alternates in sign: the residuals' lag-1 autocorrelation is negative, no correction.
    """
    x = np.arange(n, dtype=np.float64)
    size = np.abs(np.random.default_rng(7).normal(size=n // 2 + 1))
    noise = (-1.0) ** np.arange(n) * np.concatenate([size, size[-2::-1]])
    return x, 3.0 + SLOPE * x + noise


def sorted_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    n = len(x)
    return np.sort([(y[j] - y[i]) / (x[j] - x[i]) for i in range(n) for j in range(i + 1, n)])


def test_both_callers_recover_an_exact_line() -> None:
    x = np.linspace(0.0, 10.0, 40)
    y = 7.0 - 0.25 * x
    assert fit_theil_sen(x, y) == pytest.approx((-0.25, 7.0))
    assert theil_sen_interval(x, y) == pytest.approx((-0.25, -0.25))
    fleet = fit_slope_interval(x, y)
    assert fleet is not None
    assert (fleet.slope, fleet.low, fleet.high) == pytest.approx((-0.25, -0.25, -0.25))


def test_both_callers_take_sens_slope_and_ranks_over_the_same_pairs() -> None:
    x, y = symmetric_series(31)
    slopes = sorted_slopes(x, y)
    count = len(slopes)  # 465 pairs: all of them for both callers
    spread = math.sqrt(31 * 30 * 67 / 18)  # √Var S of Kendall's S for 31 points
    incident = fit_theil_sen(x, y)
    fleet = fit_slope_interval(x, y)
    assert incident is not None and fleet is not None
    assert incident[0] == fleet.slope == pytest.approx(SLOPE)
    assert fleet.effective_points == 31  # no autocorrelation to correct
    # The incident's trend: Hollander & Wolfe's ranks (N - C)/2 and (N + C)/2 + 1, from 1.
    c = INCIDENT.z * spread
    expected = (slopes[round((count - c) / 2) - 1], slopes[round((count + c) / 2)])
    assert theil_sen_interval(x, y) == expected
    # The fleet: the same ranks as shares of the slopes, rounded outward (sampling-proof).
    c = FLEET.z * spread
    assert (fleet.low, fleet.high) == (
        slopes[math.floor((count - c) / 2)],
        slopes[math.ceil((count + c) / 2)],
    )
    assert fleet.low < SLOPE < fleet.high


def test_thinning_and_sampling_agree_on_a_long_series() -> None:
    # 5,001 points: the incident thins them to 600, the fleet samples 20,000 of 12.5 M pairs.
    x, y = symmetric_series(5001)
    incident = fit_theil_sen(x, y)
    interval = theil_sen_interval(x, y)
    fleet = fit_slope_interval(x, y)
    assert incident is not None and interval is not None and fleet is not None
    assert incident[0] == pytest.approx(SLOPE, abs=1e-3)
    assert fleet.slope == pytest.approx(SLOPE, abs=1e-3)
    assert interval[0] <= SLOPE <= interval[1]
    assert fleet.low <= SLOPE <= fleet.high


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 10, 601])
def test_the_median_is_numpys_to_the_bit(count: int) -> None:
    rng = np.random.default_rng(count)
    for values in (rng.normal(40.0, 3.0, count), rng.integers(0, 5, count).astype(float)):
        assert median(values) == np.median(values)
        assert median(values[::-1].copy()) == np.median(values)
    assert math.isnan(median(np.array([])))
