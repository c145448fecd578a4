"""The 28 days before an incident, per host: a long leak, or a sudden spike? Facts only.

Reads the snapshot's optional `prometheus.memory_context` records (memory and swap queries in
percent, hourly) and reviews each series with the fleet review's `review_host`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from collector.analysis.fleet import HostReview, review_host
from collector.analysis.memory import IDLE_PERCENT
from collector.snapshot.samples import sample_columns
from collector.timeutil import parse_time

FloatArray = npt.NDArray[np.float64]

# The least history before the incident that a long-trend verdict (leak, growth, steady) needs:
# the review fits hourly bins net of a daily cycle, and over less than a few days the cycle,
# or the incident's own climb, is all there is to fit ("+72 %/day" from 7 hours).
MIN_LONG_TREND_SPAN = timedelta(days=3)


@dataclass(frozen=True)
class HostContext:
    """One host's memory (or swap) series over the context window, and its review."""

    query: str
    review: HostReview
    times: FloatArray  # Unix seconds
    values: FloatArray  # percent used
    span: tuple[datetime, datetime]  # the window fetched
    history: timedelta  # from the first sample to the incident's start (or the window's end)

    @property
    def judged(self) -> bool:
        """Whether the history is long enough for a long-trend verdict (MIN_LONG_TREND_SPAN)."""
        return self.history >= MIN_LONG_TREND_SPAN

    @property
    def idle(self) -> bool:
        """Never above IDLE_PERCENT: swap configured and never used, no spike and no trend."""
        peak = self.review.peak_percent
        return peak is not None and peak < IDLE_PERCENT

    @property
    def shown_span(self) -> timedelta:
        """From the first sample to the window's end: what the chart shows."""
        first = self.review.first_seen
        return self.span[1] - first if first is not None else timedelta(0)


def review_context(
    records: Sequence[Mapping[str, Any]],
    instances: Collection[str] | None = None,
    incident_start: datetime | None = None,
) -> list[HostContext]:
    """Every series with a finite sample (of `instances` only, when given), reviewed up to its
    record's end; memory first. A big incident fetches the context of every host it touches
    but charts a few: reviewing only those saves a fit per host. Each history is counted up
    to `incident_start` (else the record's end)."""
    contexts = [
        _review_series(record, series, incident_start)
        for record in records
        if not record.get("error") and record.get("start") and record.get("end")
        for series in record.get("result") or ()
        if instances is None or _instance(record, series) in instances
    ]
    kept = [c for c in contexts if c.review.current_percent is not None]
    return sorted(kept, key=lambda c: (c.review.instance, c.review.kind != "memory"))


def _review_series(
    record: Mapping[str, Any], series: Mapping[str, Any], incident_start: datetime | None
) -> HostContext:
    instance = _instance(record, series)
    times, values = sample_columns(series.get("values") or [])
    span = (parse_time(record["start"]), parse_time(record["end"]))
    kind = str(record.get("kind", "memory"))
    review = review_host(times, values, instance=instance, kind=kind, until=span[1])
    first = review.first_seen
    before = incident_start or span[1]
    history = max(before - first, timedelta(0)) if first is not None else timedelta(0)
    return HostContext(str(record["name"]), review, times, values, span, history)


def _instance(record: Mapping[str, Any], series: Mapping[str, Any]) -> str:
    metric = series.get("metric") or {}
    return str(metric.get("instance") or record["name"])
