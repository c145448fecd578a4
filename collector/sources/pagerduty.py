"""PagerDuty client: fetch an incident's raw API data (the only PagerDuty network code).

The raw JSON goes into the snapshot; `collector.snapshot.pagerduty` turns it into typed records
(its readers are re-exported here for older imports).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx2
import pagerduty

from collector.config import PagerDutySettings
from collector.errors import SourceError
from collector.paths import incident_id_problem, is_incident_id, shorten
from collector.records import Gap, GapKind
from collector.redact import redact_url
from collector.snapshot.pagerduty import read_alerts as read_alerts
from collector.snapshot.pagerduty import read_incident as read_incident
from collector.snapshot.pagerduty import read_log_entries as read_log_entries
from collector.snapshot.pagerduty import read_paged_alertnames as read_paged_alertnames
from collector.timeutil import iso_utc, parse_time

PAGE_SIZE = 100
# PagerDuty refuses offset + limit above 10,000 on classic pagination.
OFFSET_LIMIT = 10_000
RETRIED_STATUSES = (429, 500, 502, 503, 504)
# The longest wait a rate-limit answer may impose before the next attempt.
MAX_RATE_LIMIT_WAIT = 60.0
# The request extension where each request counts the 429 answers its attempts met: the client
# deep-copies a request's arguments once and reuses them for every retry of it.
RATE_LIMITED = "collector.rate_limited"


class PagerDutyError(SourceError):
    """A PagerDuty request failed; the message says why and what to do."""


def make_client(
    settings: PagerDutySettings, ca_bundle: str | None, default_from: str | None = None
) -> pagerduty.RestApiV2Client:
    """Build a REST API v2 client with bounded retries and the configured TLS trust.

    `default_from` is the `From` header that write requests (notes) need.
    """
    if not settings.token:
        raise PagerDutyError(
            "no PagerDuty API token: set PAGERDUTY_API_TOKEN to a REST API key"
            " (read-only is enough)"
        )
    verify: ssl.SSLContext | bool = True
    if ca_bundle:
        verify = ssl.create_default_context(cafile=ca_bundle)
    try:
        client = pagerduty.RestApiV2Client(
            settings.token,
            default_from=default_from,
            base_url=settings.base_url.rstrip("/"),
            verify=verify,
            event_hooks={
                "response": [partial(_wait_for_rate_limit_reset, retries=settings.max_retries)]
            },
        )
    except pagerduty.UrlError as exc:
        raise PagerDutyError(
            f"PAGERDUTY_BASE_URL {settings.base_url!r} is not usable: {exc}"
        ) from exc
    client.timeout = settings.timeout  # type: ignore[assignment]  # the client types it int
    client.max_network_attempts = settings.max_retries
    # The client retries 429 without limit by default; a scheduled job must end.
    client.retry = {status: settings.max_retries for status in RETRIED_STATUSES}
    # Backoff for 5xx: 0.5 s, 1 s, 2 s...; 429 waits what the server asks (hook below).
    client.sleep_timer = 0.25
    return client


def _wait_for_rate_limit_reset(response: Any, retries: int) -> None:
    # The client's own 429 backoff ignores PagerDuty's `ratelimit-reset` header; waiting for it
    # here (bounded) means the next attempt lands after the window reopens.
    if response.status_code != 429:
        return
    seen: list[int] = response.request.extensions.get(RATE_LIMITED, [])
    seen.append(429)
    if len(seen) > retries:
        return  # the client gives up on this answer: no attempt follows to wait for
    try:
        reset = float(response.headers.get("ratelimit-reset", "0"))
    except ValueError:
        reset = 0.0
    time.sleep(min(max(reset, 0.0), MAX_RATE_LIMIT_WAIT))


def fetch_incident_data(
    client: pagerduty.RestApiV2Client, incident_id: str, max_concurrency: int = 4
) -> dict[str, Any]:
    """Fetch the incident, its log entries, alerts and notes as raw API JSON.

    The incident itself is required (its absence raises `PagerDutyError`); a failure on the
    other three, or a list PagerDuty cannot return whole, is recorded under "errors" (as `Gap`
    records, which the snapshot states) so that a report can still be drafted.
    """
    problem = incident_id_problem(incident_id)
    if problem is not None:
        raise PagerDutyError(problem)
    incident = _get_object(
        client,
        f"/incidents/{quote(incident_id, safe='')}",
        "incident",
        {"include[]": ["priorities", "teams", "conference_bridge", "acknowledgers"]},
        what=f"incident {incident_id}",
    )
    iid = _checked_id(incident)
    lister = _Lister(client, max(1, max_concurrency))
    window = (parse_time(incident["created_at"]), datetime.now(timezone.utc))
    fetchers: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "log_entries": lambda: lister.fetch_all(
            f"/incidents/{iid}/log_entries",
            "log_entries",
            {"include[]": ["channels"], "time_zone": "UTC"},
            window,
        ),
        # The alerts endpoint has no since/until: no window to split past 10,000.
        "alerts": lambda: lister.fetch_all(f"/incidents/{iid}/alerts", "alerts", {}, None),
        "notes": lambda: _get_object(
            client, f"/incidents/{iid}/notes", "notes", {}, what=f"notes of incident {iid}"
        ),
    }
    data: dict[str, Any] = {"incident": incident, "errors": []}
    # Independent requests run side by side: the report waits for round trips, not sums.
    with ThreadPoolExecutor(max_workers=len(fetchers)) as pool:
        futures = {key: pool.submit(fn) for key, fn in fetchers.items()}
        for key, future in futures.items():
            try:
                data[key] = future.result()
            except PagerDutyError as exc:
                data[key] = []
                data["errors"].append(Gap("PagerDuty", key, GapKind.UNFETCHED, str(exc)))
    data["errors"].extend(lister.gaps)
    return data


def _checked_id(incident: Any) -> str:
    # The ID names the report's folder: an answer that is not an ID must go no further.
    iid = incident.get("id") if isinstance(incident, dict) else None
    if not is_incident_id(iid):
        raise PagerDutyError(
            f"PagerDuty answered with an incident whose ID {shorten(str(iid))} is not a"
            " PagerDuty ID (malformed response)"
        )
    try:
        parse_time(incident["created_at"])
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise PagerDutyError(
            f"PagerDuty answered incident {iid} without a valid created_at (malformed response)"
        ) from exc
    return str(iid)


# PagerDuty's incident list accepts a since/until window of at most 6 months.
MAX_LIST_WINDOW = timedelta(days=180)


def list_resolved_incidents(
    client: pagerduty.RestApiV2Client,
    resolved_since: datetime,
    until: datetime,
    *,
    created_lookback: timedelta = timedelta(days=30),
    filters: dict[str, list[str]] | None = None,
    max_concurrency: int = 4,
) -> list[dict[str, Any]]:
    """Incidents resolved in [resolved_since, until], oldest resolve first, as raw JSON.

    The list endpoint filters on creation time, so incidents created up to `created_lookback`
    before the window are asked for and kept when their resolve falls inside it.
    """
    lister = _Lister(client, max(1, max_concurrency))
    params: dict[str, Any] = {"statuses[]": ["resolved"], "time_zone": "UTC"}
    for key, values in (filters or {}).items():
        if values:
            params[f"{key}[]"] = list(values)
    start = resolved_since - created_lookback
    found: dict[str, dict[str, Any]] = {}
    while start < until:
        end = min(start + MAX_LIST_WINDOW, until)
        for item in lister.fetch_all("/incidents", "incidents", params, (start, end), split=True):
            found[item["id"]] = item
        start = end
    resolved = [
        item
        for item in found.values()
        if item.get("resolved_at") and resolved_since <= parse_time(item["resolved_at"]) <= until
    ]
    # Compared as times, not strings: "…Z" and "…+00:00" (or fractions) sort apart as text.
    return sorted(resolved, key=lambda item: (parse_time(item["resolved_at"]), item["id"]))


def post_incident_note(
    settings: PagerDutySettings, ca_bundle: str | None, incident_id: str, content: str
) -> dict[str, Any]:
    """Add a note to the incident as `settings.from_email`; return the note PagerDuty made.

    Needs a token with write access: a read-only one is refused with a PagerDutyError that
    says so.
    """
    what = f"a note on incident {incident_id}"
    with make_client(settings, ca_bundle, default_from=settings.from_email) as client:
        try:
            note = client.rpost(
                f"/incidents/{incident_id}/notes", json={"note": {"content": content}}
            )
        except pagerduty.HttpError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raise PagerDutyError(_explain_note_status(status, what, client)) from exc
        except pagerduty.Error as exc:
            raise PagerDutyError(
                f"cannot add {what} at {client.url}: {type(exc).__name__}"
            ) from exc
    if not isinstance(note, dict):
        raise PagerDutyError(f"PagerDuty answered {what} without a note (malformed response)")
    return note


def _explain_note_status(status: int, what: str, client: pagerduty.RestApiV2Client) -> str:
    if status == 403:
        return (
            f"PagerDuty refused {what} (HTTP 403): the API token is read-only; give it write"
            " access, or set pagerduty.post_note: false"
        )
    if status == 400:
        return (
            f"PagerDuty refused {what} (HTTP 400): PAGERDUTY_FROM_EMAIL must be the email of"
            " a user of the PagerDuty account"
        )
    return _explain_status(status, what, client)


def list_incidents(
    client: pagerduty.RestApiV2Client,
    since: datetime,
    until: datetime,
    *,
    max_concurrency: int = 4,
) -> tuple[list[dict[str, Any]], list[Gap]]:
    """Every incident created in [since, until], any status, with its first trigger entry.

    Returns the incidents as raw JSON, oldest first, and the lists fetched only in part.
    """
    lister = _Lister(client, max(1, max_concurrency))
    params: dict[str, Any] = {"time_zone": "UTC", "include[]": ["first_trigger_log_entries"]}
    found: dict[str, dict[str, Any]] = {}
    start = since
    while start < until:
        end = min(start + MAX_LIST_WINDOW, until)
        for item in lister.fetch_all("/incidents", "incidents", params, (start, end), split=True):
            found[item["id"]] = item
        start = end
    ordered = sorted(found.values(), key=lambda item: (parse_time(item["created_at"]), item["id"]))
    return ordered, lister.gaps


def _get_object(
    client: pagerduty.RestApiV2Client, path: str, key: str, params: dict[str, Any], what: str
) -> Any:
    body = _request_json(client, path, params, what)
    if not isinstance(body, dict) or key not in body:
        raise PagerDutyError(
            f"PagerDuty answered {path} without '{key}': the response is malformed"
        )
    return body[key]


class _Lister:
    """Classic pagination, complete: pages fetched side by side once the total is known, and
    time ranges split in halves where PagerDuty's 10,000-record offset limit would cut."""

    def __init__(self, client: pagerduty.RestApiV2Client, max_concurrency: int) -> None:
        self.client = client
        self.max_concurrency = max_concurrency
        # Lists that could only be fetched in part.
        self.gaps: list[Gap] = []

    def fetch_all(
        self,
        path: str,
        key: str,
        params: dict[str, Any],
        window: tuple[datetime, datetime] | None,
        split: bool = False,
    ) -> list[dict[str, Any]]:
        """Every record of a list endpoint, each once, whatever the count.

        `window` is the since/until range the endpoint can be narrowed to (None: it has no time
        filter); `split` sends it from the first request on.
        """
        bounds: dict[str, str] = {}
        if split and window is not None:
            bounds = {"since": iso_utc(window[0]), "until": iso_utc(window[1])}
        first = self._page(path, key, {**params, **bounds, "total": "true"}, 0)
        total = first.get("total")
        if isinstance(total, int) and total > OFFSET_LIMIT:
            if window is not None:
                return self._split(path, key, params, window)
            # Splitting an endpoint that ignores since/until would only repeat the same list.
            why = (
                f"only the first {OFFSET_LIMIT} of {total} were fetched; PagerDuty's pagination"
                f" stops at {OFFSET_LIMIT} and {path} cannot be narrowed by time"
            )
            self.gaps.append(Gap("PagerDuty", key, GapKind.TRUNCATED, why, OFFSET_LIMIT, total))
            total = OFFSET_LIMIT
        items: list[dict[str, Any]] = list(first[key])
        if isinstance(total, int):
            offsets = range(len(items), total, PAGE_SIZE)
            with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
                pages = pool.map(lambda o: self._page(path, key, {**params, **bounds}, o), offsets)
                for page in pages:
                    items.extend(page[key])
        else:  # a server that gives no total: follow `more`, one page after another
            page = first
            while page.get("more") and page[key]:
                page = self._page(path, key, {**params, **bounds}, len(items))
                items.extend(page[key])
        return list({item.get("id", id(item)): item for item in items}.values())

    def _split(
        self, path: str, key: str, params: dict[str, Any], window: tuple[datetime, datetime]
    ) -> list[dict[str, Any]]:
        start, end = window
        if end - start < timedelta(seconds=2):
            raise PagerDutyError(
                f"{path} has more than {OFFSET_LIMIT} records within one second; PagerDuty's"
                " pagination cannot return them all"
            )
        middle = start + (end - start) / 2
        halves = [(start, middle), (middle, end)]
        parts = [self.fetch_all(path, key, params, half, split=True) for half in halves]
        merged = {item.get("id", id(item)): item for part in parts for item in part}
        return list(merged.values())

    def _page(self, path: str, key: str, params: dict[str, Any], offset: int) -> dict[str, Any]:
        if offset + PAGE_SIZE > OFFSET_LIMIT:
            raise PagerDutyError(
                f"{path}: PagerDuty refuses offsets past {OFFSET_LIMIT}; narrow the time range"
            )
        body = _request_json(
            self.client, path, {**params, "limit": PAGE_SIZE, "offset": offset}, path
        )
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            raise PagerDutyError(f"PagerDuty answered {path} without a '{key}' list (malformed)")
        return body


def _request_json(
    client: pagerduty.RestApiV2Client, path: str, params: dict[str, Any], what: str
) -> Any:
    try:
        response = client.get(path, params=params, extensions={RATE_LIMITED: []})
    except pagerduty.HttpError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        raise PagerDutyError(_explain_status(status, what, client)) from exc
    except pagerduty.Error as exc:
        if isinstance(exc.__cause__, httpx2.TimeoutException):
            raise PagerDutyError(
                f"PagerDuty did not answer {what} within {client.timeout:g} s"
                f" ({client.max_network_attempts + 1} attempts): try again later, or raise"
                " pagerduty.timeout_seconds in the configuration"
            ) from exc
        raise PagerDutyError(
            f"cannot reach PagerDuty at {redact_url(client.url)}: {exc}. Check"
            " PAGERDUTY_BASE_URL and the network; for a private CA set SSL_CERT_FILE"
        ) from exc
    if not response.is_success:
        raise PagerDutyError(_explain_status(response.status_code, what, client))
    try:
        return response.json()
    except ValueError as exc:
        raise PagerDutyError(
            f"PagerDuty answered {path} with a body that is not JSON (malformed response)"
        ) from exc


def _explain_status(status: int, what: str, client: pagerduty.RestApiV2Client) -> str:
    if status == 401:
        return (
            "PagerDuty rejected the API token (HTTP 401): set PAGERDUTY_API_TOKEN to a valid"
            " REST API key"
        )
    if status == 403:
        return (
            f"PagerDuty refused access to {what} (HTTP 403): the token's user or key"
            " lacks permission for it"
        )
    if status == 404:
        return f"PagerDuty has no {what} (HTTP 404): check the incident ID or number"
    if status == 429:
        return (
            f"PagerDuty kept rate-limiting requests for {what} (HTTP 429) after retries;"
            " try again in a minute"
        )
    return f"PagerDuty answered HTTP {status} for {what} at {redact_url(client.url)} after retries"
