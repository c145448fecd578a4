"""Prometheus reader: the raw query results kept in the snapshot, read into frames and records.

A query result (`RawResult`) is one record of the snapshot's `prometheus.results`, as
`collector.sources.prometheus.fetch_query_results` wrote it: name, title, query, kind, unit,
thresholds, user_facing, start, end, step, result, warnings, error (optionally
baseline_result, baseline_offset_s, dropped); `collector.snapshot.schema` checks it.

Tidy series frame columns: `query` (query name), `series` (label set, e.g. `{instance="db-01"}`),
`time` (datetime64[ns, UTC]), `value` (float). Pure: no network import.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from collector.records import AlertInterval, QueryKind
from collector.series import find_breaks, run_starts, split_runs, typical_step
from collector.snapshot.samples import sample_columns, sample_times
from collector.timeutil import from_unix, parse_time

RawResult: TypeAlias = Mapping[str, Any]
"""One query's record as the snapshot keeps it (see the module docstring)."""

SERIES_COLUMNS = ["query", "series", "time", "value"]
FloatArray: TypeAlias = npt.NDArray[np.float64]
# Rule evaluations are assumed at least this far apart when telling a lost one from an
# ended alert: below it, pauses up to 30 s (2.5 × 12 s) still continue the alert.
MIN_EVALUATION_STEP = 12.0
# When an alert series has a single sample, its evaluation interval is taken as this.
DEFAULT_EVALUATION_STEP = 15.0


def _no_samples() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in SERIES_COLUMNS})


@dataclass(frozen=True)
class QueryResult:
    """One query of the pack, typed: what was asked, over which range, and what came back.

    `samples` holds the query's rows of the tidy series frame (columns as in the module
    docstring); each `series` value is the label set of one series.
    """

    name: str
    title: str = ""
    query: str = ""
    kind: QueryKind = QueryKind.CUSTOM
    unit: str = ""
    thresholds: tuple[float, ...] = ()
    user_facing: bool = False
    start: datetime | None = None
    end: datetime | None = None
    step: float = 0.0
    error: str | None = None
    warnings: tuple[str, ...] = ()
    dropped: int = 0  # samples left out: not finite numbers
    has_baseline: bool = False  # the same query one offset earlier was fetched too
    baseline_offset_s: float | None = None  # how much earlier, in seconds (None: not recorded)
    samples: pd.DataFrame = field(default_factory=_no_samples, compare=False)

    def __post_init__(self) -> None:
        # Built from text too (tests, older callers): the kind is compared as a member.
        object.__setattr__(self, "kind", QueryKind(self.kind))


def read_query_results(
    results: Sequence[RawResult], frame: pd.DataFrame | None = None
) -> list[QueryResult]:
    """Each raw result as a `QueryResult` with its own samples.

    `frame` is `read_series(results)` when the caller has it already (it is read otherwise).
    """
    frame = read_series(results) if frame is None else frame
    return [
        _query_result(r, samples)
        for r, samples in zip(results, _by_query(frame, results), strict=True)
    ]


def _by_query(frame: pd.DataFrame, results: Sequence[RawResult]) -> list[pd.DataFrame]:
    """Each result's rows of the frame. The frame is sorted by query (`read_series`), so each
    query's rows are one run: a slice, not a copy (a big incident's frame is large)."""
    names = frame["query"].to_numpy()
    if not frame["query"].is_monotonic_increasing:
        groups = dict(tuple(frame.groupby("query", sort=False)))
        return [groups.get(str(r.get("name")), frame.iloc[0:0]) for r in results]
    runs: dict[str, pd.DataFrame] = {}
    bounds = [*run_starts(names), len(names)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        runs[str(names[start])] = frame.iloc[start:end]
    return [runs.get(str(r.get("name")), frame.iloc[0:0]) for r in results]


def _query_result(record: RawResult, samples: pd.DataFrame) -> QueryResult:
    name = str(record["name"])
    start, end = record.get("start"), record.get("end")
    return QueryResult(
        name=name,
        title=str(record.get("title", name)),
        query=str(record.get("query", "")),
        kind=record.get("kind", QueryKind.CUSTOM),
        unit=str(record.get("unit", "")),
        # Each once, in their order: a snapshot's repeated threshold is drawn and named once.
        thresholds=tuple(dict.fromkeys(float(t) for t in record.get("thresholds") or ())),
        user_facing=bool(record.get("user_facing", False)),
        start=parse_time(start) if isinstance(start, str) else None,
        end=parse_time(end) if isinstance(end, str) else None,
        step=float(record.get("step") or 0),
        error=str(record["error"]) if record.get("error") else None,
        warnings=tuple(str(w) for w in record.get("warnings") or ()),
        dropped=int(record.get("dropped") or 0),
        # A baseline is only one with its offset recorded: without it, nothing could line it
        # up with the incident or say how much earlier it was (`read_series` skips it too).
        has_baseline=bool(record.get("baseline_result")) and _baseline_offset(record) is not None,
        baseline_offset_s=_baseline_offset(record),
        samples=samples,
    )


def _baseline_offset(record: RawResult) -> float | None:
    """How much earlier the record's baseline was fetched, in seconds; None: not recorded."""
    value = record.get("baseline_offset_s")
    return float(value) if isinstance(value, int | float) and value > 0 else None


def label_text(metric: Mapping[str, str]) -> str:
    """A label set as one sorted text, without `__name__`: `{instance="db-01",job="node"}`."""
    labels = {k: v for k, v in metric.items() if k != "__name__"}
    return "{" + ",".join(f'{k}="{quote_label(v)}"' for k, v in sorted(labels.items())) + "}"


def quote_label(value: str) -> str:
    """A label value inside double quotes, escaped as PromQL writes it: a quote in an instance
    name must not end the value early (`series_label_value` reads it back)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_UNQUOTE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def series_label_value(series: str, name: str) -> str | None:
    """The value of label `name` in a series' label text (`label_text`), unescaped."""
    match = re.search(rf'[{{,]{re.escape(name)}="((?:[^"\\]|\\.)*)"', series)
    if match is None:
        return None
    return re.sub(r"\\.", lambda m: _UNQUOTE.get(m.group(0), m.group(0)[1:]), match.group(1))


def read_series(results: Sequence[RawResult], baseline: bool = False) -> pd.DataFrame:
    """Flatten raw query results into the tidy series frame (see module docstring): sorted by
    query, series and time, one row per (query, series, time), the first one read.

    With baseline=True, the baseline results (the same query one offset earlier) are read
    instead, their times moved forward by the offset so they line up with the incident.
    Each series is read as numpy columns at once and sorted on its own: a big incident has
    millions of samples, and a few thousand series.
    """
    chunks: dict[tuple[str, str], list[tuple[FloatArray, FloatArray]]] = {}
    key = "baseline_result" if baseline else "result"
    for record in results:
        if record.get("kind") == QueryKind.ALERTS:
            continue
        shift = _baseline_offset(record) if baseline else 0.0
        if shift is None:  # a baseline without its offset cannot be lined up: none
            continue
        for series in record.get(key) or ():
            t, v = sample_columns(series.get("values") or ())
            if not len(t):
                # A series with no usable sample (swap on a host without swap: 0/0) is still a
                # series: one NaN row keeps it known, so it reads as absent, never as missing.
                t, v = np.array([_start(record)]), np.array([math.nan])
            label = label_text(series.get("metric", {}))
            chunks.setdefault((str(record["name"]), label), []).append((t + shift, v))
    if not chunks:
        return pd.DataFrame([], columns=["query", "series", "time", "value"]).assign(
            time=lambda f: pd.to_datetime(f["time"], unit="s", utc=True)
        )
    keys = sorted(chunks)
    columns = [_one_series(chunks[k]) for k in keys]
    counts = [len(t) for t, _ in columns]
    frame = pd.DataFrame(
        {
            "query": np.repeat(np.array([k[0] for k in keys], dtype=object), counts),
            "series": np.repeat(np.array([k[1] for k in keys], dtype=object), counts),
            "time": pd.to_datetime(np.concatenate([t for t, _ in columns]), unit="s", utc=True),
            "value": np.concatenate([v for _, v in columns]),
        }
    )
    return frame[SERIES_COLUMNS]


def _one_series(parts: list[tuple[FloatArray, FloatArray]]) -> tuple[FloatArray, FloatArray]:
    """One series' samples by time, the first read of each time kept (two series can share a
    label set once `__name__` is left out)."""
    times = np.concatenate([t for t, _ in parts])
    values = np.concatenate([v for _, v in parts])
    unique, first = np.unique(times, return_index=True)
    return unique, values[first]


def _start(record: RawResult) -> float:
    try:
        return parse_time(str(record["start"])).timestamp()
    except (KeyError, ValueError):
        return 0.0


# The snapshot's optional 28-day memory context (`collector.sources.collect`).
MEMORY_CONTEXT = "memory_context"


def read_memory_context(prometheus: Mapping[str, Any]) -> list[RawResult] | None:
    """The 28-day memory context's query records; None for a snapshot collected without it."""
    if MEMORY_CONTEXT not in prometheus:
        return None
    return list(prometheus.get(MEMORY_CONTEXT) or [])


def read_alert_intervals(results: Sequence[RawResult]) -> list[AlertInterval]:
    """Turn raw `ALERTS` samples into pending and firing intervals."""
    intervals: list[AlertInterval] = []
    for record in results:
        if record.get("kind") != QueryKind.ALERTS:
            continue
        for series in record.get("result", ()):
            metric = series.get("metric", {})
            times = sorted(set(sample_times(series.get("values") or ())))
            spacing = typical_step(times) or DEFAULT_EVALUATION_STEP
            # One lost evaluation does not end an alert (see collector.series).
            breaks = find_breaks(times, max(spacing, MIN_EVALUATION_STEP), missing=2)
            # The state holds until the next evaluation, one spacing after the last sample.
            intervals.extend(
                _interval(metric, start, last + spacing, str(record["query"]))
                for start, last in split_runs(times, breaks)
            )
    return sorted(intervals, key=lambda a: (a.start, a.alertname, a.state))


def _interval(metric: Mapping[str, str], start: float, end: float, query: str) -> AlertInterval:
    return AlertInterval(
        alertname=metric.get("alertname", "?"),
        state=metric.get("alertstate", "firing"),
        start=from_unix(start),
        end=from_unix(end),
        labels=tuple(
            sorted(
                (k, v)
                for k, v in metric.items()
                if k not in ("__name__", "alertname", "alertstate")
            )
        ),
        query=query,
    )
