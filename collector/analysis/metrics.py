"""Metric analysis on the tidy series frame: threshold crossings and per-query summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd


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
    problem: str | None


def detect_threshold_crossings(
    frame: pd.DataFrame, query: str, thresholds: Sequence[float]
) -> list[Crossing]:
    """Upward crossings of each threshold, per series, interpolated between samples."""
    crossings: list[Crossing] = []
    data = frame[frame["query"] == query]
    for series, group in data.groupby("series", sort=True):
        times = group["time"].tolist()
        values = group["value"].tolist()
        for threshold in thresholds:
            for i in range(1, len(values)):
                before, after = values[i - 1], values[i]
                if before < threshold <= after:
                    at = _interpolate(times[i - 1], times[i], before, after, threshold)
                    crossings.append(Crossing(query, str(series), threshold, at))
    return sorted(crossings, key=lambda c: (c.time, c.threshold))


def _interpolate(t0: datetime, t1: datetime, v0: float, v1: float, target: float) -> datetime:
    # Samples are seconds apart; a straight line between them places the crossing to the second.
    fraction = (target - v0) / (v1 - v0)
    moment = pd.Timestamp(t0) + (pd.Timestamp(t1) - pd.Timestamp(t0)) * fraction
    return moment.round("s").to_pydatetime()


def summarize_queries(
    results: Sequence[dict[str, object]], frame: pd.DataFrame
) -> list[QuerySummary]:
    """One summary per query of the pack, stating errors and empty results."""
    summaries = []
    for record in results:
        name = str(record["name"])
        data = frame[frame["query"] == name]
        problem = None
        if record.get("error"):
            problem = f"query failed: {record['error']}"
        elif record.get("kind") != "alerts" and data.empty:
            problem = "no data: the query matched no series in this time range"
        ordered = data.sort_values("value", kind="stable")
        peak = ordered.iloc[-1] if not data.empty else None
        low = ordered.iloc[0] if not data.empty else None
        summaries.append(
            QuerySummary(
                name=name,
                title=str(record.get("title", name)),
                unit=str(record.get("unit", "")),
                kind=str(record.get("kind", "custom")),
                query=str(record.get("query", "")),
                series_count=int(data["series"].nunique()),
                peak=float(peak["value"]) if peak is not None else None,
                peak_time=peak["time"].to_pydatetime() if peak is not None else None,
                peak_series=str(peak["series"]) if peak is not None else None,
                low=float(low["value"]) if low is not None else None,
                low_time=low["time"].to_pydatetime() if low is not None else None,
                problem=problem,
            )
        )
    return summaries


def count_series_up(frame: pd.DataFrame, query: str, up_at: float = 0.5) -> pd.DataFrame:
    """For an availability query with many series: how many were up at each sample time.

    Returns a tidy frame with one series, labelled `{up="up, of N"}`, N the number of series.
    """
    data = frame[frame["query"] == query]
    total = int(data["series"].nunique())
    counts = (data["value"] >= up_at).groupby(data["time"]).sum().reset_index(name="value")
    counts["value"] = counts["value"].astype(float)
    counts["query"] = query
    counts["series"] = f'{{up="up, of {total}"}}'
    return counts[["query", "series", "time", "value"]]
