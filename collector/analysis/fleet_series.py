"""The fleet review from a snapshot's grids: which series to fetch in detail, each one's review,
and the heatmap of daily averages. Pure: grids in (see `collector.fleet_source`), facts out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd

from collector.analysis.fleet import HostReview, Verdict, rank_reviews, review_host
from collector.config import FleetSettings
from collector.fleet_source import FloatArray, read_grid
from collector.prometheus import label_text
from collector.timeutil import from_unix

QUIET = (Verdict.STEADY, Verdict.CYCLIC)
NEAR_HIGH = 5.0  # percentage points under the high level that still earn a detailed look
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class ReviewedSeries:
    """One series' review with the points it was made from (for the charts)."""

    query: str
    labels: Mapping[str, str]
    review: HostReview
    times: FloatArray  # unix seconds
    values: FloatArray  # percent
    detailed: bool  # True: full resolution; False: the hourly range


def instance_of(labels: Mapping[str, str]) -> str:
    """The series' instance label, or its whole label text when it has none."""
    return labels.get("instance") or label_text(dict(labels))


def review_grid(
    query: str,
    kind: str,
    grid: Mapping[str, Any],
    settings: FleetSettings,
    until: datetime,
    *,
    detailed: bool = False,
    peaks: Mapping[str, float] | None = None,
) -> list[ReviewedSeries]:
    """Review every series of a grid; a server-side peak (all samples) replaces a sampled one."""
    reviewed = []
    for labels, times, values in read_grid(dict(grid)):
        if times.size == 0:
            continue
        review = review_host(
            times,
            values,
            instance=instance_of(labels),
            kind=kind,
            until=until,
            horizon=settings.horizon,
            high_level=settings.high_level,
            min_growth_per_day=settings.min_growth,
        )
        peak = (peaks or {}).get(label_text(labels))
        if peak is not None and peak > (review.peak_percent or 0.0):
            review = replace(review, peak_percent=round(peak, 2))
        reviewed.append(ReviewedSeries(query, labels, review, times, values, detailed))
    return reviewed


def choose_detail_hosts(
    coarse: Sequence[ReviewedSeries],
    screen: Mapping[str, Any],
    settings: FleetSettings,
) -> list[str]:
    """Instances worth fetching at full resolution, most urgent first, at most max_detail_hosts.

    The top_n (they are drawn) and every series whose screen or hourly review is not quiet: a
    verdict other than steady or cyclic, a peak near the high level, or a significant slope.
    """
    by_review = {id(s.review): s for s in coarse}
    ranked = [by_review[id(r)] for r in rank_reviews([s.review for s in coarse])]
    chosen: list[str] = []
    for position, series in enumerate(ranked):
        if "instance" not in series.labels:
            continue
        key = label_text(dict(series.labels))
        slope = screen.get("slope_week", {}).get(key, 0.0)
        loud = (
            position < settings.top_n
            or series.review.verdict not in QUIET
            or screen.get("peak", {}).get(key, 0.0) >= settings.high_level - NEAR_HIGH
            or slope * SECONDS_PER_DAY >= settings.min_growth
        )
        if loud and series.labels["instance"] not in chosen:
            chosen.append(series.labels["instance"])
    return chosen[: settings.max_detail_hosts]


def merge_detail(
    coarse: Sequence[ReviewedSeries], detail: Sequence[ReviewedSeries]
) -> list[ReviewedSeries]:
    """Each series once: its detailed review where there is one, else the hourly one."""
    detailed = {label_text(dict(s.labels)): s for s in detail}
    merged = [detailed.pop(label_text(dict(s.labels)), s) for s in coarse]
    return merged + list(detailed.values())


def daily_matrix(grid: Mapping[str, Any], order: Sequence[str]) -> pd.DataFrame:
    """Daily average % per series: one row per instance (in `order`), one column per day.

    A value at time t averages the day before t, so its column is the date of t - 1 day.
    """
    rows: dict[str, pd.Series] = {}
    for labels, times, values in read_grid(dict(grid)):
        days = [from_unix(t - SECONDS_PER_DAY).date() for t in times]
        rows[instance_of(labels)] = pd.Series(values, index=days, dtype=float)
    frame = pd.DataFrame(rows).T
    if frame.empty:
        return frame
    frame = frame.reindex(sorted(frame.columns), axis=1)
    known = [name for name in order if name in frame.index]
    return frame.reindex(known + sorted(set(frame.index) - set(known)))
