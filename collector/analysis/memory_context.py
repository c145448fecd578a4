"""The 28 days before an incident, per host: a long leak, or a sudden spike? Facts only.

Reads the snapshot's optional `prometheus.memory_context` records (memory and swap queries in
percent, hourly) and reviews each series with the fleet review's `review_host`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from collector.analysis.fleet import HostReview, review_host
from collector.timeutil import parse_time

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class HostContext:
    """One host's memory (or swap) series over the context window, and its review."""

    query: str
    review: HostReview
    times: FloatArray  # Unix seconds
    values: FloatArray  # percent used
    span: tuple[datetime, datetime]  # the window fetched


def review_context(
    records: Sequence[dict[str, Any]], instances: Collection[str] | None = None
) -> list[HostContext]:
    """Every series with a finite sample (of `instances` only, when given), reviewed up to its
    record's end; memory first. A big incident fetches the context of every host it touches
    but charts a few: reviewing only those saves a fit per host."""
    contexts = [
        _review_series(record, series)
        for record in records
        if not record.get("error") and record.get("start") and record.get("end")
        for series in record.get("result") or ()
        if instances is None or _instance(record, series) in instances
    ]
    kept = [c for c in contexts if c.review.current_percent is not None]
    return sorted(kept, key=lambda c: (c.review.instance, c.review.kind != "memory"))


def _review_series(record: dict[str, Any], series: dict[str, Any]) -> HostContext:
    instance = _instance(record, series)
    samples = series.get("values") or []
    times = np.array([float(t) for t, _ in samples], dtype=np.float64)
    values = np.array([float(v) for _, v in samples], dtype=np.float64)
    span = (parse_time(record["start"]), parse_time(record["end"]))
    kind = str(record.get("kind", "memory"))
    review = review_host(times, values, instance=instance, kind=kind, until=span[1])
    return HostContext(str(record["name"]), review, times, values, span)


def _instance(record: dict[str, Any], series: dict[str, Any]) -> str:
    metric = series.get("metric") or {}
    return str(metric.get("instance") or record["name"])
