"""Prometheus range queries: run the query pack over the incident's range, and the memory
queries over the 28 days before it (the connection and its errors: `.prometheus_api`).

The raw results go into the snapshot; `collector.snapshot.prometheus` turns them into the tidy
series frame and `AlertInterval` records.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

import requests

from collector.config import PrometheusSettings, QuerySpec
from collector.snapshot.prometheus import RawResult, label_text
from collector.snapshot.samples import MalformedSamples, Samples, read_samples
from collector.sources.http_guard import GuardedSession
from collector.sources.prometheus_api import (
    MALFORMED_ERRORS,
    Answer,
    MalformedAnswer,
    QueryApi,
    QueryFailed,
    connect,
    explain_failure,
    explain_malformed,
)
from collector.timeutil import from_unix, iso_utc

MAX_POINTS = 11_000  # Prometheus rejects query_range asking for more points per series.
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
# Kinds whose "same window, one offset earlier" baseline is fetched and drawn.
BASELINE_KINDS = ("traffic", "errors", "availability", "latency", "connections", "users")
CONTEXT_SPAN = timedelta(days=28)  # the memory context fetched with an incident
CONTEXT_STEP = 3600  # seconds: 673 points per series, one request per query
# A pack of few queries leaves connections idle (`max_concurrency`): each range query is then
# asked in parts of its range, side by side, each part at least this many points long. One
# range query is evaluated on one core of the server, so parts use the others (a big query
# in 2 parts on 2 cores: benchmarks/README.md); the parts' evaluation times are the whole's,
# so the answer is the same.
MIN_PART_POINTS = 180
# Each part is asked in pieces, `parts` of them in flight at a time: the server evaluates the
# next pieces while the client reads the answers already in (one big answer read at the end
# leaves the server idle meanwhile). A piece is at least MIN_PIECE_POINTS points long.
PIECES_PER_PART = 4
MIN_PIECE_POINTS = 60


@dataclass(frozen=True)
class QueryRange:
    """The time range and resolution every query of the pack is evaluated over."""

    start: datetime
    end: datetime
    step: int

    @property
    def points(self) -> int:
        """Number of evaluation points in the range, ends included."""
        return int((self.end - self.start).total_seconds() // self.step) + 1


def choose_range(start: datetime, end: datetime, chart_points: int) -> QueryRange:
    """Pick a step near chart resolution, then align start and end on it."""
    seconds = max((end - start).total_seconds(), 1.0)
    wanted = seconds / max(chart_points, 1)
    step = next((s for s in _NICE_STEPS if s >= wanted), _NICE_STEPS[-1])
    first = math.floor(start.timestamp() / step) * step
    last = math.ceil(end.timestamp() / step) * step
    return QueryRange(from_unix(first), from_unix(last), step)


def split_range(qrange: QueryRange, max_points: int = MAX_POINTS) -> list[QueryRange]:
    """Split a range into chunks of at most max_points points, with no shared or missing point."""
    chunks = []
    span = timedelta(seconds=qrange.step * (max_points - 1))
    cursor = qrange.start
    while cursor <= qrange.end:
        chunk_end = min(cursor + span, qrange.end)
        chunks.append(QueryRange(cursor, chunk_end, qrange.step))
        cursor = chunk_end + timedelta(seconds=qrange.step)
    return chunks


def parts_per_query(concurrency: int, queries: int, qrange: QueryRange) -> int:
    """Into how many parts of its range each of `queries` range queries is split, so that
    they use the `concurrency` connections allowed (1: not split)."""
    spare = concurrency // max(queries, 1)
    return max(1, min(spare, qrange.points // MIN_PART_POINTS))


def piece_points(qrange: QueryRange, parts: int) -> int:
    """How many points each request of a range query asked in `parts` asks for (at most
    MAX_POINTS): one request for an unsplit range, else PIECES_PER_PART pieces a part."""
    if parts < 2:
        return MAX_POINTS
    pieces = -(-qrange.points // (parts * PIECES_PER_PART))  # ceiling
    whole = -(-qrange.points // parts)
    return min(MAX_POINTS, max(pieces, min(MIN_PIECE_POINTS, whole), 1))


def expand_query(spec: QuerySpec, selector: str) -> str:
    """Put the service's label selector where the query says `$selector`."""
    return spec.query.replace("$selector", selector)


def fetch_query_results(
    settings: PrometheusSettings,
    ca_bundle: str | None,
    queries: Sequence[QuerySpec],
    qrange: QueryRange,
    selector: str,
) -> list[RawResult]:
    """Run every query over the range; one failing query is recorded, never fatal. A pack of
    fewer queries than `max_concurrency` asks each range query in parts (`parts_per_query`)."""
    parts = parts_per_query(settings.max_concurrency, len(queries), qrange)
    with GuardedSession() as session:
        api = QueryApi(session, connect(session, settings, ca_bundle), settings)
        with ThreadPoolExecutor(max_workers=settings.max_concurrency) as pool:
            futures = [
                pool.submit(_run_query, api, spec, qrange, selector, parts) for spec in queries
            ]
            return [f.result() for f in futures]


def fetch_memory_context(
    settings: PrometheusSettings,
    ca_bundle: str | None,
    queries: Sequence[QuerySpec],
    end: datetime,
    selector: str,
) -> list[RawResult]:
    """The given (memory, swap) queries over the CONTEXT_SPAN before `end`, hourly.

    Records shaped like `fetch_query_results`'; a failing query is recorded, never fatal.
    """
    if not queries:
        return []
    last = math.ceil(end.timestamp() / CONTEXT_STEP) * CONTEXT_STEP
    first = last - int(CONTEXT_SPAN.total_seconds())
    qrange = QueryRange(from_unix(first), from_unix(last), CONTEXT_STEP)
    return fetch_query_results(settings, ca_bundle, queries, qrange, selector)


def _run_query(
    api: QueryApi, spec: QuerySpec, qrange: QueryRange, selector: str, parts: int = 1
) -> RawResult:
    promql = expand_query(spec, selector)
    record = _new_record(spec, promql, qrange)
    try:
        if spec.kind == "alerts":
            record["result"] = _fetch_raw_samples(api, promql, qrange, record)
        else:
            record["result"] = _fetch_range(api, promql, qrange, record, parts)
            offset = api.settings.baseline_offset
            if offset is not None and spec.kind in BASELINE_KINDS:
                shifted = QueryRange(qrange.start - offset, qrange.end - offset, qrange.step)
                record["baseline_offset_s"] = offset.total_seconds()
                record["baseline_result"] = _fetch_range(api, promql, shifted, record, parts)
    except MALFORMED_ERRORS:
        # 200 with HTML (a proxy's page; requests' JSONDecodeError is a ValueError too),
        # `"result": "weird"`, samples that are not pairs...
        record["result"] = []
        record.pop("baseline_result", None)
        record["error"] = explain_malformed(api.settings)
    except (QueryFailed, requests.exceptions.RequestException) as exc:
        # Unreachable, timed out, refused, rejected: one line that says what to do.
        record["error"] = explain_failure(exc, api.settings)
    return record


def _new_record(spec: QuerySpec, promql: str, qrange: QueryRange) -> dict[str, Any]:
    """A query's snapshot record before it is run: what was asked, over which range."""
    return {
        "name": spec.name,
        "title": spec.title,
        "query": promql,
        "kind": spec.kind,
        "unit": spec.unit,
        "thresholds": list(spec.thresholds),
        "user_facing": spec.user_facing,
        "start": iso_utc(qrange.start),
        "end": iso_utc(qrange.end),
        "step": qrange.step,
        "result": [],
        "warnings": [],
        "error": None,
    }


def _fetch_range(
    api: QueryApi, promql: str, qrange: QueryRange, record: dict[str, Any], parts: int = 1
) -> list[dict[str, Any]]:
    """A range query's series, asked in chunks of at most MAX_POINTS points, or in `parts`
    side by side; each series' samples joined in time order.

    A query that names its own range's ends (`@ start()`, `@ end()`) is not split in parts:
    each part would read its own. Every evaluation time is a multiple of the step from the
    range's start, in one part or another, so the parts' samples are the whole's.
    """
    if "@" in promql:
        parts = 1
    chunks = split_range(qrange, piece_points(qrange, parts))
    merged: dict[str, tuple[dict[str, str], list[Samples]]] = {}
    for answer in _answers(api, promql, chunks, parts):
        for warning in answer.warnings:  # each part may say the same
            if warning not in record["warnings"]:
                record["warnings"].append(warning)
        for series in checked_series(answer.result, record):
            key = label_text(series["metric"])
            if key in merged:
                merged[key][1].append(series["values"])
            else:
                merged[key] = (series["metric"], [series["values"]])
    return [{"metric": m, "values": Samples.joined(parts)} for m, parts in merged.values()]


def _answers(
    api: QueryApi, promql: str, chunks: Sequence[QueryRange], parts: int
) -> Iterator[Answer]:
    """Each chunk's answer, in order; `parts` of them in flight at a time (the next one is
    asked as soon as one is read)."""

    def ask(chunk: QueryRange) -> Answer:
        params = {
            "query": promql,
            "start": round(chunk.start.timestamp()),
            "end": round(chunk.end.timestamp()),
            "step": str(chunk.step),
        }
        return api.get("/api/v1/query_range", params)

    if parts < 2 or len(chunks) < 2:
        yield from map(ask, chunks)
        return
    with ThreadPoolExecutor(max_workers=parts) as pool:
        waiting = iter(chunks)
        asked: deque[Future[Answer]] = deque(
            pool.submit(ask, chunk) for chunk in islice(waiting, parts)
        )
        try:
            while asked:  # each answer is let go once read (a big one is large)
                answer = asked.popleft().result()
                for chunk in islice(waiting, 1):
                    asked.append(pool.submit(ask, chunk))
                yield answer
        finally:
            for future in asked:
                future.cancel()


def checked_series(result: Any, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The series of a query answer, proven well formed, their samples read as numbers
    (`Samples`) with the non-finite ones left out.

    Raises `MalformedAnswer` when the answer is not a list of {metric, values} series of
    [time, number] samples; counts the samples left out (NaN, ±Inf, overflowing numbers) in
    record["dropped"].
    """
    if not isinstance(result, list):
        raise MalformedAnswer(f"result is {type(result).__name__}, not a list")
    checked = []
    for series in result:
        metric = series.get("metric", {}) if isinstance(series, dict) else None
        values = series.get("values", []) if isinstance(series, dict) else None
        if not isinstance(metric, dict) or not isinstance(values, list | Samples):
            raise MalformedAnswer("a series without metric labels and values")
        try:
            samples = read_samples(values)  # read as the answer was parsed, mostly
        except MalformedSamples as exc:
            raise MalformedAnswer(str(exc)) from None
        if samples.dropped:
            record["dropped"] = record.get("dropped", 0) + samples.dropped
        labels = {str(k): str(v) for k, v in metric.items()}
        checked.append({"metric": labels, "values": samples})
    return checked


def _fetch_raw_samples(
    api: QueryApi, promql: str, qrange: QueryRange, record: dict[str, Any]
) -> list[dict[str, Any]]:
    # Alert state series are read as raw samples (a range selector), not evaluated on a grid:
    # query_range would stretch each interval by Prometheus's 5-minute look-back and blur its
    # start by up to one step.
    seconds = int((qrange.end - qrange.start).total_seconds())
    answer = api.get(
        "/api/v1/query", {"query": f"{promql}[{seconds}s]", "time": qrange.end.timestamp()}
    )
    record["warnings"].extend(answer.warnings)
    return checked_series(answer.result, record)
