"""The fleet memory review: one host's memory (or swap) series over weeks, reduced to facts.

`review_host` reads one series in percent (0–100, NaN for a gap) and answers: is it leaking
(growth that resets and grows again), growing, shifted to a new level, cycling daily or weekly,
running hot, or steady; at what rate (with its 95 % interval); when 100 % is reached if the
growth is significant. Pure numpy: no I/O, no words.

Times may be a numpy ``datetime64`` array (naive values are UTC), a numpy array of Unix epoch
seconds (int or float), or a sequence of aware ``datetime`` (naive ones are taken as UTC).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import numpy as np
import numpy.typing as npt

from collector.analysis.cycles import Cycles, remove_cycles
from collector.analysis.long_series import Bins, Samples, bin_samples, clean_samples
from collector.analysis.resets import detect_resets
from collector.analysis.robust_fit import TwoSegments, fit_hinge, fit_two_segments
from collector.analysis.theilsen import SlopeFit, fit_slope_interval, median_intercept
from collector.series import typical_step
from collector.timeutil import from_unix

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAY = 86_400.0
FULL = 100.0
STALE_AFTER = timedelta(hours=6)  # no sample for this long before `until`: decommissioned
OWN_CYCLE_SPAN = DAY  # a last cycle shorter than this is measured with the earlier ones
CHANGE_EXPLAINED = 0.5  # a change point must halve the squared residuals of one line ...
LEVEL_SHIFT_MIN = 5.0  # a step of this many points at least is a level shift
MIN_DIVERGENCE = 3.0  # a kink's two slopes end this many points apart at least
CHANGE_MIN_F = 30.0  # ... or pass this F test (a searched split needs far more than 3)
STEP_BETTER = 0.8  # a step must leave this share of a kink's squared residuals at most
CHANGE_MIN_SPAN = 12 * 3600.0  # seconds on each side of a change point


class Verdict(str, Enum):
    """What one host's series does over the window (first that applies, in this order)."""

    LEAK = "leak"
    GROWING = "growing"
    LEVEL_SHIFT = "level shift"
    CYCLIC = "cyclic"
    HIGH = "high"
    STEADY = "steady"


@dataclass(frozen=True)
class HostReview:
    """The facts about one host's memory or swap series over the review window."""

    instance: str
    kind: str  # "memory" or "swap"
    current_percent: float | None  # the last finite sample
    peak_percent: float | None
    growth_percent_per_day: float | None  # percentage points per day, on the fitted segment
    growth_low: float | None  # 95 % interval of that rate
    growth_high: float | None
    exhaustion_at: datetime | None  # UTC; only for significant growth reaching 100 % in horizon
    beyond_horizon: bool  # significant growth, but 100 % is reached after the horizon
    restarts: int  # resets: sudden drops of RESET_MIN_DROP points or more that hold
    reset_times: tuple[datetime, ...]  # the first sample after each
    fit_start: datetime | None  # the segment fitted (after the last reset / change point)
    fit_end: datetime | None
    fit_intercept_percent: float | None  # the fitted line's value at fit_start
    change_point: datetime | None  # where growth began mid-window, or a level shift happened
    week_over_week_change: float | None  # mean of the last 7 days minus the 7 before, points
    first_seen: datetime | None
    last_seen: datetime | None
    verdict: Verdict


@dataclass(frozen=True)
class _Fit:
    """The rate retained for the host and the segment it describes."""

    slope: SlopeFit | None
    start_bin: int  # first bin of the drawn line
    intercept: float | None  # the line's value at the first sample of start_bin
    change_point: float | None  # epoch seconds
    step: float  # the level after the change point minus the level before (0 without one)
    cycles_grew: bool  # the cycles before the last reset grew significantly


def review_host(
    times: Sequence[datetime] | npt.NDArray[np.generic],
    values: npt.NDArray[np.floating] | Sequence[float],
    *,
    instance: str,
    kind: str,
    until: datetime,
    horizon: timedelta = timedelta(days=30),
    high_level: float = 90.0,
    min_growth_per_day: float = 0.5,
) -> HostReview:
    """Review one memory or swap series (percent) over a window ending at `until`.

    Samples after `until` and non-finite ones (gaps) are ignored. The rate is a Theil–Sen slope
    with Sen's 95 % interval, on hourly (at most) bins net of daily and weekly cycles: within
    the cycles when the series resets, else after a change point when there is one.
    Growth is significant when the interval excludes zero and the rate is at least
    `min_growth_per_day`; only then is 100 % projected, from the fitted line at the last
    sample: `exhaustion_at` when within `horizon` of `until`, else `beyond_horizon`. A series
    silent for `STALE_AFTER` before `until` (a decommissioned host) projects nothing.
    The verdict is the first that holds of: leak (significant growth, with resets, whose
    earlier cycles grew too), growing, level shift (a step of `LEVEL_SHIFT_MIN` points or
    more, then no growth), cyclic, high (the last day's median at or above `high_level`),
    steady. A drop large enough to be a reset counts as a restart, never as a level shift.
    """
    series = clean_samples(times, values, until.timestamp())
    if len(series.t) == 0:
        return _empty_review(instance, kind)
    resets = detect_resets(series.v)
    bins = bin_samples(series, resets)
    cycles = remove_cycles(bins.t, bins.v, bins.segment, bins.width)
    fit = _fit_growth(bins, cycles.adjusted, min_growth_per_day)
    significant = _significant(fit.slope, min_growth_per_day)
    start = float(bins.start[fit.start_bin])
    exhaustion, beyond = _exhaustion(series.t[-1], start, fit, significant, until, horizon)
    verdict = _verdict(series, fit, cycles, significant, high_level)
    slope = fit.slope
    return HostReview(
        instance=instance,
        kind=kind,
        current_percent=float(series.v[-1]),
        peak_percent=float(series.v.max()),
        growth_percent_per_day=slope.slope if slope else None,
        growth_low=slope.low if slope else None,
        growth_high=slope.high if slope else None,
        exhaustion_at=exhaustion,
        beyond_horizon=beyond,
        restarts=len(resets),
        reset_times=tuple(from_unix(series.t[i]) for i in resets),
        fit_start=from_unix(start) if slope else None,
        fit_end=from_unix(series.t[-1]) if slope else None,
        fit_intercept_percent=fit.intercept if slope else None,
        change_point=from_unix(fit.change_point) if fit.change_point is not None else None,
        week_over_week_change=_week_over_week(series, until.timestamp()),
        first_seen=from_unix(series.t[0]),
        last_seen=from_unix(series.t[-1]),
        verdict=verdict,
    )


def rank_reviews(reviews: Iterable[HostReview]) -> list[HostReview]:
    """Soonest exhaustion first, then leaking or growing hosts by rate, then the rest."""
    order = list(Verdict)

    def urgency(review: HostReview) -> tuple[int, float, int, float, str, str]:
        rate = review.growth_percent_per_day or 0.0
        if review.exhaustion_at is not None:
            return (0, review.exhaustion_at.timestamp(), 0, 0.0, review.instance, review.kind)
        if review.verdict in (Verdict.LEAK, Verdict.GROWING):
            return (1, -rate, 0, 0.0, review.instance, review.kind)
        current = review.current_percent if review.current_percent is not None else -1.0
        rank = order.index(review.verdict)
        return (2, 0.0, rank, -current, review.instance, review.kind)

    return sorted(reviews, key=urgency)


def _fit_growth(bins: Bins, adjusted: FloatArray, min_growth: float) -> _Fit:
    """The current rate: within cycles when the series resets, else after any change point."""
    if bins.segment[-1] > 0:
        return _fit_cycles(bins, adjusted, min_growth)
    two = _change_point(bins, adjusted)
    start = two.split if two is not None else 0
    x = (bins.t - bins.start[start]) / DAY
    slope = fit_slope_interval(x[start:], adjusted[start:])
    return _Fit(
        slope=slope,
        start_bin=start,
        intercept=_intercept(slope, x[start:], adjusted[start:]),
        change_point=bins.start[start] if two is not None else None,
        step=two.step if two is not None else 0.0,
        cycles_grew=False,
    )


def _fit_cycles(bins: Bins, adjusted: FloatArray, min_growth: float) -> _Fit:
    """Sen's slope pooled over the cycles between resets, unless the last cycle differs.

    A reset is never a slope: pairs are only taken within a cycle. The last cycle alone wins
    when it spans a day or more and its rate clearly differs (a fix stopped the growth, or
    growth began after a deploy's restart).
    """
    start = int(np.flatnonzero(bins.segment == bins.segment[-1])[0])
    x = (bins.t - bins.start[start]) / DAY
    slope = fit_slope_interval(x, adjusted, bins.segment)
    own = None
    if x[-1] >= OWN_CYCLE_SPAN / DAY:
        own = fit_slope_interval(x[start:], adjusted[start:])
    changed = own is not None and _differs(own, slope, min_growth)
    if changed:
        slope = own
    earlier = fit_slope_interval(x[:start], adjusted[:start], bins.segment[:start])
    grew = _significant(earlier, min_growth)
    return _Fit(
        slope=slope,
        start_bin=start,
        intercept=_intercept(slope, x[start:], adjusted[start:]),
        # The last reset is where the behaviour changed, unless it only began another cycle.
        change_point=bins.start[start] if changed or not grew else None,
        step=0.0,
        cycles_grew=grew,
    )


def _differs(own: SlopeFit, pooled: SlopeFit | None, min_growth: float) -> bool:
    """The intervals do not overlap and the rates differ by a quarter, or min_growth at least."""
    if pooled is None:
        return True
    apart = own.low > pooled.high or own.high < pooled.low
    material = max(min_growth, abs(pooled.slope) / 4)
    return apart and abs(own.slope - pooled.slope) >= material


def _change_point(bins: Bins, adjusted: FloatArray) -> TwoSegments | None:
    """A step (two free lines) or a kink (a broken line) that one line cannot explain.

    Either must be clear: halve the squared residuals of one line, or pass an F test that
    allows for autocorrelated residuals. The step is kept when it stands out of the noise and
    fits clearly better than the kink (a small step is no level shift, but the rate is still
    measured after it); the kink when its two slopes end far enough apart to matter.
    """
    count = len(bins.t)
    min_points = max(6, math.ceil(CHANGE_MIN_SPAN / bins.width), count // 20)
    x = (bins.t - bins.t[0]) / DAY
    step = fit_two_segments(x, adjusted, min_points)
    kink = fit_hinge(x, adjusted, min_points)
    if step is None or kink is None:
        return None
    noise = math.sqrt(step.sse_two / count)
    if (
        _clear(step, count)
        and step.sse_two <= STEP_BETTER * kink.sse_two
        and abs(step.step) >= 4 * noise
    ):
        return step
    divergence = abs(kink.slope_after - kink.slope_before) * (x[-1] - x[kink.split])
    return kink if _clear(kink, count) and divergence >= MIN_DIVERGENCE else None


def _clear(change: TwoSegments, count: int) -> bool:
    explained = change.sse_two <= CHANGE_EXPLAINED * change.sse_one
    return explained or change.excess_f(count) >= CHANGE_MIN_F


def _intercept(slope: SlopeFit | None, x: FloatArray, y: FloatArray) -> float | None:
    return median_intercept(slope.slope, x, y) if slope is not None and len(x) else None


def _significant(slope: SlopeFit | None, min_growth_per_day: float) -> bool:
    return slope is not None and slope.low > 0 and slope.slope >= min_growth_per_day


def _exhaustion(
    last: float,
    start: float,
    fit: _Fit,
    significant: bool,
    until: datetime,
    horizon: timedelta,
) -> tuple[datetime | None, bool]:
    """When the fitted line reaches 100 %, or beyond the horizon; nothing from stale data."""
    if not significant or fit.slope is None or fit.intercept is None:
        return None, False
    if until.timestamp() - last > STALE_AFTER.total_seconds():
        return None, False
    level = fit.intercept + fit.slope.slope * (last - start) / DAY
    days = max((FULL - level) / fit.slope.slope, 0.0)
    if days * DAY > (until + horizon).timestamp() - last:
        return None, True
    return from_unix(round(last + days * DAY)), False


def _verdict(
    series: Samples, fit: _Fit, cycles: Cycles, significant: bool, high_level: float
) -> Verdict:
    if significant:
        return Verdict.LEAK if fit.cycles_grew else Verdict.GROWING
    if fit.change_point is not None and abs(fit.step) >= LEVEL_SHIFT_MIN:
        return Verdict.LEVEL_SHIFT
    if cycles.cyclic:
        return Verdict.CYCLIC
    recent = series.v[series.t >= series.t[-1] - DAY]
    if float(np.median(recent)) >= high_level:
        return Verdict.HIGH
    return Verdict.STEADY


def _week_over_week(series: Samples, until: float) -> float | None:
    """Mean of the last 7 days minus the mean of the 7 before, each at least half covered."""
    week = 7 * DAY
    last = series.v[series.t > until - week]
    before = series.v[(series.t > until - 2 * week) & (series.t <= until - week)]
    step = typical_step(series.t)
    if step is None:
        return None
    expected = week / step
    if len(last) < expected / 2 or len(before) < expected / 2:
        return None
    return float(last.mean() - before.mean())


def _empty_review(instance: str, kind: str) -> HostReview:
    return HostReview(
        instance=instance,
        kind=kind,
        current_percent=None,
        peak_percent=None,
        growth_percent_per_day=None,
        growth_low=None,
        growth_high=None,
        exhaustion_at=None,
        beyond_horizon=False,
        restarts=0,
        reset_times=(),
        fit_start=None,
        fit_end=None,
        fit_intercept_percent=None,
        change_point=None,
        week_over_week_change=None,
        first_seen=None,
        last_seen=None,
        verdict=Verdict.STEADY,
    )
