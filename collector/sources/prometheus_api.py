"""Prometheus connection: the configured client (TLS trust, auth, bounded retries), the query
API's whole answers, and one line saying why a request failed and what to do.

`collector.sources.prometheus` (range queries), `.prometheus_rules` and `.fleet` talk to
Prometheus through this module only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from collector.config import PrometheusSettings
from collector.errors import SourceError, clause
from collector.redact import redact_url
from collector.snapshot.samples import MalformedSamples, read_samples
from collector.sources.http_guard import BoundedAdapter, GuardedSession, RedirectRefused

# How many tries a request gets: the first, then urllib3's retries (see `connect`).
ATTEMPTS = 3


class MalformedAnswer(SourceError, ValueError):
    """Prometheus answered 200 with a body that is not the query API's result.

    Also a ValueError: it is caught with the library errors of MALFORMED_ERRORS, and said the
    same way (`explain_malformed`)."""


# What reading an answer that is not the query API's JSON raises (a proxy's HTML page, a
# `"result": "weird"`, a sample "abc"): said as a malformed answer, in every mode.
MALFORMED_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)


class QueryFailed(SourceError):
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


def connect(
    session: GuardedSession, settings: PrometheusSettings, ca_bundle: str | None
) -> PrometheusConnect:
    """A client of the configured server on `session` (TLS trust, auth, bounded retries; each
    attempt bounded in total time, and no credential sent to another server: `http_guard`)."""
    # TLS trust: the configured CA bundle, else the system's; never off unless asked for.
    session.verify = False if settings.insecure_skip_verify else (ca_bundle or True)
    headers = dict(settings.headers)
    if settings.bearer_token:
        headers["Authorization"] = f"Bearer {settings.bearer_token}"
    if asks_plain(settings) and not any(k.lower() == "accept-encoding" for k in headers):
        headers["Accept-Encoding"] = "identity"  # plain JSON: no gzip on either end
    retry = Retry(
        total=ATTEMPTS - 1,
        backoff_factor=0.3,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=None,
        raise_on_status=False,
    )
    connection = PrometheusConnect(
        url=settings.url.rstrip("/"),
        headers=headers or None,
        auth=settings.basic_auth,
        retry=retry,
        session=session,
        timeout=settings.timeout,
    )
    # The client mounts a plain adapter of its own for its URL: bounded again, same retries.
    session.mount(connection.url, BoundedAdapter(max_retries=retry))
    return connection


# Host names of a private network: a cluster's services, a compose file's, an internal zone's.
PRIVATE_NAME_ENDINGS = (".svc", ".cluster.local", ".internal", ".local", ".lan", ".localdomain")


def asks_plain(settings: PrometheusSettings) -> bool:
    """Whether answers are asked for as plain JSON (`prometheus.compress`).

    "auto" asks plain from a server on this host or a private network, where 48 MB of JSON
    cross faster than gzip is made (a 2,000-series answer costs Prometheus 2 to 3 CPU seconds
    more compressed; benchmarks/README.md), and gzip elsewhere. Told from the URL alone,
    without a name lookup: an IP address that is loopback, private or link-local; `localhost`;
    a name without a dot (a compose service, a cluster's short name); or a name ending as a
    private zone does (`PRIVATE_NAME_ENDINGS`).
    """
    if settings.compress != "auto":
        return not settings.compress
    try:
        host = (urlsplit(settings.url).hostname or "").rstrip(".").lower()
    except ValueError:  # "http://[::1": said by the request that fails on it
        return False
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith(PRIVATE_NAME_ENDINGS)
    return address.is_loopback or address.is_private or address.is_link_local


class QueryApi:
    """GET the query API through the client's session (TLS, auth, retries), keeping the whole
    answer: PrometheusConnect returns only `data.result`, and its errors only as text."""

    def __init__(
        self, session: GuardedSession, connection: PrometheusConnect, settings: PrometheusSettings
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
        # Not JSON: a ValueError, said as a malformed body.
        body = response.json(object_hook=read_answer_samples)
        return Answer(body["data"]["result"], [str(w) for w in body.get("warnings") or ()])


def read_answer_samples(value: dict[str, Any]) -> dict[str, Any]:
    """A JSON object hook: each series' `[time, value]` samples read into `Samples` as the
    answer is parsed, so that each series' lists are freed before the next is read (a big
    incident brings millions of samples). Anything but a list of number pairs is left as it
    came: the answer's check (`sources.prometheus.checked_series`) refuses it."""
    samples = value.get("values")
    if "metric" not in value or not isinstance(samples, list):
        return value
    try:
        value["values"] = read_samples(samples)
    except MalformedSamples:
        pass
    return value


def _error_text(response: requests.Response) -> str:
    # Prometheus says what went wrong in the body's `error` field; a proxy's page has none.
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    return str(error) if error else (response.text.strip()[:300] or response.reason or "")


def explain_failure(exc: BaseException, settings: PrometheusSettings) -> str | None:
    """One line saying why a request failed and what to do; None for a foreign error."""
    if isinstance(exc, RedirectRefused):
        return (
            f"Prometheus at {redact_url(settings.url)} redirected to {exc.target}, another"
            " server: not followed, so no header or credential was sent there; set"
            " PROMETHEUS_URL to the server that answers the query API"
        )
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return _explain_unreachable(exc, settings)
    if isinstance(exc, QueryFailed):
        return _explain_query_error(exc.status, exc.text)
    if isinstance(exc, (PrometheusApiClientException, requests.exceptions.RequestException)):
        return _explain_query_error(0, str(exc)[:300])
    return None


def explain_malformed(settings: PrometheusSettings) -> str:
    """The line for an answer that is not the query API's JSON (a proxy's page, say)."""
    return (
        f"Prometheus at {redact_url(settings.url)} answered with a malformed body (not the"
        " query API's JSON): check PROMETHEUS_URL, including any path prefix"
    )


def _explain_unreachable(
    exc: requests.exceptions.RequestException, settings: PrometheusSettings
) -> str:
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


def _explain_query_error(status: int, text: str) -> str:
    # Prometheus's own `error` text is the useful bit, and the status says whose fault it is.
    if status in (401, 403):
        return (
            f"Prometheus refused access (HTTP {status}): set PROMETHEUS_BEARER_TOKEN or"
            f" PROMETHEUS_USERNAME/PROMETHEUS_PASSWORD, or prometheus.headers ({clause(text)})"
        )
    if status in (400, 422):
        return f"Prometheus rejected the query: {text}"
    if status:
        return f"Prometheus answered HTTP {status}: {text}"
    return f"Prometheus query failed: {text}"
