"""Prometheus client: run the query pack over the incident's range (the only Prometheus
network code), and read the server's alerting rules.

The raw results go into the snapshot; `collector.snapshot.prometheus` turns them into the tidy
series frame and `AlertInterval` records (its readers are re-exported here for older imports).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from collector.config import PrometheusSettings, QuerySpec
from collector.redact import redact_url
from collector.snapshot.prometheus import SERIES_COLUMNS as SERIES_COLUMNS
from collector.snapshot.prometheus import RawResult, label_text
from collector.snapshot.prometheus import read_alert_intervals as read_alert_intervals
from collector.snapshot.prometheus import read_series as read_series
from collector.snapshot.schema import LATEST
from collector.timeutil import from_unix, iso_utc

MAX_POINTS = 11_000  # Prometheus rejects query_range asking for more points per series.
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
# Kinds whose "same window, one offset earlier" baseline is fetched and drawn.
BASELINE_KINDS = ("traffic", "errors", "availability", "latency", "connections", "users")
CONTEXT_SPAN = timedelta(days=28)  # the memory context fetched with an incident
CONTEXT_STEP = 3600  # seconds: 673 points per series, one request per query
# How many tries a request gets: the first, then urllib3's retries (see `_connect`).
ATTEMPTS = 3


class MalformedAnswer(ValueError):
    """Prometheus answered 200 with a body that is not the query API's result."""


class QueryFailed(Exception):
    """Prometheus answered a query with an error status; `text` is its own `error` field."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text}")
        self.status = status
        self.text = text


@dataclass(frozen=True)
class Answer:
    """One API answer: its `data.result`, and the `warnings` Prometheus sent along with it."""

    result: Any
    warnings: list[str]


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
) -> list[RawResult]:
    """Run every query over the range; one failing query is recorded, never fatal."""
    with requests.Session() as session:
        api = _Api(session, connect(session, settings, ca_bundle), settings)
        with ThreadPoolExecutor(max_workers=settings.max_concurrency) as pool:
            futures = [pool.submit(_run_query, api, spec, qrange, selector) for spec in queries]
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


def connect(
    session: requests.Session, settings: PrometheusSettings, ca_bundle: str | None
) -> PrometheusConnect:
    """A client of the configured server on `session` (TLS trust, auth, bounded retries)."""
    # TLS trust: the configured CA bundle, else the system's; never off unless asked for.
    session.verify = False if settings.insecure_skip_verify else (ca_bundle or True)
    headers = dict(settings.headers)
    if settings.bearer_token:
        headers["Authorization"] = f"Bearer {settings.bearer_token}"
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


class _Api:
    """GET the query API through the client's session (TLS, auth, retries), keeping the whole
    answer: PrometheusConnect returns only `data.result`, and its errors only as text."""

    def __init__(
        self, session: requests.Session, connection: PrometheusConnect, settings: PrometheusSettings
    ) -> None:
        self.session = session
        self.connection = connection
        self.settings = settings

    def get(self, path: str, params: dict[str, Any]) -> Answer:
        """The answer to `path` (e.g. /api/v1/query); QueryFailed on an error status."""
        response = self.session.get(
            f"{self.connection.url}{path}",
            params=params,
            headers=self.connection.headers,
            auth=self.connection.auth,
            verify=self.session.verify,
            cert=self.session.cert,
            timeout=self.settings.timeout,
        )
        if response.status_code != 200:
            raise QueryFailed(response.status_code, _error_text(response))
        body = response.json()  # not JSON: a ValueError, said as a malformed body
        return Answer(body["data"]["result"], [str(w) for w in body.get("warnings") or ()])


def _error_text(response: requests.Response) -> str:
    # Prometheus says what went wrong in the body's `error` field; a proxy's page has none.
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    return str(error) if error else (response.text.strip()[:300] or response.reason or "")


def _run_query(api: _Api, spec: QuerySpec, qrange: QueryRange, selector: str) -> RawResult:
    settings = api.settings
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
            record["result"] = _fetch_raw_samples(api, promql, qrange, record)
        else:
            record["result"] = _fetch_range(api, promql, qrange, record)
            offset = settings.baseline_offset
            if offset is not None and spec.kind in BASELINE_KINDS:
                shifted = QueryRange(qrange.start - offset, qrange.end - offset, qrange.step)
                record["baseline_offset_s"] = offset.total_seconds()
                record["baseline_result"] = _fetch_range(api, promql, shifted, record)
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
    except QueryFailed as exc:
        record["error"] = _explain_query_error(exc.status, exc.text)
    except requests.exceptions.RequestException as exc:
        record["error"] = _explain_query_error(0, str(exc)[:300])
    return record


def explain_failure(exc: BaseException, settings: PrometheusSettings) -> str | None:
    """One line saying why a request failed and what to do; None for a foreign error."""
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return _explain_unreachable(exc, settings)
    if isinstance(exc, QueryFailed):
        return _explain_query_error(exc.status, exc.text)
    if isinstance(exc, (PrometheusApiClientException, requests.exceptions.RequestException)):
        return _explain_query_error(0, str(exc)[:300])
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
    api: _Api, promql: str, qrange: QueryRange, record: dict[str, Any]
) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for chunk in split_range(qrange):
        params = {
            "query": promql,
            "start": round(chunk.start.timestamp()),
            "end": round(chunk.end.timestamp()),
            "step": str(chunk.step),
        }
        answer = api.get("/api/v1/query_range", params)
        record["warnings"].extend(answer.warnings)
        for series in _checked_series(answer.result, record):
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
    api: _Api, promql: str, qrange: QueryRange, record: dict[str, Any]
) -> list[dict[str, Any]]:
    # Alert state series are read as raw samples (a range selector), not evaluated on a grid:
    # query_range would stretch each interval by Prometheus's 5-minute look-back and blur its
    # start by up to one step.
    seconds = int((qrange.end - qrange.start).total_seconds())
    answer = api.get(
        "/api/v1/query", {"query": f"{promql}[{seconds}s]", "time": qrange.end.timestamp()}
    )
    record["warnings"].extend(answer.warnings)
    return _checked_series(answer.result, record)


def _explain_query_error(status: int, text: str) -> str:
    # Prometheus's own `error` text is the useful bit, and the status says whose fault it is.
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
) -> list[RawResult]:
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
