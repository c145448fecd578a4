"""Metric analysis on the tidy series frame: threshold crossings and per-query summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt
import pandas as pd

from collector.analysis.facts import Note, note
from collector.records import QueryKind
from collector.series import NANOS_PER_SECOND, find_breaks, series_names, split_series
from collector.snapshot.prometheus import QueryResult


@dataclass(frozen=True)
class Crossing:
    """A series going from below a threshold to at or above it."""

    query: str
    series: str
    threshold: float
    time: datetime


@dataclass(frozen=True)
class QuerySummary:
    """What one query returned: how many series, its peak, or why there is nothing."""

    name: str
    title: str
    unit: str
    kind: QueryKind
    query: str
    series_count: int
    peak: float | None
    peak_time: datetime | None
    peak_series: str | None
    low: float | None
    low_time: datetime | None
    problem: Note | None  # why there is nothing to show: the query failed, or no series
    gaps: tuple[DataGap, ...] = ()
    shown: int = 0

    @property
    def counted(self) -> bool:
        """Availability over more series than are shown one by one: read as how many are up."""
        return self.kind is QueryKind.AVAILABILITY and self.series_count > self.shown


@dataclass(frozen=True)
class DataGap:
    """A stretch where a series has no samples (drawn as a break, never as zero)."""

    series: str
    start: datetime
    end: datetime


def detect_threshold_crossings(
    frame: pd.DataFrame, query: str, thresholds: Sequence[float]
) -> list[Crossing]:
    """Upward crossings of each threshold, per series, interpolated between samples."""
    return threshold_crossings(frame[frame["query"] == query], query, thresholds)


def threshold_levels(value: object) -> tuple[float, ...]:
    """A query's thresholds as crossings are looked for: its numbers, once each, ascending."""
    if not isinstance(value, list | tuple):
        return ()
    return tuple(sorted({float(t) for t in value if isinstance(t, int | float)}))


def threshold_crossings(
    data: pd.DataFrame, query: str, thresholds: Sequence[float]
) -> list[Crossing]:
    """`detect_threshold_crossings` in one query's own rows (`QueryResult.samples`): a big
    query's 1.4 M rows are not searched again for its name."""
    crossings: list[Crossing] = []
    per_second = _UNITS_PER_SECOND[data["time"].dt.unit if len(data) else "ns"]
    # One sort into arrays (`split_series`), not a pandas group per series: thousands of them.
    for series, samples in split_series(data).items():
        values = samples.values
        times = samples.nanos // (NANOS_PER_SECOND // per_second)  # in the frame's own unit
        for threshold in thresholds:
            hits = np.nonzero((values[:-1] < threshold) & (values[1:] >= threshold))[0] + 1
            seconds = _crossing_seconds(times, values, hits, threshold, per_second)
            crossings.extend(
                Crossing(query, series, threshold, datetime.fromtimestamp(at, timezone.utc))
                for at in seconds.tolist()
            )
    return sorted(crossings, key=lambda c: (c.time, c.threshold))


_UNITS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _crossing_seconds(
    times: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    hits: npt.NDArray[np.intp],
    target: float,
    per_second: int,
) -> npt.NDArray[np.int64]:
    """When the straight line between each hit and the sample before it reaches `target`, to
    the second (samples are seconds apart). Integer arithmetic in the frame's time unit, as
    pandas does it: the step is truncated, the second rounded half to even."""
    fraction = (target - values[hits - 1]) / (values[hits] - values[hits - 1])
    step = ((times[hits] - times[hits - 1]) * fraction).astype(np.int64)
    whole, rest = np.divmod(times[hits - 1] + step, per_second)
    up = (2 * rest > per_second) | ((2 * rest == per_second) & (whole % 2 == 1))
    return np.asarray(whole + up, dtype=np.int64)


def summarize_queries(results: Sequence[QueryResult], max_shown: int = 6) -> list[QuerySummary]:
    """One summary per query of the pack, stating errors, empty results and gaps."""
    summaries = []
    for result in results:
        name, data = result.name, result.samples
        problem = None
        if result.error:
            problem = note("query_failed", query=name, error=str(result.error))
        elif result.kind is not QueryKind.ALERTS and data.empty:
            problem = note("no_series", query=name)
        peak, low = _peak_and_low(data)
        series_count = len(series_names(data))
        if problem is None and not data.empty and peak is None:
            # Every sample NaN: swap on a host without swap is 0/0. Nothing to show, and said.
            problem = note("no_value", query=name)
        summaries.append(
            QuerySummary(
                name=name,
                title=result.title,
                unit=result.unit,
                kind=result.kind,
                query=result.query,
                series_count=series_count,
                peak=float(peak["value"]) if peak is not None else None,
                peak_time=peak["time"].to_pydatetime() if peak is not None else None,
                peak_series=str(peak["series"]) if peak is not None else None,
                low=float(low["value"]) if low is not None else None,
                low_time=low["time"].to_pydatetime() if low is not None else None,
                problem=problem,
                gaps=find_gaps(data, result.step),
                shown=min(series_count, max_shown),
            )
        )
    return summaries


def _peak_and_low(data: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """The sample with the highest value (the last of equals) and the lowest (the first).

    NaN is 0/0 (swap on a host without swap): never a peak, a low, or a number shown. Found
    in place: a sorted copy of a big query's samples would be as big as the samples.
    """
    values = data["value"].to_numpy(dtype=float)
    rows = np.flatnonzero(np.isfinite(values))
    if rows.size == 0:
        return None, None
    finite = values[rows]
    last_highest = rows[finite.size - 1 - int(np.argmax(finite[::-1]))]
    first_lowest = rows[int(np.argmin(finite))]
    return data.iloc[last_highest], data.iloc[first_lowest]


def find_gaps(data: pd.DataFrame, step: float, limit: int = 5) -> tuple[DataGap, ...]:
    """Stretches of three steps or more without a sample, inside each series' own span."""
    gaps: list[DataGap] = []
    for series, samples in split_series(data).items():
        for index in find_breaks(samples.seconds(), step, missing=3):
            start, end = samples.moment(index - 1), samples.moment(index)
            gaps.append(DataGap(series, start, end))
    return tuple(sorted(gaps, key=lambda g: g.start)[:limit])


def count_series_up(frame: pd.DataFrame, query: str, up_at: float = 0.5) -> pd.DataFrame:
    """For an availability query with many series: how many were up at each sample time.

    Returns a tidy frame with one series, labelled `{count="up (of N)"}`, N the number of series.
    """
    data = frame[frame["query"] == query]
    total = len(series_names(data))
    counts = (data["value"] >= up_at).groupby(data["time"]).sum().reset_index(name="value")
    counts["value"] = counts["value"].astype(float)
    counts["query"] = query
    counts["series"] = f'{{count="up (of {total})"}}'
    return counts[["query", "series", "time", "value"]]
