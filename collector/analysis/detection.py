"""Detection: how long a memory threshold had been crossed when PagerDuty paged, and when other
thresholds would have fired on the same data (alert backtests).

Works on the memory trends of `collector.analysis.memory` and the tidy series frame. Nothing
here reads files or the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from collector.analysis.memory import (
    MemoryTrend,
    episode_start,
    finite_samples,
    instance_of,
    to_datetime,
)
from collector.analysis.metrics import Crossing
from collector.series import find_breaks, typical_step


@dataclass(frozen=True)
class DetectionDelay:
    """How long a memory or swap threshold had been crossed when PagerDuty paged."""

    crossing: Crossing | None
    page_time: datetime
    delay: timedelta | None  # page_time - crossing.time


@dataclass(frozen=True)
class BacktestResult:
    """When an alert `value >= threshold for for_duration` would have fired on this data."""

    query: str
    series: str
    instance: str  # the series' `instance` label, or its label text without one
    threshold: float
    for_duration: timedelta
    fires_at: datetime | None
    lead: timedelta | None  # page_time - fires_at: positive means earlier than the page
    held_at_start: bool  # already true at the first sample: firing before the data begins
    data_start: datetime | None
    data_end: datetime | None


def compute_detection_delay(trends: Sequence[MemoryTrend], page_time: datetime) -> DetectionDelay:
    """The earliest start, among trends, of the excursion above their lowest threshold."""
    starts = [
        start
        for trend in trends
        if trend.thresholds
        and (start := episode_start(trend.crossings, trend.thresholds[0], page_time))
    ]
    if not starts:
        return DetectionDelay(None, page_time, None)
    first = min(starts, key=lambda c: (c.time, c.threshold))
    return DetectionDelay(first, page_time, page_time - first.time)


def backtest_thresholds(
    frame: pd.DataFrame,
    query: str,
    series: str,
    candidates: Sequence[float],
    page_time: datetime,
    for_duration: timedelta = timedelta(0),
    horizon_end: datetime | None = None,
) -> list[BacktestResult]:
    """For each candidate, when `value >= candidate for for_duration` would first have fired."""
    data = finite_samples(frame[(frame["query"] == query) & (frame["series"] == series)])
    if horizon_end is not None:
        data = data[data["time"] <= horizon_end]
    data = data.sort_values("time")
    times = [to_datetime(t) for t in data["time"]]
    values = [float(v) for v in data["value"]]
    # query_range already bridges gaps shorter than Prometheus's 5-minute look-back, so one
    # missing step means the series was really absent.
    seconds = [t.timestamp() for t in times]
    breaks = set(find_breaks(seconds, typical_step(seconds), missing=1))
    results = []
    for threshold in candidates:
        fires = _first_firing(times, values, float(threshold), for_duration, breaks)
        results.append(
            BacktestResult(
                query=query,
                series=series,
                instance=instance_of(series),
                threshold=float(threshold),
                for_duration=for_duration,
                fires_at=fires,
                lead=page_time - fires if fires else None,
                held_at_start=bool(values) and values[0] >= threshold,
                data_start=times[0] if times else None,
                data_end=times[-1] if times else None,
            )
        )
    return results


def _first_firing(
    times: Sequence[datetime],
    values: Sequence[float],
    threshold: float,
    hold: timedelta,
    breaks: set[int],
) -> datetime | None:
    # Prometheus's rule: pending from the first evaluation where the condition holds, firing at
    # the first evaluation at least `for` later; one evaluation without it resets the alert.
    active_since: datetime | None = None
    for index, (time, value) in enumerate(zip(times, values, strict=True)):
        if index in breaks:
            active_since = None  # the series was absent: an absent series resets the alert
        if value >= threshold:
            active_since = active_since or time
            if time - active_since >= hold:
                return time
        else:
            active_since = None
    return None
