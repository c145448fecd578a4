"""Prometheus source: run the query pack over the incident's range, and read results back.

`fetch_query_results` is the only Prometheus network code. `read_series` and
`read_alert_intervals` are pure: they turn the raw results kept in the snapshot into a tidy
DataFrame and `AlertInterval` records.

Tidy series frame columns: `query` (query name), `series` (label set, e.g. `{instance="db-01"}`),
`time` (datetime64[ns, UTC]), `value` (float).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from collector.config import PrometheusSettings, QuerySpec
from collector.records import AlertInterval
from collector.redact import redact_url
from collector.snapshot_schema import LATEST
from collector.timeutil import from_unix, iso_utc, parse_time

MAX_POINTS = 11_000  # Prometheus rejects query_range asking for more points per series.
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
SERIES_COLUMNS = ["query", "series", "time", "value"]
# Kinds whose "same window, one offset earlier" baseline is fetched and drawn.
BASELINE_KINDS = ("traffic", "errors", "availability", "latency", "connections", "users")
CONTEXT_SPAN = timedelta(days=28)  # the memory context fetched with an incident
CONTEXT_STEP = 3600  # seconds: 673 points per series, one request per query
# How many tries a request gets: the first, then urllib3's retries (see `_connect`).
ATTEMPTS = 3


class MalformedAnswer(ValueError):
    """Prometheus answered 200 with a body that is not the query API's result."""


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


def expand_query(spec: QuerySpec, selector: str) -> str:
    """Put the service's label selector where the query says `$selector`."""
    return spec.query.replace("$selector", selector)


def fetch_query_results(
    settings: PrometheusSettings,
    ca_bundle: str | None,
    queries: Sequence[QuerySpec],
    qrange: QueryRange,
    selector: str,
) -> list[dict[str, Any]]:
    """Run every query over the range; one failing query is recorded, never fatal."""
    with requests.Session() as session:
        connection = connect(session, settings, ca_bundle)
        with ThreadPoolExecutor(max_workers=settings.max_concurrency) as pool:
            futures = [
                pool.submit(_run_query, connection, settings, spec, qrange, selector)
                for spec in queries
            ]
            return [f.result() for f in futures]


def fetch_memory_context(
    settings: PrometheusSettings,
    ca_bundle: str | None,
    queries: Sequence[QuerySpec],
    end: datetime,
    selector: str,
) -> list[dict[str, Any]]:
    """The given (memory, swap) queries over the CONTEXT_SPAN before `end`, hourly.

    Records shaped like `fetch_query_results`'; a failing query is recorded, never fatal.
    """
    if not queries:
        return []
    last = math.ceil(end.timestamp() / CONTEXT_STEP) * CONTEXT_STEP
    first = last - int(CONTEXT_SPAN.total_seconds())
    qrange = QueryRange(from_unix(first), from_unix(last), CONTEXT_STEP)
    return fetch_query_results(settings, ca_bundle, queries, qrange, selector)


def connect(
    session: requests.Session, settings: PrometheusSettings, ca_bundle: str | None
) -> PrometheusConnect:
    """A client of the configured server on `session` (TLS trust, auth, bounded retries)."""
    # TLS trust: the configured CA bundle, else the system's; never off unless asked for.
    session.verify = False if settings.insecure_skip_verify else (ca_bundle or True)
    headers = dict(settings.headers)
    if settings.bearer_token:
        headers["Authorization"] = f"Bearer {settings.bearer_token}"
    session.hooks["response"].append(_remember_warnings)
    retry = Retry(
        total=ATTEMPTS - 1,
        backoff_factor=0.3,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=None,
        raise_on_status=False,
    )
    return PrometheusConnect(
        url=settings.url.rstrip("/"),
        headers=headers or None,
        auth=settings.basic_auth,
        retry=retry,
        session=session,
        timeout=settings.timeout,
    )


_last_response = threading.local()


def _remember_warnings(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    # PrometheusConnect returns only data.result; Prometheus's `warnings` (partial results from
    # Thanos, Mimir...) must be shown, so keep them per thread for the caller to pick up.
    warnings: list[str] = []
    try:
        body = response.json()
        warnings = [str(w) for w in body.get("warnings") or ()]
    except (ValueError, AttributeError):
        pass
    _last_response.warnings = warnings


def _run_query(
    connection: PrometheusConnect,
    settings: PrometheusSettings,
    spec: QuerySpec,
    qrange: QueryRange,
    selector: str,
) -> dict[str, Any]:
    promql = expand_query(spec, selector)
    record: dict[str, Any] = {
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
    try:
        if spec.kind == "alerts":
            record["result"] = _fetch_raw_samples(connection, settings, promql, qrange, record)
        else:
            record["result"] = _fetch_range(connection, settings, promql, qrange, record)
            offset = settings.baseline_offset
            if offset is not None and spec.kind in BASELINE_KINDS:
                shifted = QueryRange(qrange.start - offset, qrange.end - offset, qrange.step)
                record["baseline_offset_s"] = offset.total_seconds()
                record["baseline_result"] = _fetch_range(
                    connection, settings, promql, shifted, record
                )
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        record["error"] = _explain_unreachable(exc, settings)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        # 200 with HTML (a proxy's page; requests' JSONDecodeError is a ValueError too),
        # `"result": "weird"`, samples that are not pairs...
        record["result"] = []
        record.pop("baseline_result", None)
        record["error"] = (
            f"Prometheus at {redact_url(settings.url)} answered with a malformed body (not the"
            " query API's JSON): check PROMETHEUS_URL, including any path prefix"
        )
    except (PrometheusApiClientException, requests.exceptions.RequestException) as exc:
        record["error"] = explain_failure(exc, settings)
    return record


def explain_failure(exc: BaseException, settings: PrometheusSettings) -> str | None:
    """One line saying why a request failed and what to do; None for a foreign error."""
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return _explain_unreachable(exc, settings)
    if isinstance(exc, (PrometheusApiClientException, requests.exceptions.RequestException)):
        return _explain_query_error(str(exc))
    return None


def _explain_unreachable(exc: requests.exceptions.RequestException, settings: Any) -> str:
    # After urllib3's retries a read timeout arrives as a ConnectionError wrapping it.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    # urllib3's NewConnectionError (refused, no route) subclasses ConnectTimeoutError.
    timed_out = isinstance(exc, requests.exceptions.Timeout) or (
        isinstance(reason, (ReadTimeoutError, ConnectTimeoutError))
        and not isinstance(reason, NewConnectionError)
    )
    url = redact_url(settings.url)
    if timed_out:
        return (
            f"Prometheus at {url} timed out after {settings.timeout:g} s ({ATTEMPTS} attempts):"
            " the server is slow or overloaded; raise prometheus.timeout_seconds or try later"
        )
    return (
        f"cannot reach Prometheus at {url} ({type(exc).__name__}):"
        " check PROMETHEUS_URL and that the server is up"
    )


def _fetch_range(
    connection: PrometheusConnect,
    settings: PrometheusSettings,
    promql: str,
    qrange: QueryRange,
    record: dict[str, Any],
) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for chunk in split_range(qrange):
        _last_response.warnings = []
        result = connection.custom_query_range(
            promql, chunk.start, chunk.end, str(chunk.step), timeout=settings.timeout
        )
        record["warnings"].extend(_last_response.warnings)
        for series in _checked_series(result, record):
            key = label_text(series["metric"])
            merged.setdefault(key, {"metric": series["metric"], "values": []})
            merged[key]["values"].extend(series["values"])
    return list(merged.values())


def _checked_series(result: Any, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The series of a query answer, proven well formed, with non-finite samples left out.

    Raises `MalformedAnswer` when the answer is not a list of {metric, values} series; counts
    the samples left out (NaN, ±Inf, overflowing numbers) in record["dropped"].
    """
    if not isinstance(result, list):
        raise MalformedAnswer(f"result is {type(result).__name__}, not a list")
    checked = []
    for series in result:
        metric = series.get("metric", {}) if isinstance(series, dict) else None
        values = series.get("values", []) if isinstance(series, dict) else None
        if not isinstance(metric, dict) or not isinstance(values, list):
            raise MalformedAnswer("a series without metric labels and values")
        kept = [[t, v] for t, v in values if _in_range(t) and _finite(v)]
        if len(kept) < len(values):
            record["dropped"] = record.get("dropped", 0) + len(values) - len(kept)
        labels = {str(k): str(v) for k, v in metric.items()}
        checked.append({"metric": labels, "values": kept})
    return checked


def _in_range(time: Any) -> bool:
    if not 0 <= _number(time) <= LATEST.timestamp():  # NaN fails too
        raise MalformedAnswer("a sample time is outside the years 1970 to 9000")
    return True


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise MalformedAnswer("a sample is not a number")
    return float(value)


def _finite(value: Any) -> bool:
    # Sample values arrive as text ("12.5", "NaN", "+Inf"); times as numbers.
    return math.isfinite(_number(value))


def _fetch_raw_samples(
    connection: PrometheusConnect,
    settings: PrometheusSettings,
    promql: str,
    qrange: QueryRange,
    record: dict[str, Any],
) -> list[dict[str, Any]]:
    # Alert state series are read as raw samples (a range selector), not evaluated on a grid:
    # query_range would stretch each interval by Prometheus's 5-minute look-back and blur its
    # start by up to one step.
    _last_response.warnings = []
    seconds = int((qrange.end - qrange.start).total_seconds())
    result = connection.custom_query(
        f"{promql}[{seconds}s]",
        params={"time": qrange.end.timestamp()},
        timeout=settings.timeout,
    )
    return _checked_series(result, record)


def _explain_query_error(message: str) -> str:
    # The client puts the status and raw body in its message; Prometheus's own `error` text is
    # the useful bit, and the status says whose fault it is.
    status_match = re.search(r"HTTP Status Code (\d{3})", message)
    status = int(status_match.group(1)) if status_match else 0
    marker = '"error":"'
    text = message.split(marker, 1)[1].split('"', 1)[0] if marker in message else message[:300]
    if status in (401, 403):
        return (
            f"Prometheus refused access (HTTP {status}): set PROMETHEUS_BEARER_TOKEN or"
            f" PROMETHEUS_USERNAME/PROMETHEUS_PASSWORD, or prometheus.headers ({text})"
        )
    if status in (400, 422):
        return f"Prometheus rejected the query: {text}"
    if status:
        return f"Prometheus answered HTTP {status}: {text}"
    return f"Prometheus query failed: {text}"


def label_text(metric: dict[str, str]) -> str:
    """A label set as PromQL-like text, sorted, without the metric name."""
    labels = {k: v for k, v in metric.items() if k != "__name__"}
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def read_series(results: Sequence[dict[str, Any]], baseline: bool = False) -> pd.DataFrame:
    """Flatten raw query results into the tidy series frame (see module docstring).

    With baseline=True, the baseline results (the same query one offset earlier) are read
    instead, their times moved forward by the offset so they line up with the incident.
    """
    rows: list[tuple[str, str, float, float]] = []
    key = "baseline_result" if baseline else "result"
    for record in results:
        if record.get("kind") == "alerts":
            continue
        shift = float(record.get("baseline_offset_s", 0.0)) if baseline else 0.0
        for series in record.get(key) or ():
            label = label_text(series.get("metric", {}))
            finite = [
                (record["name"], label, float(t) + shift, float(v))
                for t, v in series.get("values", ())
                if math.isfinite(float(v))  # NaN, ±Inf: no point to draw or compute with
            ]
            # A series with no usable sample (swap on a host without swap: 0/0) is still a
            # series: one NaN row keeps it known, so it reads as absent, never as missing.
            rows.extend(finite or [(record["name"], label, _start(record) + shift, math.nan)])
    frame = pd.DataFrame(rows, columns=["query", "series", "t", "value"])
    frame["time"] = pd.to_datetime(frame["t"], unit="s", utc=True)
    frame = frame.drop_duplicates(subset=["query", "series", "t"])
    return frame[SERIES_COLUMNS].sort_values(["query", "series", "time"], ignore_index=True)


def _start(record: dict[str, Any]) -> float:
    try:
        return parse_time(str(record["start"])).timestamp()
    except (KeyError, ValueError):
        return 0.0


def read_alert_intervals(results: Sequence[dict[str, Any]]) -> list[AlertInterval]:
    """Turn raw `ALERTS` samples into pending and firing intervals."""
    intervals: list[AlertInterval] = []
    for record in results:
        if record.get("kind") != "alerts":
            continue
        for series in record.get("result", ()):
            metric = series.get("metric", {})
            sample_times = sorted({float(t) for t, _ in series.get("values", ())})
            spacing = _typical_spacing(sample_times)
            # The state holds until the next evaluation, one spacing after the last sample.
            for start, last in _runs(sample_times, gap=max(2.5 * spacing, 30.0)):
                end = last + spacing
                intervals.append(
                    AlertInterval(
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
                        query=record["query"],
                    )
                )
    return sorted(intervals, key=lambda a: (a.start, a.alertname, a.state))


def _typical_spacing(times: list[float]) -> float:
    # Samples come every rule-evaluation interval; a pause of several intervals ends a run.
    diffs = sorted(b - a for a, b in zip(times, times[1:], strict=False))
    return diffs[len(diffs) // 2] if diffs else 15.0


def _runs(times: list[float], gap: float) -> list[tuple[float, float]]:
    runs: list[tuple[float, float]] = []
    for t in times:
        if runs and t - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs


def fetch_alerting_rules(settings: PrometheusSettings, ca_bundle: str | None) -> dict[str, Any]:
    """The alerting rules Prometheus evaluates (`/api/v1/rules?type=alert`), kept raw-ish.

    Some backends have no rules API (404) or answer with no group: that is not a fault of the
    report, so it is recorded quietly as `{"rules": [], "note": ...}`, never raised.
    """
    with requests.Session() as session:
        connection = connect(session, settings, ca_bundle)
        try:
            response = session.get(
                f"{connection.url}/api/v1/rules",
                params={"type": "alert"},
                headers=connection.headers,
                auth=connection.auth,
                timeout=settings.timeout,
            )
            response.raise_for_status()
            groups = response.json()["data"]["groups"]
        except (requests.exceptions.RequestException, ValueError, KeyError, TypeError) as exc:
            return {"rules": [], "note": f"no alerting rules read: {type(exc).__name__}"}
    rules = [
        _rule_record(group, rule)
        for group in groups or ()
        if isinstance(group, dict)
        for rule in group.get("rules") or ()
        if isinstance(rule, dict) and rule.get("type") == "alerting"
    ]
    return {"rules": rules, "note": None if rules else "the server has no alerting rule"}


def _rule_record(group: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "group": str(group.get("name", "")),
        "name": str(rule.get("name", "")),
        "query": str(rule.get("query", "")),
        "duration_s": _seconds(rule.get("duration")),
        "labels": {str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
        "summary": str((rule.get("annotations") or {}).get("summary", "")),
    }


def _seconds(value: object) -> float:
    """A rule's `for`, in seconds; anything but a finite, sane number counts as none."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return seconds if 0 <= seconds <= 10 * 366 * 86400 else 0.0


MAX_RULES_EVALUATED = 5


def evaluate_rules(
    settings: PrometheusSettings,
    ca_bundle: str | None,
    rules: Sequence[dict[str, Any]],
    alertnames: Sequence[str],
    qrange: QueryRange,
) -> list[dict[str, Any]]:
    """Each paged rule's own expression over the range: where it returns samples, it held.

    The fallback for when Prometheus's ALERTS series does not tell when the condition began.
    """
    wanted = [r for r in rules if r.get("name") in alertnames][:MAX_RULES_EVALUATED]
    specs = [
        QuerySpec(name=str(r["name"]), title=str(r["name"]), query=str(r["query"]))
        for r in wanted
        if r.get("query")
    ]
    return fetch_query_results(settings, ca_bundle, specs, qrange, "") if specs else []
