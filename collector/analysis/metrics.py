"""Metric analysis on the tidy series frame: threshold crossings and per-query summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from collector.analysis.facts import Note, note
from collector.series import find_breaks, split_series
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
    kind: str
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
    crossings: list[Crossing] = []
    data = frame[frame["query"] == query]
    for series, group in data.groupby("series", sort=True):
        times = group["time"]  # read at the (few) crossings only: a Timestamp each costs
        values = group["value"].to_numpy(dtype=float)
        for threshold in thresholds:
            # Vectorised search; only the (few) crossings are handled one by one.
            hits = np.nonzero((values[:-1] < threshold) & (values[1:] >= threshold))[0] + 1
            for i in hits:
                before, after = float(values[i - 1]), float(values[i])
                at = _interpolate(times.iloc[i - 1], times.iloc[i], before, after, threshold)
                crossings.append(Crossing(query, str(series), threshold, at))
    return sorted(crossings, key=lambda c: (c.time, c.threshold))


def _interpolate(t0: datetime, t1: datetime, v0: float, v1: float, target: float) -> datetime:
    # Samples are seconds apart; a straight line between them places the crossing to the second.
    fraction = (target - v0) / (v1 - v0)
    moment = pd.Timestamp(t0) + (pd.Timestamp(t1) - pd.Timestamp(t0)) * fraction
    return moment.round("s").to_pydatetime()


def summarize_queries(results: Sequence[QueryResult], max_shown: int = 6) -> list[QuerySummary]:
    """One summary per query of the pack, stating errors, empty results and gaps."""
    summaries = []
    for result in results:
        name, data = result.name, result.samples
        problem = None
        if result.error:
            problem = note("query_failed", query=name, error=str(result.error))
        elif result.kind != "alerts" and data.empty:
            problem = note("no_series", query=name)
        # NaN is 0/0 (swap on a host without swap): never a peak, a low, or a number shown.
        finite = data[np.isfinite(data["value"].to_numpy(dtype=float))]
        ordered = finite.sort_values("value", kind="stable")
        peak = ordered.iloc[-1] if not finite.empty else None
        low = ordered.iloc[0] if not finite.empty else None
        summaries.append(
            QuerySummary(
                name=name,
                title=result.title,
                unit=result.unit,
                kind=result.kind,
                query=result.query,
                series_count=int(data["series"].nunique()),
                peak=float(peak["value"]) if peak is not None else None,
                peak_time=peak["time"].to_pydatetime() if peak is not None else None,
                peak_series=str(peak["series"]) if peak is not None else None,
                low=float(low["value"]) if low is not None else None,
                low_time=low["time"].to_pydatetime() if low is not None else None,
                problem=problem,
                gaps=find_gaps(data, result.step),
                shown=min(int(data["series"].nunique()), max_shown),
            )
        )
    return summaries


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
    total = int(data["series"].nunique())
    counts = (data["value"] >= up_at).groupby(data["time"]).sum().reset_index(name="value")
    counts["value"] = counts["value"].astype(float)
    counts["query"] = query
    counts["series"] = f'{{count="up (of {total})"}}'
    return counts[["query", "series", "time", "value"]]
