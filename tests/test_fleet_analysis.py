"""Fleet memory review: series built by construction, with the answer known in advance.

Every series is generated with numpy from a known shape (rate, period, reset times, change
point), so each assertion checks the analysis against the truth, not against its own output.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from collector.analysis.fleet import HostReview, Verdict, rank_reviews, review_host

UNTIL = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday, midnight UTC
END = UNTIL.timestamp()
DAY = 86_400.0
FIVE_MINUTES = timedelta(minutes=5)
HOUR = timedelta(hours=1)
FloatArray = npt.NDArray[np.float64]
Shape = Callable[[FloatArray], FloatArray]  # days before UNTIL (negative) → percent


def grid(days: float, step: timedelta = FIVE_MINUTES, end: float = END) -> FloatArray:
    """Epoch seconds of `days` of samples every `step`, the last one at `end`."""
    count = int(days * DAY / step.total_seconds()) + 1
    return end - step.total_seconds() * np.arange(count, dtype=np.float64)[::-1]


def series(
    days: float,
    shape: Shape,
    step: timedelta = FIVE_MINUTES,
    noise: float = 0.0,
    seed: int = 0,
    end: float = END,
) -> tuple[FloatArray, FloatArray]:
    """Times and values of `shape` (a function of days relative to UNTIL) plus white noise."""
    t = grid(days, step, end)
    values = shape((t - END) / DAY)
    return t, values + np.random.default_rng(seed).normal(0.0, noise, len(t))


def review(
    data: tuple[FloatArray, FloatArray], until: datetime = UNTIL, **options: float
) -> HostReview:
    t, values = data
    horizon = timedelta(days=options.pop("horizon_days", 30.0))
    return review_host(
        t, values, instance="host-1:9100", kind="memory", until=until, horizon=horizon, **options
    )


def at(days: float) -> datetime:
    """UNTIL shifted by `days` (negative: before)."""
    return UNTIL + timedelta(days=days)


def sawtooth(rate: float, period: float, floor: float, phase: float = 0.0) -> Shape:
    """Grows `rate` points a day from `floor`, back to `floor` every `period` days."""
    return lambda d: floor + rate * ((d + phase) % period)


def daily(amplitude: float, peak_hour: float = 0.0) -> Shape:
    """A daily sine peaking at `peak_hour` UTC (UNTIL is at midnight: 0 ends on a peak)."""
    return lambda d: amplitude * np.cos(2 * np.pi * (d - peak_hour / 24))


def assert_rate(result: HostReview, truth: float, tolerance: float) -> None:
    """The rate is near the truth, and its interval is not off target.

    A 95 % interval misses the truth one time in twenty by design (its coverage is tested on
    its own below), so here the interval, widened by half its width on each side (about
    4 standard errors), must hold the truth: a biased rate fails, an unlucky draw does not.
    """
    assert result.growth_percent_per_day == pytest.approx(truth, abs=tolerance)
    low, high = result.growth_low, result.growth_high
    assert low is not None and high is not None and low <= result.growth_percent_per_day <= high
    assert low - (high - low) / 2 <= truth <= high + (high - low) / 2


def assert_no_growth(result: HostReview) -> None:
    """Not growing, and the interval (widened as above) holds zero."""
    assert result.verdict not in (Verdict.GROWING, Verdict.LEAK)
    assert result.exhaustion_at is None and not result.beyond_horizon
    low, high = result.growth_low, result.growth_high
    assert low is not None and high is not None
    assert low - (high - low) / 2 <= 0 <= high + (high - low) / 2


# Sustained growth ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "step", "rate", "noise"),
    [(28, FIVE_MINUTES, 1.0, 1.0), (14, HOUR, 3.0, 2.0), (3, FIVE_MINUTES, 6.0, 0.5)],
)
def test_steady_growth_is_growing_at_its_rate(
    days: float, step: timedelta, rate: float, noise: float
) -> None:
    result = review(series(days, lambda d: 50 + rate * d, step, noise))
    assert result.verdict is Verdict.GROWING
    assert_rate(result, rate, 0.05 * rate)
    assert result.restarts == 0 and result.change_point is None


def test_exhaustion_is_where_the_line_reaches_100() -> None:
    # 60 % at UNTIL, 4 points a day: 100 % ten days later.
    result = review(series(14, lambda d: 60 + 4 * d, HOUR, noise=1.0))
    assert result.exhaustion_at is not None
    assert abs(result.exhaustion_at - at(10)) < timedelta(hours=6)
    assert not result.beyond_horizon
    assert result.fit_intercept_percent == pytest.approx(60 - 4 * 14, abs=1.0)
    assert result.fit_start == at(-14) and result.fit_end == UNTIL


def test_growth_reaching_100_after_the_horizon_is_beyond_it() -> None:
    # 40 % at UNTIL, 1 point a day: 60 days away, past a 30-day horizon but within 90 days.
    data = series(28, lambda d: 40 + d, FIVE_MINUTES, noise=0.5)
    far = review(data)
    assert far.verdict is Verdict.GROWING
    assert far.exhaustion_at is None and far.beyond_horizon
    near = review(data, horizon_days=90)
    assert near.exhaustion_at is not None and not near.beyond_horizon
    assert abs(near.exhaustion_at - at(60)) < timedelta(days=2)


def test_slow_growth_below_the_minimum_rate_is_not_growing() -> None:
    # 0.2 points a day is measurable (the interval excludes zero) but below 0.5/day.
    result = review(series(28, lambda d: 50 + 0.2 * d, HOUR, noise=0.3))
    assert result.growth_low is not None and result.growth_low > 0
    assert result.verdict is Verdict.STEADY
    assert result.exhaustion_at is None and not result.beyond_horizon
    faster = review(series(28, lambda d: 50 + 0.2 * d, HOUR, noise=0.3), min_growth_per_day=0.1)
    assert faster.verdict is Verdict.GROWING


def test_noise_alone_is_steady_with_an_interval_around_zero() -> None:
    result = review(series(21, lambda d: 35 + 0 * d, FIVE_MINUTES, noise=4.0, seed=3))
    assert result.verdict is Verdict.STEADY
    assert_no_growth(result)
    assert result.restarts == 0


def test_the_interval_covers_the_true_rate_for_most_noise_draws() -> None:
    # Sen's 95 % interval: over 40 independent draws it must hold the truth nearly always,
    # and it must not be so wide that it is useless.
    covered = 0
    widths = []
    for seed in range(40):
        result = review(series(7, lambda d: 30 + 2 * d, HOUR, noise=3.0, seed=seed))
        assert result.growth_low is not None and result.growth_high is not None
        covered += result.growth_low <= 2.0 <= result.growth_high
        widths.append(result.growth_high - result.growth_low)
    assert covered >= 34
    assert float(np.median(widths)) < 1.0


def test_autocorrelated_noise_widens_the_interval() -> None:
    # AR(1) noise wanders slowly: without the correction the interval would be overconfident.
    t = grid(7, HOUR)
    rng = np.random.default_rng(5)
    wander = np.zeros(len(t))
    for i in range(1, len(t)):
        # Innovations scaled so that the wandering noise has the white noise's variance.
        wander[i] = 0.95 * wander[i - 1] + rng.normal(0, np.sqrt(1 - 0.95**2))
    white = review((t, 30 + rng.normal(0, 1.0, len(t))))
    red = review((t, 30 + wander))
    assert white.growth_low is not None and white.growth_high is not None
    assert red.growth_low is not None and red.growth_high is not None
    assert red.growth_high - red.growth_low > 3 * (white.growth_high - white.growth_low)


# Sawtooth leaks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "step", "rate", "period", "noise"),
    [
        (21, HOUR, 4.0, 5.0, 1.0),
        (28, FIVE_MINUTES, 10.0, 2.0, 2.0),
        (7, FIVE_MINUTES, 30.0, 1.5, 0.5),
    ],
)
def test_sawtooth_is_a_leak_measured_within_cycles(
    days: float, step: timedelta, rate: float, period: float, noise: float
) -> None:
    result = review(series(days, sawtooth(rate, period, 25.0, phase=0.3 * period), step, noise))
    assert result.verdict is Verdict.LEAK
    assert_rate(result, rate, 0.05 * rate)
    # Resets at every multiple of the period: d + phase ≡ 0 (mod period).
    expected = [k * period - 0.3 * period for k in range(-int(days / period) - 1, 1)]
    expected = [d for d in expected if -days < d <= 0]
    assert result.restarts == len(expected)
    for found, truth in zip(result.reset_times, expected, strict=True):
        assert abs(found - at(truth)) <= step
    assert result.fit_start == result.reset_times[-1]
    assert result.fit_intercept_percent == pytest.approx(25.0, abs=2.0)
    assert result.change_point is None  # the last reset began one more cycle, nothing new


def test_a_leak_just_reset_keeps_the_rate_of_earlier_cycles() -> None:
    # The last reset was 2 hours ago: its own few points say little; earlier cycles say 6/day.
    result = review(series(20, sawtooth(6.0, 4.0, 30.0, phase=2 / 24), HOUR, noise=1.0))
    assert result.verdict is Verdict.LEAK
    assert_rate(result, 6.0, 0.4)
    assert result.fit_start is not None and UNTIL - result.fit_start <= timedelta(hours=3)
    # From about 30 % at 6 points a day: 100 % in about 11.7 days.
    assert result.exhaustion_at is not None
    assert abs(result.exhaustion_at - at(70 / 6)) < timedelta(days=1)


def test_a_reset_is_not_negative_growth() -> None:
    # Flat at 70, a restart down to 30, flat again: one restart, no growth either way.
    result = review(series(14, lambda d: np.where(d < -6, 70.0, 30.0), FIVE_MINUTES, noise=1.0))
    assert result.restarts == 1
    assert abs(result.reset_times[0] - at(-6)) <= FIVE_MINUTES
    assert result.verdict is Verdict.STEADY
    assert_no_growth(result)


def test_a_counter_like_reset_to_zero_then_growth_is_a_leak() -> None:
    # A container's working set restarts from zero each time it is recreated.
    result = review(series(10, sawtooth(12.0, 3.0, 0.0, phase=1.0), HOUR, noise=0.2))
    assert result.verdict is Verdict.LEAK
    assert result.restarts == 3
    assert_rate(result, 12.0, 0.5)


def test_a_one_sample_scrape_dip_is_not_a_restart() -> None:
    t, values = series(7, lambda d: 50 + 2 * d, FIVE_MINUTES, noise=0.5)
    values[1000] = 0.0
    result = review((t, values))
    assert result.restarts == 0
    assert result.verdict is Verdict.GROWING


def test_a_fix_that_stops_the_leak_is_not_a_leak_any_more() -> None:
    # Leaking 5/day with restarts every 3 days, then a fix deployed 6 days ago: flat since.
    leak = sawtooth(5.0, 3.0, 30.0)
    result = review(series(24, lambda d: np.where(d < -6, leak(d), 30.0), HOUR, noise=0.5))
    assert result.restarts >= 5
    assert result.verdict is not Verdict.LEAK
    assert result.growth_percent_per_day == pytest.approx(0.0, abs=0.3)
    assert result.exhaustion_at is None
    assert result.change_point is not None and abs(result.change_point - at(-6)) <= HOUR


def test_growth_after_a_deploy_restart_is_growing_from_the_restart() -> None:
    # Flat at 50 for 16 days, a deploy restarts it at 20 %, then it grows 3 points a day.
    def shape(d: FloatArray) -> FloatArray:
        return np.where(d < -5, 50.0, 20.0 + 3 * (d + 5))

    result = review(series(21, shape, FIVE_MINUTES, noise=1.0))
    assert result.verdict is Verdict.GROWING
    assert result.restarts == 1
    assert result.change_point is not None and abs(result.change_point - at(-5)) <= HOUR
    assert_rate(result, 3.0, 0.2)


# Change points ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "step", "start", "rate", "noise"),
    [(28, HOUR, -8.0, 2.0, 1.0), (28, FIVE_MINUTES, -3.0, 5.0, 2.0), (10, HOUR, -6.0, 1.5, 0.3)],
)
def test_growth_that_began_mid_window_is_fitted_after_its_start(
    days: float, step: timedelta, start: float, rate: float, noise: float
) -> None:
    def shape(d: FloatArray) -> FloatArray:
        return 40 + rate * np.maximum(d - start, 0.0)

    result = review(series(days, shape, step, noise))
    assert result.verdict is Verdict.GROWING
    assert result.change_point is not None
    assert abs(result.change_point - at(start)) < timedelta(hours=12)
    assert result.fit_start == result.change_point
    assert_rate(result, rate, 0.1 * rate)


def test_growth_that_stopped_is_not_growing() -> None:
    # Grew 3 points a day for two weeks, flat for the last two.
    def shape(d: FloatArray) -> FloatArray:
        return 30 + 3 * np.minimum(d + 28, 14.0)

    result = review(series(28, shape, HOUR, noise=0.5))
    assert result.verdict is Verdict.STEADY
    assert result.change_point is not None
    assert abs(result.change_point - at(-14)) < timedelta(hours=12)
    assert result.growth_percent_per_day == pytest.approx(0.0, abs=0.2)
    assert result.exhaustion_at is None


@pytest.mark.parametrize(
    ("days", "step", "when", "jump"), [(28, FIVE_MINUTES, -12.0, 20.0), (5, HOUR, -2.0, 8.0)]
)
def test_a_step_then_flat_is_a_level_shift(
    days: float, step: timedelta, when: float, jump: float
) -> None:
    result = review(series(days, lambda d: 45 + jump * (d >= when), step, noise=1.0))
    assert result.verdict is Verdict.LEVEL_SHIFT
    assert result.change_point is not None
    assert abs(result.change_point - at(when)) <= 2 * step
    assert result.exhaustion_at is None and result.restarts == 0


def test_a_straight_line_has_no_change_point() -> None:
    for seed in range(5):
        result = review(series(28, lambda d: 62 + 1.5 * d, HOUR, noise=2.0, seed=seed))
        assert result.change_point is None


# Cycles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "step", "amplitude", "peak_hour"),
    [(10, FIVE_MINUTES, 15.0, 0.0), (4, HOUR, 8.0, 23.0), (28, FIVE_MINUTES, 25.0, 20.0)],
)
def test_a_daily_cycle_ending_on_a_peak_is_cyclic_not_growing(
    days: float, step: timedelta, amplitude: float, peak_hour: float
) -> None:
    result = review(series(days, lambda d: 50 + daily(amplitude, peak_hour)(d), step, noise=1.0))
    assert result.verdict is Verdict.CYCLIC
    assert_no_growth(result)
    assert result.restarts == 0


def test_growth_under_a_daily_cycle_is_measured_without_the_cycle() -> None:
    def shape(d: FloatArray) -> FloatArray:
        return 50 + 1.5 * d + daily(12.0, 0.0)(d)

    result = review(series(14, shape, FIVE_MINUTES, noise=1.0))
    assert result.verdict is Verdict.GROWING
    assert_rate(result, 1.5, 0.15)
    assert result.fit_intercept_percent == pytest.approx(50 - 1.5 * 14, abs=1.0)


@pytest.mark.parametrize(("days", "step"), [(28, HOUR), (21, FIVE_MINUTES)])
def test_a_weekly_cycle_ending_on_its_peak_is_cyclic(days: float, step: timedelta) -> None:
    # Busy weekdays, quiet weekends (12 points lower, over a few hours), a daily cycle on top;
    # the window ends on Friday evening, the weekly peak.
    friday = END - 2 * DAY - 6 * 3600
    t, values = series(days, lambda d: 55 + daily(5.0, 14.0)(d), step, noise=1.0, end=friday)
    weekday = (np.floor(t / DAY) + 3) % 7  # 0 is Monday: the epoch began on a Thursday
    weekend = np.convolve((weekday >= 5).astype(float), np.ones(6) / 6, mode="same")
    result = review((t, values - 12 * weekend), until=datetime.fromtimestamp(friday, timezone.utc))
    assert result.verdict is Verdict.CYCLIC
    assert_no_growth(result)
    assert result.restarts == 0


# Gaps, new and decommissioned hosts --------------------------------------------------------


def test_gaps_are_tolerated() -> None:
    t, values = series(21, lambda d: 82 + 2 * d, FIVE_MINUTES, noise=1.0)
    values[1000:1600] = np.nan  # two days without data
    values[4000:4300] = np.nan
    result = review((t, values))
    assert result.verdict is Verdict.GROWING
    assert_rate(result, 2.0, 0.1)
    assert result.restarts == 0


def test_gaps_in_a_daily_cycle_do_not_make_growth() -> None:
    t, values = series(14, lambda d: 50 + daily(10.0)(d), FIVE_MINUTES, noise=1.0)
    values[500:900] = np.nan
    values[-60:] = np.nan  # the last five hours missing, ending before the peak
    result = review((t, values))
    assert result.verdict is Verdict.CYCLIC


def test_a_new_host_is_reviewed_from_its_first_sample() -> None:
    # The window is 28 days; the host appeared 4 days ago and grows 5 points a day.
    result = review(series(4, lambda d: 30 + 5 * (d + 4), FIVE_MINUTES, noise=0.5))
    assert result.first_seen == at(-4)
    assert result.verdict is Verdict.GROWING
    assert result.week_over_week_change is None
    assert_rate(result, 5.0, 0.3)


def test_a_decommissioned_host_forecasts_nothing_from_stale_data() -> None:
    # Grew fast, then its series stopped 5 days before the end of the window.
    t, values = series(20, lambda d: 75 + 2.5 * d, HOUR, noise=0.5, end=END - 5 * DAY)
    result = review((t, values))
    assert result.last_seen == at(-5)
    assert result.verdict is Verdict.GROWING
    assert result.exhaustion_at is None and not result.beyond_horizon


def test_no_finite_sample_gives_an_empty_review() -> None:
    t = grid(7)
    result = review((t, np.full(len(t), np.nan)))
    assert result.verdict is Verdict.STEADY
    assert result.current_percent is None and result.first_seen is None
    assert result.growth_percent_per_day is None and result.exhaustion_at is None


def test_a_short_series_has_no_rate() -> None:
    result = review(series(2 / 24, lambda d: 50 + d, HOUR))
    assert result.current_percent == pytest.approx(50.0)
    assert result.growth_percent_per_day is None and result.verdict is Verdict.STEADY


# High, levels, week over week --------------------------------------------------------------


def test_flat_above_the_high_level_is_high() -> None:
    data = series(14, lambda d: 93 + 0 * d, FIVE_MINUTES, noise=0.5)
    assert review(data).verdict is Verdict.HIGH
    assert review(data, high_level=95.0).verdict is Verdict.STEADY


def test_current_peak_and_week_over_week() -> None:
    # 30 % for a week, then 36 %: week over week +6; the peak is a single spike.
    t, values = series(14, lambda d: np.where(d < -7, 30.0, 36.0), HOUR)
    values[50] = 80.0
    result = review((t, values))
    assert result.current_percent == pytest.approx(36.0)
    assert result.peak_percent == pytest.approx(80.0)
    assert result.week_over_week_change == pytest.approx(6.0 - 50 / 168, abs=0.1)


# Inputs and ranking ------------------------------------------------------------------------


def test_times_may_be_epoch_seconds_datetime64_or_datetimes() -> None:
    t, values = series(7, lambda d: 40 + 3 * d, HOUR, noise=1.0)
    as_numpy = t.astype("datetime64[s]")
    as_datetimes = [datetime.fromtimestamp(s, tz=timezone.utc) for s in t]
    as_pandas = pd.to_datetime(t, unit="s", utc=True).to_numpy(dtype=object)  # Timestamps
    results = [
        review((times, values))  # type: ignore[arg-type]
        for times in (t, as_numpy, as_datetimes, as_pandas)
    ]
    assert results[0] == results[1] == results[2] == results[3]


def test_unsorted_samples_and_samples_after_until_are_handled() -> None:
    t, values = series(7, lambda d: 40 + 3 * d, HOUR, noise=1.0)
    order = np.random.default_rng(2).permutation(len(t))
    shuffled = review((t[order], values[order]))
    assert shuffled == review((t, values))
    later = review((np.append(t, END + 3600), np.append(values, 5.0)))
    assert later.current_percent == pytest.approx(values[-1])


def test_rank_puts_the_soonest_exhaustion_first_then_growth_then_the_rest() -> None:
    def host(name: str, shape: Shape) -> HostReview:
        t, values = series(14, shape, HOUR, noise=0.5, seed=len(name))
        return review_host(t, values, instance=name, kind="memory", until=UNTIL)

    fast = host("fast", lambda d: 80 + 5 * d)  # 100 % in 4 days
    soon = host("soon", lambda d: 70 + 2 * d)  # in 15 days
    slow = host("slow", lambda d: 20 + 1 * d)  # in 80 days: beyond the horizon
    faster_far = host("faster-far", lambda d: 30 + 1.5 * d)  # in 47 days
    hot = host("hot", lambda d: 95 + 0 * d)
    calm = host("calm", lambda d: 20 + 0 * d)
    ranked = rank_reviews([calm, hot, slow, faster_far, soon, fast])
    assert [r.instance for r in ranked] == ["fast", "soon", "faster-far", "slow", "hot", "calm"]
    assert ranked[0].exhaustion_at is not None and ranked[1].exhaustion_at is not None
    assert ranked[0].exhaustion_at < ranked[1].exhaustion_at


# More shapes -----------------------------------------------------------------------------


def test_a_leak_under_a_daily_cycle_is_still_a_leak() -> None:
    def shape(d: FloatArray) -> FloatArray:
        return sawtooth(5.0, 4.0, 30.0, phase=1.0)(d) + daily(4.0, 15.0)(d)

    result = review(series(20, shape, FIVE_MINUTES, noise=1.0))
    assert result.verdict is Verdict.LEAK
    assert result.restarts == 5
    assert_rate(result, 5.0, 0.4)


def test_a_level_shift_under_a_daily_cycle_is_a_level_shift() -> None:
    def shape(d: FloatArray) -> FloatArray:
        return 40 + 12.0 * (d >= -9) + daily(6.0, 10.0)(d)

    result = review(series(21, shape, FIVE_MINUTES, noise=1.5))
    assert result.verdict is Verdict.LEVEL_SHIFT
    assert result.change_point is not None
    assert abs(result.change_point - at(-9)) <= HOUR
    assert_no_growth(result)


def test_a_reset_smoothed_over_two_hourly_averages_counts_once() -> None:
    # A server-side hourly average spreads a restart over two points: still one restart.
    t, values = series(12, sawtooth(4.0, 5.0, 30.0, phase=2.5), HOUR, noise=0.3)
    reset = int(np.argmax(np.diff(values) < -10)) + 1
    values[reset] = (values[reset - 1] + values[reset + 1]) / 2
    result = review((t, values))
    assert result.restarts == 2
    assert result.verdict is Verdict.LEAK
    assert_rate(result, 4.0, 0.3)


def test_duplicate_timestamps_are_tolerated() -> None:
    t, values = series(7, lambda d: 40 + 3 * d, HOUR, noise=0.5)
    result = review((np.repeat(t, 3), np.repeat(values, 3)))
    assert result.verdict is Verdict.GROWING
    assert_rate(result, 3.0, 0.2)


def test_unused_swap_at_zero_is_steady() -> None:
    t = grid(28)
    result = review_host(t, np.zeros(len(t)), instance="h", kind="swap", until=UNTIL)
    assert result.kind == "swap"
    assert result.verdict is Verdict.STEADY
    assert result.growth_percent_per_day == 0.0 and result.restarts == 0
    assert result.week_over_week_change == 0.0


def test_a_small_step_is_neither_growth_nor_a_level_shift() -> None:
    # 3 points up halfway through a 3-day window: a line through it would climb 2 points a day.
    result = review(series(3, lambda d: 40 + 3.0 * (d >= -1.5), FIVE_MINUTES, noise=0.3))
    assert result.verdict is Verdict.STEADY
    assert result.change_point is not None
    assert abs(result.change_point - at(-1.5)) <= HOUR
    assert_no_growth(result)


@pytest.mark.parametrize(("step", "noise"), [(FIVE_MINUTES, 1.0), (HOUR, 2.0)])
def test_growth_that_began_mid_window_under_a_daily_cycle(step: timedelta, noise: float) -> None:
    def shape(d: FloatArray) -> FloatArray:
        return 45 + 1.5 * np.maximum(d + 10, 0.0) + daily(10.0, 18.0)(d)

    result = review(series(28, shape, step, noise))
    assert result.verdict is Verdict.GROWING
    assert result.change_point is not None
    assert abs(result.change_point - at(-10)) < timedelta(hours=18)
    assert_rate(result, 1.5, 0.15)


def test_the_steep_side_of_a_noisy_daily_cycle_sampled_hourly_is_no_restart() -> None:
    # The fleet screen reads hourly points: a 20-point daily swing with noise drops 10 points
    # over two hours now and then. Each draw below made a false restart before the local
    # descent was taken into account.
    for seed in (1, 2, 3, 11):
        result = review(series(28, lambda d: 50 + daily(10.0, 18.0)(d), HOUR, 2.0, seed=seed))
        assert result.restarts == 0
        assert result.verdict is Verdict.CYCLIC


def test_late_growth_in_noisy_hourly_points_is_found() -> None:
    # 1.5 points a day for the last 8 days, under noise of 2.75 points per hourly sample: the
    # change explains less than half of one line's squared residuals, yet it is clear.
    def shape(d: FloatArray) -> FloatArray:
        return 45 + 1.5 * np.maximum(d + 8, 0.0)

    result = review(series(28, shape, HOUR, noise=2.75, seed=4))
    assert result.verdict is Verdict.GROWING
    assert result.change_point is not None
    assert abs(result.change_point - at(-8)) < timedelta(days=1.5)
    assert_rate(result, 1.5, 0.4)


def test_the_change_point_fits_take_every_short_series_without_failing() -> None:
    # A host with exactly twice the minimum of points (a short history beside the incident)
    # left no kink to try: argmin of nothing failed the whole draft in a batch.
    from collector.analysis.robust_fit import fit_hinge, fit_two_segments

    for min_points in (1, 3, 6):
        for n in range(3 * min_points + 2):
            x = np.arange(n, dtype=np.float64)
            y = np.where(x < n / 2, 1.0, 1.0 + (x - n / 2))
            for fit in (fit_hinge, fit_two_segments):
                found = fit(x, y, min_points)
                assert found is None or min_points <= found.split <= n - min_points, (n, fit)
