"""The outage: which availability signal decides it, and when some of its series were down.

What users hit (blackbox probes: `user_facing: true`) decides the outage; other availability
queries (scrape targets `up`) are shown beside it as context. With no user-facing signal that
answers, the first availability query decides, and the report says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

import pandas as pd

from collector.analysis.facts import FigureStatus, Note, note, source
from collector.records import QueryKind
from collector.series import series_names
from collector.snapshot.prometheus import QueryResult
from collector.timeutil import iso_utc

OK = FigureStatus.OK
NOT_CONFIGURED = FigureStatus.NOT_CONFIGURED
FAILED = FigureStatus.FAILED
NO_DATA = FigureStatus.NO_DATA
# probe_success and up are 0 or 1: a series at or above one half counts as up.
UP_THRESHOLD = 0.5


class OutageBasis(Enum):
    """Why the outage comes from the signal it comes from."""

    USER_FACING = "user_facing"  # the user-facing availability queries decide
    NOT_MARKED = "not_marked"  # no availability query is marked user-facing: fallback
    USER_FACING_SILENT = "user_facing_silent"  # marked ones failed or returned nothing
    NONE = "none"  # no availability query answered at all


@dataclass(frozen=True)
class QueryData:
    """The samples of the query (or queries) playing one role, or why there are none."""

    kind: QueryKind
    record: QueryResult | None
    data: pd.DataFrame
    status: FigureStatus
    note: Note | None

    @property
    def name(self) -> str:
        """The query's name, or its kind when none is configured."""
        return self.record.name if self.record else self.kind

    def describe(self) -> Note:
        """The query as a figure's source: its name, PromQL and the range fetched."""
        if self.record is None:
            return source("no_query", kind=self.kind)
        r = self.record
        return source(
            "query",
            name=r.name,
            query=r.query,
            start=iso_utc(r.start) if r.start else "None",
            end=iso_utc(r.end) if r.end else "None",
        )

    @property
    def setting(self) -> str:
        """The config key that would bring this query's data, when none is configured."""
        return f"prometheus.queries (kind: {self.kind})" if self.status == NOT_CONFIGURED else ""

    def totals(self, how: str = "sum") -> pd.Series:
        # Rates and counts of several series add up (per status code, per instance); ages do
        # not: the oldest backup bounds the data lost.
        return self.data.groupby("time")["value"].agg(how).sort_index()


@dataclass(frozen=True)
class Outage:
    """From the first sample with a series down to the first with all up again."""

    start: datetime
    end: datetime | None
    first_better: datetime | None
    worst_down: int
    series: int
    source: Note


@dataclass(frozen=True)
class SignalOutage:
    """One availability query's own view of the incident, for the context line."""

    name: str
    title: str
    user_facing: bool
    status: FigureStatus
    start: datetime | None
    end: datetime | None
    worst_down: int
    series: int


@dataclass(frozen=True)
class OutageSignal:
    """Which availability queries decided the outage, and what the others showed."""

    basis: OutageBasis
    used: tuple[str, ...]  # titles of the queries that decided
    context: tuple[SignalOutage, ...]  # the other availability queries


def pick_query(frame: pd.DataFrame, queries: Sequence[QueryResult], kind: QueryKind) -> QueryData:
    """The first query of this kind, with its data, or why there is none."""
    candidates = [q for q in queries if q.kind is kind]
    if not candidates:
        why = note("add_query", kind=kind)
        return QueryData(kind, None, frame.iloc[0:0], NOT_CONFIGURED, why)
    return query_data(frame, candidates[0])


def query_data(frame: pd.DataFrame, record: QueryResult) -> QueryData:
    """The samples of one query, with its status."""
    kind, name = record.kind, record.name
    data = frame[frame["query"] == name]
    if record.error:
        why = note("query_failed", query=name, error=record.error)
        return QueryData(kind, record, data, FAILED, why)
    if data.empty:
        why = note("no_samples", query=name)
        return QueryData(kind, record, data, NO_DATA, why)
    return QueryData(kind, record, data, OK, None)


def pick_outage_signal(
    frame: pd.DataFrame, queries: Sequence[QueryResult]
) -> tuple[QueryData, OutageSignal]:
    """The availability data that decides the outage: every user-facing query together."""
    records = [q for q in queries if q.kind is QueryKind.AVAILABILITY]
    if not records:
        return pick_query(frame, queries, QueryKind.AVAILABILITY), OutageSignal(
            OutageBasis.NONE, (), ()
        )
    marked = [query_data(frame, q) for q in records if q.user_facing]
    answering = [q for q in marked if q.status == OK]
    chosen, basis = _fallback(frame, records, marked)
    if answering:
        chosen, basis = _combine(answering), OutageBasis.USER_FACING
    used_names = {q.record.name for q in (answering or [chosen]) if q.record}
    used = tuple(r.title for r in records if r.name in used_names)
    context = tuple(_signal_outage(frame, r) for r in records if r.name not in used_names)
    return chosen, OutageSignal(basis, used, context)


def _fallback(
    frame: pd.DataFrame, records: Sequence[QueryResult], marked: Sequence[QueryData]
) -> tuple[QueryData, OutageBasis]:
    """Without a user-facing answer: the availability query that tells the most, and why."""
    others = [query_data(frame, q) for q in records if not q.user_facing]
    # A probe per endpoint tells more about an outage than a single `up` series.
    others.sort(key=lambda q: (q.status != OK, len(series_names(q.data)) <= 1))
    if others and others[0].status == OK:
        return others[0], OutageBasis.USER_FACING_SILENT if marked else OutageBasis.NOT_MARKED
    return (list(marked) + others)[0], OutageBasis.NONE


def _combine(parts: Sequence[QueryData]) -> QueryData:
    """Several user-facing queries as one: every series of each, named by its query."""
    if len(parts) == 1:
        return parts[0]
    frames = []
    for part in parts:
        data = part.data.copy()
        data["series"] = (part.record.name if part.record else "") + data["series"]
        frames.append(data)
    records = [p.record for p in parts if p.record]
    record = replace(
        records[0],
        name=" + ".join(r.name for r in records),
        query="; ".join(r.query for r in records),
    )
    return QueryData(QueryKind.AVAILABILITY, record, pd.concat(frames, ignore_index=True), OK, None)


def _signal_outage(frame: pd.DataFrame, record: QueryResult) -> SignalOutage:
    query = query_data(frame, record)
    outage = find_outage(query, None, None) if query.status == OK else None
    series = len(series_names(query.data))
    return SignalOutage(
        name=record.name,
        title=record.title,
        user_facing=record.user_facing,
        status=query.status,
        start=outage.start if outage else None,
        end=outage.end if outage else None,
        worst_down=outage.worst_down if outage else 0,
        series=series,
    )


def find_outage(
    query: QueryData, started: datetime | None, resolved: datetime | None
) -> Outage | None:
    """The samples with some series down that overlap the incident, from first to last run."""
    if query.status != OK:
        return None
    data = query.data.drop_duplicates(["time", "series"], keep="last")
    wide = data.pivot(index="time", columns="series", values="value").sort_index()
    # A series without a sample at a time (probe gone) counts as down there.
    down = [int(n) for n in (~wide.ge(UP_THRESHOLD)).sum(axis=1)]
    times = [t.to_pydatetime() for t in wide.index]
    last = resolved or times[-1]
    first = started or times[0]
    runs = [
        (b, e)
        for b, e in _runs_of_down(down)
        if times[b] <= last and (e == len(times) or times[e] > first)
    ]
    if not runs:
        return None
    begin, end = runs[0][0], runs[-1][1]
    worst = max(down[begin:end])
    worst_at = down.index(worst, begin, end)
    better = next((i for i in range(worst_at, len(down)) if down[i] < worst), None)
    end_time = times[end] if end < len(times) else None
    seen = source(
        "outage" if end_time else "outage_open",
        seen=query.describe(),
        worst=worst,
        series=int(wide.shape[1]),
        threshold=UP_THRESHOLD,
        down=times[begin],
        **({"up": end_time} if end_time else {}),
    )
    better_time = times[better] if better is not None else None
    return Outage(times[begin], end_time, better_time, worst, int(wide.shape[1]), seen)


def _runs_of_down(down: Sequence[int]) -> list[tuple[int, int]]:
    """[begin, end) index ranges where some series is down; end is the first all-up sample."""
    runs: list[tuple[int, int]] = []
    for i, count in enumerate(down):
        if count and (i == 0 or not down[i - 1]):
            runs.append((i, i + 1))
        elif count:
            runs[-1] = (runs[-1][0], i + 1)
    return runs
