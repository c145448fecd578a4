"""The fleet review from a snapshot's grids: which series to fetch in detail, each one's review,
and the heatmap of daily averages. Pure: grids in (see `collector.sources.fleet`), facts out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from collector.analysis.fleet import HostReview, review_host
from collector.analysis.resets import RESET_MIN_DROP
from collector.config import FleetSettings
from collector.snapshot.fleet import FloatArray, read_grid
from collector.snapshot.prometheus import label_text

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
    skip: Collection[str] = (),
) -> list[ReviewedSeries]:
    """Review every series of a grid, but those whose label text is in `skip`."""
    reviewed = []
    for labels, times, values in read_grid(dict(grid)):
        if times.size == 0 or label_text(labels) in skip:
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
        reviewed.append(ReviewedSeries(query, labels, review, times, values, detailed))
    return reviewed


def choose_detail_hosts(
    grid: Mapping[str, Any], screen: Mapping[str, Any], settings: FleetSettings
) -> list[str]:
    """Instances worth fetching at full resolution, most urgent first, at most max_detail_hosts.

    A cheap screen of the hourly range, no review (that runs once, on what is fetched): a peak
    near the high level, a significant slope over the last week, a drop as large as a restart,
    or a rise between the first and the last week. Most urgent: the highest projected level at
    the horizon. Series without an instance label cannot be narrowed to, and stay hourly.
    """
    horizon_days = settings.horizon.total_seconds() / SECONDS_PER_DAY
    scored: list[tuple[float, str]] = []
    for labels, _, values in read_grid(dict(grid)):
        if "instance" not in labels or values.size < 2:
            continue
        slope = screen.get("slope_week", {}).get(label_text(labels), 0.0) * SECONDS_PER_DAY
        week = min(values.size, 7 * 24)
        rise = float(np.mean(values[-week:]) - np.mean(values[:week]))
        loud = (
            float(values.max()) >= settings.high_level - NEAR_HIGH
            or slope >= settings.min_growth
            or float(np.min(np.diff(values))) <= -RESET_MIN_DROP
            or rise >= settings.min_growth * 7
        )
        if loud:
            scored.append((float(values[-1]) + max(slope, 0.0) * horizon_days, labels["instance"]))
    chosen = [name for _, name in sorted(scored, key=lambda item: (-item[0], item[1]))]
    return list(dict.fromkeys(chosen))[: settings.max_detail_hosts]


def daily_matrix(grid: Mapping[str, Any], order: Sequence[str], until: datetime) -> pd.DataFrame:
    """Daily average % per series: one row per instance (in `order`), one column per UTC day.

    Averages the grid's points in [start, until): the point at `until` would open a day alone.
    """
    rows: dict[str, pd.Series] = {}
    for labels, times, values in read_grid(dict(grid)):
        inside = times < until.timestamp()
        days = pd.to_datetime(times[inside], unit="s", utc=True).date
        daily = pd.Series(values[inside], dtype=float).groupby(days).mean()
        rows[instance_of(labels)] = daily
    frame = pd.DataFrame(rows).T
    if frame.empty:
        return frame
    frame = frame.reindex(sorted(frame.columns), axis=1)
    known = [name for name in order if name in frame.index]
    return frame.reindex(known + sorted(set(frame.index) - set(known)))
