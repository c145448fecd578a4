"""Memory and swap trends: growth rate, threshold crossings, time to exhaustion.

Works on the tidy series frame of `collector.snapshot.prometheus` for queries of kind `memory`
or `swap` measured in percent. Times are aware UTC datetimes. Nothing here reads files or the
network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import numpy as np
import numpy.typing as npt
import pandas as pd

from collector.analysis.metrics import Crossing, threshold_crossings, threshold_levels
from collector.analysis.resets import detect_resets
from collector.analysis.theilsen import SlopeFit, fit_incident_window
from collector.records import QueryKind
from collector.series import (
    NANOS_PER_SECOND,
    NO_SAMPLES,
    SeriesSamples,
    series_names,
    split_series,
)
from collector.snapshot.prometheus import QueryResult, series_label_value

TREND_KINDS = (QueryKind.MEMORY, QueryKind.SWAP)
FULL_PERCENT = 100.0
MIN_FIT_POINTS = 5  # below this a median of slopes is no more robust than a ruler
MIN_FIT_WINDOW = timedelta(minutes=10)
# %/hour: how far the last quarter's growth may differ before the fit window is shortened.
GROWTH_TOLERANCE = 5.0
# A straight line projected further than two days says nothing worth a clock time: "not within".
EXHAUSTION_HORIZON = timedelta(days=2)
# %/hour: below this, a statistically clear slope is still not "growing" (noise, cache warm-up).
MIN_GROWTH_PER_HOUR = 1.0
IDLE_PERCENT = 0.05  # a series never above this is "at 0 %" (swap configured, never used)
# A reset from this high ran out (an OOM kill, a crash); from lower, it may be a planned restart.
RAN_OUT_PERCENT = 90.0


class TrendLevel(Enum):
    """Whether a series says anything about growth."""

    MEASURED = "measured"
    ABSENT = "absent"  # no usable sample: no swap on the host (0/0), or no series there
    ZERO = "zero"  # every sample at 0 %: swap configured and never used


@dataclass(frozen=True)
class Restart:
    """The series fell as a restart does (`detect_resets`) once its fitted climb had begun."""

    at: datetime  # the last sample before the fall
    before: float  # percent, at `at`
    after: float  # percent, the first sample after
    ran_out: bool  # `before` was at RAN_OUT_PERCENT or more: the host ran out, no planned restart


@dataclass(frozen=True)
class MemoryTrend:
    """One memory or swap series: its crossings, fitted growth and projected exhaustion."""

    query: str
    series: str
    instance: str  # the `instance` label when present, else the series text
    kind: str  # "memory" | "swap"
    thresholds: tuple[float, ...]  # ascending
    crossings: tuple[Crossing, ...]  # every upward crossing in the data
    data_start: datetime | None  # first and last usable sample
    data_end: datetime | None
    fit_start: datetime  # the window the growth rate was fitted on
    fit_end: datetime
    fit_points: int
    growth_per_hour: float | None  # Theil–Sen slope in % per hour; None with too few points
    warning_rate: float  # the configured growth warning, % per hour
    growth_warning: bool  # growing and growth_per_hour > warning_rate
    level_at_fit_end: float | None  # the fitted line's value at fit_end
    exhaustion_at: datetime | None  # the fitted line reaches 100 %; None if not growing
    peak: float | None
    peak_time: datetime | None
    # 95 % interval of the slope (Sen 1968; Hollander & Wolfe), % per hour.
    growth_interval: tuple[float, float] | None = None
    # The interval excludes zero and the rate passes MIN_GROWTH_PER_HOUR.
    growing: bool = False
    # Growing, but the line reaches 100 % later than EXHAUSTION_HORIZON after fit_end.
    exhaustion_beyond: bool = False
    level: TrendLevel = TrendLevel.MEASURED
    # The host restarted after the climb began: no saturation is forecast for it.
    restart: Restart | None = None
    # The crossing of its lowest threshold that began the excursion the page came in
    # (`episode_start`); None: no such crossing before the page.
    episode: Crossing | None = None


@dataclass(frozen=True)
class IdleGroup:
    """Series of one kind that say nothing about growth, summarised in one line."""

    kind: str  # "memory" | "swap"
    level: TrendLevel  # ABSENT or ZERO
    instances: tuple[str, ...]


def analyse_memory_trends(
    frame: pd.DataFrame,
    queries: Sequence[QueryResult],
    page_time: datetime,
    growth_warning: float,
    fit_window: timedelta = timedelta(hours=1),
    found: FoundCrossings | None = None,
) -> list[MemoryTrend]:
    """One trend per series of each memory or swap query in percent.

    `found`: each query's rows and the crossings already found in them
    (`analysis.incident.find_crossings`), so that neither is searched for again: a big
    query's rows are millions.
    """
    trends: list[MemoryTrend] = []
    for query in queries:
        kind = query.kind
        if kind not in TREND_KINDS or query.unit != "%":
            continue  # 100 % exhaustion only means something for a percentage
        name = query.name
        thresholds = threshold_levels(query.thresholds)
        known = found.rows.get(name) if found is not None else None
        rows = frame[frame["query"] == name] if known is None else known
        data = finite_samples(rows)
        crossings = found.crossings.get((name, thresholds)) if found is not None else None
        if crossings is None:
            crossings = threshold_crossings(data, name, thresholds)
        by_series: dict[str, list[Crossing]] = {}
        for crossing in crossings:
            by_series.setdefault(crossing.series, []).append(crossing)
        # One sort into arrays, no pandas per series: linear in the number of series. A
        # series with no finite value (swap on a host without swap) still gets its trend.
        groups = split_series(data)
        for series in series_names(rows):
            trends.append(
                _series_trend(
                    _TrendKey(name, str(series), kind, thresholds),
                    groups.get(str(series), NO_SAMPLES),
                    tuple(by_series.get(str(series), ())),
                    page_time,
                    growth_warning,
                    fit_window,
                )
            )
    return trends


@dataclass(frozen=True)
class FoundCrossings:
    """What was found once for a whole incident: each query's rows of the series frame, and
    each query's crossings of its thresholds (`threshold_levels`) in its finite rows."""

    rows: Mapping[str, pd.DataFrame]
    crossings: Mapping[tuple[str, tuple[float, ...]], list[Crossing]]


@dataclass(frozen=True)
class _TrendKey:
    """What names a trend before its samples are read."""

    query: str
    series: str
    kind: str
    thresholds: tuple[float, ...]


def _series_trend(
    key: _TrendKey,
    group: SeriesSamples,
    crossings: tuple[Crossing, ...],
    page_time: datetime,
    warning_rate: float,
    fit_window: timedelta,
) -> MemoryTrend:
    empty = not len(group.values)
    fit_end = _fit_end(crossings, key.thresholds, page_time)
    fit_start, window, fitted = _adaptive_fit(group, fit_end, fit_window)
    fit, intercept = fitted if fitted else (None, 0.0)
    slope = fit.slope if fit else None
    level = intercept + fit.slope * ((fit_end - fit_start) / timedelta(hours=1)) if fit else None
    # The last sample at the highest value, as a stable sort by value would give.
    peak = len(group.values) - 1 - int(np.argmax(group.values[::-1])) if not empty else None
    interval = (fit.low, fit.high) if fit else None  # the chosen window's own fit
    restart = find_restart(group, fit_start)
    # A host that already ran out (or restarted) is not heading anywhere: nothing to forecast.
    growing = is_growing(slope, interval)
    running = growing and restart is None
    exhaustion = project_exhaustion(fit_end, level, slope) if running else None
    return MemoryTrend(
        query=key.query,
        series=key.series,
        instance=instance_of(key.series),
        kind=key.kind,
        thresholds=key.thresholds,
        crossings=crossings,
        data_start=group.moment(0) if not empty else None,
        data_end=group.moment(-1) if not empty else None,
        fit_start=fit_start,
        fit_end=fit_end,
        fit_points=len(window.values),
        growth_per_hour=slope,
        warning_rate=warning_rate,
        growth_warning=growing and slope is not None and slope > warning_rate,
        level_at_fit_end=level,
        exhaustion_at=exhaustion,
        peak=float(group.values[peak]) if peak is not None else None,
        peak_time=group.moment(peak) if peak is not None else None,
        growth_interval=interval,
        growing=growing,
        exhaustion_beyond=running and exhaustion is None and level is not None and level < 100,
        level=_level(group),
        restart=restart,
        episode=episode_start(crossings, key.thresholds[0], page_time) if key.thresholds else None,
    )


def find_restart(group: SeriesSamples, since: datetime) -> Restart | None:
    """The first reset of the series after `since` (the fitted climb's start), if any."""
    first = int(np.searchsorted(group.nanos, _nanos(since), side="left"))
    later = [index for index in detect_resets(group.values) if index > first]
    if not later:
        return None
    before, after = float(group.values[later[0] - 1]), float(group.values[later[0]])
    return Restart(group.moment(later[0] - 1), before, after, before >= RAN_OUT_PERCENT)


def group_idle_trends(trends: Sequence[MemoryTrend]) -> list[IdleGroup]:
    """The absent and all-zero series, one group per kind and level ("no swap on a, b")."""
    groups: dict[tuple[str, TrendLevel], list[str]] = {}
    for trend in trends:
        if trend.level is not TrendLevel.MEASURED:
            groups.setdefault((trend.kind, trend.level), []).append(trend.instance)
    return [
        IdleGroup(kind, level, tuple(dict.fromkeys(sorted(names))))
        for (kind, level), names in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1].value))
    ]


def _level(group: SeriesSamples) -> TrendLevel:
    if not len(group.values):
        return TrendLevel.ABSENT
    if float(np.abs(group.values).max()) < IDLE_PERCENT:
        return TrendLevel.ZERO
    return TrendLevel.MEASURED


def is_growing(slope: float | None, interval: tuple[float, float] | None) -> bool:
    """Growing: the slope's interval lies above zero and the slope passes the floor."""
    if slope is None or interval is None:
        return False
    return interval[0] > 0 and slope >= MIN_GROWTH_PER_HOUR


def _adaptive_fit(
    group: SeriesSamples, fit_end: datetime, fit_window: timedelta
) -> tuple[datetime, SeriesSamples, tuple[SlopeFit, float] | None]:
    """Fit the window, halving it while its last quarter grows at a clearly different rate.

    A climb that started late in the window (swap flat for 40 minutes, then rising) leaves the
    median slope on the flat part; the shorter window describes the growth that led to the
    incident. A short surge at the very end does not move a median, so it does not shorten it.
    """
    span = fit_window
    while True:
        start = fit_end - span
        window = _between(group, start, fit_end)
        fit = _fit_window(window, start) if len(window.values) >= MIN_FIT_POINTS else None
        if fit is None or span / 2 < MIN_FIT_WINDOW:
            return start, window, fit
        recent_start = fit_end - span / 4
        recent = _between(window, recent_start, fit_end)
        enough = len(recent.values) >= MIN_FIT_POINTS
        recent_fit = _fit_window(recent, recent_start) if enough else None
        slope = fit[0].slope
        if recent_fit is None or abs(recent_fit[0].slope - slope) <= max(
            GROWTH_TOLERANCE, 0.5 * abs(slope)
        ):
            return start, window, fit
        span = span / 2


def _fit_window(window: SeriesSamples, origin: datetime) -> tuple[SlopeFit, float] | None:
    # Hours since the window's start keep the numbers small and the slope in % per hour.
    return fit_incident_window(_hours_since(window, origin), window.values)


def _between(samples: SeriesSamples, start: datetime, end: datetime) -> SeriesSamples:
    """The samples from `start` to `end`, both included (slices of the sorted arrays)."""
    first = int(np.searchsorted(samples.nanos, _nanos(start), side="left"))
    last = int(np.searchsorted(samples.nanos, _nanos(end), side="right"))
    return SeriesSamples(samples.nanos[first:last], samples.values[first:last])


def _hours_since(samples: SeriesSamples, origin: datetime) -> npt.NDArray[np.float64]:
    return (samples.nanos - _nanos(origin)) / NANOS_PER_SECOND / 3600


def _nanos(moment: datetime) -> int:
    return int(pd.Timestamp(moment).value)


def project_exhaustion(
    at: datetime, level: float | None, growth_per_hour: float | None
) -> datetime | None:
    """When a line at `level` % at `at`, growing as given, reaches 100 %; None if it never does."""
    if level is None or growth_per_hour is None or growth_per_hour <= 0:
        return None
    hours = (FULL_PERCENT - level) / growth_per_hour
    if abs(hours) > EXHAUSTION_HORIZON / timedelta(hours=1):
        return None
    # A projection is not more precise than a second; rounding hides float noise in the fit.
    return at + timedelta(seconds=round(hours * 3600))


def _fit_end(
    crossings: Sequence[Crossing], thresholds: Sequence[float], page: datetime
) -> datetime:
    # The growth rate must describe the climb, not the failure: stop at the page, or earlier at
    # the first crossing of the highest threshold during the excursion that led to the page.
    if not thresholds:
        return page
    start = episode_start(crossings, thresholds[0], page)
    failures = [
        c.time
        for c in crossings
        if c.threshold == thresholds[-1]
        and c.time <= page
        and (start is None or c.time >= start.time)
    ]
    return min(failures, default=page)


def episode_start(
    crossings: Sequence[Crossing], threshold: float, page: datetime
) -> Crossing | None:
    # The last upward crossing before the page starts the excursion that led to it; an earlier
    # excursion that came back down is another story, not a late detection.
    before = [c for c in crossings if c.threshold == threshold and c.time <= page]
    return max(before, key=lambda c: c.time, default=None)


def instance_of(series: str) -> str:
    """The `instance` label of a series' label text, or the text itself when it has none."""
    value = series_label_value(series, "instance")
    return series if value is None else value


def finite_samples(data: pd.DataFrame) -> pd.DataFrame:
    """The rows with a finite value: NaN is 0/0 (a host without swap), a gap, never a zero."""
    finite: pd.DataFrame = data[np.isfinite(data["value"].to_numpy(np.float64))]
    return finite


def to_datetime(value: object) -> datetime:
    """A frame's timestamp as an aware datetime."""
    moment: datetime = pd.Timestamp(str(value)).to_pydatetime()
    return moment
