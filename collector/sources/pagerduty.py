"""PagerDuty client: the configured REST client (TLS trust, bounded retries, rate-limit waits),
one request's JSON or the one line that says why it failed, and the note a draft posts.

With `.pagerduty_incident` (an incident's raw data) and `.pagerduty_lists` (complete listings)
this is the only PagerDuty network code. The raw JSON goes into the snapshot;
`collector.snapshot.pagerduty` turns it into typed records.
"""

from __future__ import annotations

import ssl
import time
from functools import partial
from typing import Any

import httpx2
import pagerduty

from collector.config import PagerDutySettings
from collector.errors import SourceError, clause
from collector.redact import redact_url
from collector.sources.http_guard import bounded_transport, redirect_target, send_within

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
        client = _BoundedClient(
            settings.token,
            default_from=default_from,
            base_url=settings.base_url.rstrip("/"),
            verify=verify,
            transport=bounded_transport(verify),
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


class _BoundedClient(pagerduty.RestApiV2Client):
    """The REST client, each of whose attempts (connect, all reads) ends within its timeout:
    httpx2 bounds each read only, and a server trickling bytes would hold the run."""

    def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        return send_within(super().send, request, float(self.timeout), **kwargs)


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
            line = _redirect_line(exc.response, what) or _explain_note_status(status, what, client)
            raise PagerDutyError(line) from exc
        except pagerduty.Error as exc:
            line = _timeout_line(exc, what, client) or (
                f"cannot add {what} at {redact_url(client.url)}: {type(exc).__name__}"
            )
            raise PagerDutyError(line) from exc
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
    return explain_status(status, what, client)


def request_json(
    client: pagerduty.RestApiV2Client, path: str, params: dict[str, Any], what: str
) -> Any:
    """The JSON body of a GET; PagerDutyError, saying why and what to do, on any failure."""
    try:
        response = client.get(path, params=params, extensions={RATE_LIMITED: []})
    except pagerduty.HttpError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        line = _redirect_line(exc.response, what) or explain_status(status, what, client)
        raise PagerDutyError(line) from exc
    except pagerduty.Error as exc:
        timed_out = _timeout_line(exc, what, client)
        if timed_out:
            raise PagerDutyError(timed_out) from exc
        raise PagerDutyError(
            f"cannot reach PagerDuty at {redact_url(client.url)}: {clause(exc)}. Check"
            " PAGERDUTY_BASE_URL and the network; for a private CA set SSL_CERT_FILE"
        ) from exc
    if not response.is_success:
        raise PagerDutyError(explain_status(response.status_code, what, client))
    try:
        return response.json()
    except ValueError as exc:
        raise PagerDutyError(
            f"PagerDuty answered {path} with a body that is not JSON (malformed response)"
        ) from exc


def _timeout_line(exc: pagerduty.Error, what: str, client: pagerduty.RestApiV2Client) -> str:
    """The line for attempts that all ran out of time; empty for another failure."""
    if not isinstance(exc.__cause__, httpx2.TimeoutException):
        return ""
    return (
        f"PagerDuty did not answer {what} within {client.timeout:g} s"
        f" ({client.max_network_attempts + 1} attempts): try again later, or raise"
        " pagerduty.timeout_seconds in the configuration"
    )


def _redirect_line(response: httpx2.Response | None, what: str) -> str:
    """The line for a redirect, never followed: the token goes to PAGERDUTY_BASE_URL only."""
    if response is None or not 300 <= response.status_code < 400:
        return ""
    target = redirect_target(str(response.url), response.headers.get("location"))
    return (
        f"PagerDuty answered {what} with a redirect (HTTP {response.status_code})"
        f" to {target or 'another path'}: not followed, so the API token went nowhere else;"
        " check PAGERDUTY_BASE_URL"
    )


def explain_status(status: int, what: str, client: pagerduty.RestApiV2Client) -> str:
    """The line for an error status that retries did not cure."""
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


def get_object(
    client: pagerduty.RestApiV2Client, path: str, key: str, params: dict[str, Any], what: str
) -> Any:
    """The `key` member of a GET's body (e.g. the incident of /incidents/ID)."""
    body = request_json(client, path, params, what)
    if not isinstance(body, dict) or key not in body:
        raise PagerDutyError(
            f"PagerDuty answered {path} without '{key}': the response is malformed"
        )
    return body[key]
