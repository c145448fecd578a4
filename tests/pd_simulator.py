"""PagerDuty REST API v2 simulator: fixture-backed, HTTPS on loopback, with fault injection.

PagerDuty cannot be reached from the test machines, and the official client refuses plain
``http://`` base URLs, so tests talk to this server over TLS signed by a throw-away ``trustme``
CA. It is read-only and serves the incidents found in a fixture directory (one JSON file per
incident: ``{"incident": ..., "log_entries": [...], "alerts": [...], "notes": [...]}``, log
entries in chronological order).

Behaviour follows the real API where it is documented (see
``shared/reference/pagerduty-prometheus-api.md`` §2-4):

* auth: ``Authorization: Token token=<token>`` or ``Bearer <token>``; anything else is a 401;
* classic pagination (``limit`` default 25, clamped to 100; ``offset``; ``more``; ``total`` is
  null unless ``total=true``; ``offset + limit > 10000`` is a 400);
* log entries come back **newest first**, the way the API returns them; without
  ``include[]=channels`` each ``channel`` is cut down to ``{"type": ...}``;
* ``conference_bridge`` is only returned with ``include[]=conference_bridge``;
* ``GET /incidents`` filters ``created_at`` on a ``since``/``until`` window that defaults to
  the last month and may not exceed six months (``date_range=all`` lifts it);
* ``time_zone`` renders timestamps of log entries and incident lists in that zone;
* ``ratelimit-limit``/``-remaining``/``-reset`` headers on every rate-evaluated answer, and a
  429 with ``{"error": {"message": "Rate Limit Exceeded", "code": 2020}}`` past the limit;
* the one write: ``POST /incidents/{id}/notes`` with ``{"note": {"content": ...}}`` answers
  ``201 {"note": ...}`` and lists the note from then on; it needs a ``From`` header holding an
  email (400 without), and a token given in ``read_only_tokens`` is refused with 403.
"""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import trustme

Json = dict[str, Any]
Query = dict[str, list[str]]

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
ITERATION_LIMIT = 10_000
# Documented limit for account API keys; advertised in headers when no limit is enforced.
NOMINAL_RATE_LIMIT = 960
# Idle keep-alive connections are dropped after this long, like any real front end would.
IDLE_TIMEOUT = 30.0
# Message and PagerDuty error code per HTTP status (developer docs, "Errors").
ERROR_BODIES: dict[int, tuple[str, int]] = {
    400: ("Invalid Input Provided", 2001),
    401: ("Authentication failed", 2006),
    403: ("Access Denied", 2010),
    404: ("Not Found", 2100),
    408: ("The request took too long to process", 2016),
    429: ("Rate Limit Exceeded", 2020),
    500: ("An internal error has occurred. PagerDuty team has been notified.", 2000),
}
# Gateway errors come from the load balancer, not the API: HTML, not JSON.
GATEWAY_STATUSES = frozenset({502, 503, 504})
FAULT_KINDS = frozenset({"malformed", "timeout", "empty"})
# "Most important changes" for is_overview=true: notifications and escalation-path
# bookkeeping are left out, state changes and notes stay.
NOT_OVERVIEW = frozenset(
    {
        "notify_log_entry",
        "repeat_escalation_path_log_entry",
        "exhaust_escalation_path_log_entry",
        "reach_ack_limit_log_entry",
        "reach_trigger_limit_log_entry",
    }
)
TIME_KEYS = frozenset(
    {
        "created_at",
        "updated_at",
        "last_status_change_at",
        "resolved_at",
        "at",
        "started_at",
        "ended_at",
        "requested_at",
    }
)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
INCIDENT_SORT_FIELDS = frozenset({"incident_number", "created_at", "resolved_at", "urgency"})
ALERT_SORT_FIELDS = frozenset({"created_at", "resolved_at"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator saw it (header names lower-cased) and the status sent."""

    method: str
    path: str
    query: Query
    status: int
    headers: dict[str, str]
    body: object | None = None  # the decoded JSON of a POST


@dataclass(frozen=True)
class RecordedResponse:
    """One answer; ``body`` is the decoded JSON, or None when the body was not JSON."""

    method: str
    path: str
    status: int
    body: object | None
    headers: dict[str, str]


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    fault: int | str
    remaining: int
    headers: dict[str, str]


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    json_body: object | None = None


class ApiError(Exception):
    """An error answer in PagerDuty's shape: ``{"error": {"message", "code", "errors"}}``."""

    def __init__(
        self,
        status: int,
        details: Iterable[str] = (),
        *,
        message: str | None = None,
        code: int | None = None,
    ) -> None:
        default_message, default_code = ERROR_BODIES.get(status, (HTTPStatus(status).phrase, 2000))
        self.status = status
        self.message = message or default_message
        self.code = code or default_code
        self.details = list(details)
        super().__init__(f"{status} {self.message}")

    def body(self) -> Json:
        """Return the JSON error object."""
        error: Json = {"message": self.message, "code": self.code}
        if self.details:
            error["errors"] = self.details
        return {"error": error}


def _json_reply(status: int, body: object, headers: dict[str, str] | None = None) -> _Reply:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return _Reply(
        status, data, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body
    )


def _decode(raw: bytes) -> object | None:
    """A request body as JSON, or None when it is empty or not JSON."""
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except ValueError:
        return None


def _from_iso(text: str) -> datetime:
    """Parse an API timestamp; ``Z`` is spelled out for Python 3.10's ``fromisoformat``."""
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


def _parse_time(text: str, name: str, zone: tzinfo | None = None) -> datetime:
    """Parse ``since``/``until``: ISO 8601 datetime or date; naive values are in ``zone``."""
    try:
        moment = _from_iso(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            raise ApiError(
                400,
                [f"{name} is not a valid time: {text!r}"],
                message="Invalid time values in 'since' and/or 'until' parameters",
                code=2004,
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone or timezone.utc)


def _created(item: Json) -> datetime:
    return _from_iso(item["created_at"])


def _months_before(moment: datetime, months: int) -> datetime:
    """Calendar arithmetic for the list window (one month default, six at most)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def _values(query: Query, name: str) -> list[str]:
    """Values of an array parameter, sent as ``name[]=a&name[]=b`` (or without brackets)."""
    return query.get(f"{name}[]", []) + query.get(name, [])


def _single(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _int_param(query: Query, name: str, default: int) -> int:
    raw = _single(query, name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, [f"{name} must be an integer"]) from None


def _bool_param(query: Query, name: str) -> bool:
    raw = (_single(query, name) or "false").lower()
    if raw not in ("true", "false"):
        raise ApiError(400, [f"{name} must be true or false"])
    return raw == "true"


def _time_zone(query: Query) -> tzinfo | None:
    name = _single(query, "time_zone")
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, [f"Invalid time zone: {name!r}"]) from None


def _render_times(value: Any, zone: tzinfo | None, key: str = "") -> Any:
    """Rewrite timestamps into ``zone`` (offset notation, ``Z`` for UTC), as the API does."""
    if zone is None:
        return value
    if isinstance(value, dict):
        return {k: _render_times(v, zone, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_times(v, zone, key) for v in value]
    if key in TIME_KEYS and isinstance(value, str):
        local = _from_iso(value).astimezone(zone)
        text = local.isoformat(timespec="seconds")
        return text.replace("+00:00", "Z")
    return value


def _paginate(items: list[Json], query: Query, wrapper: str) -> Json:
    """Classic pagination envelope over an already filtered and ordered list."""
    limit = _int_param(query, "limit", DEFAULT_LIMIT)
    offset = _int_param(query, "offset", 0)
    if limit < 1 or offset < 0:
        raise ApiError(400, ["limit must be positive and offset must not be negative"])
    limit = min(limit, MAX_LIMIT)
    if offset + limit > ITERATION_LIMIT:
        raise ApiError(400, [f"Offset + limit must not exceed {ITERATION_LIMIT}"])
    page = items[offset : offset + limit]
    total = len(items) if _bool_param(query, "total") else None
    return {
        wrapper: page,
        "limit": limit,
        "offset": offset,
        "more": offset + len(page) < len(items),
        "total": total,
    }


def _sort(items: list[Json], specs: list[str], allowed: frozenset[str]) -> list[Json]:
    """Apply ``field[:asc|:desc]`` sort specs (at most two, comma separated)."""
    parsed: list[tuple[str, bool]] = []
    for spec in specs:
        name, _, direction = spec.partition(":")
        if name not in allowed or direction not in ("", "asc", "desc") or len(parsed) == 2:
            raise ApiError(400, [f"Invalid sort_by: {spec!r}"])
        parsed.append((name, direction == "desc"))
    result = list(items)
    # Stable sorts applied from the last key to the first give a multi-key sort.
    for name, descending in reversed(parsed):
        result.sort(key=partial(_sort_key, name), reverse=descending)
    return result


def _sort_key(name: str, item: Json) -> tuple[int, Any]:
    """Order by one field; timestamps as instants, nulls after values when ascending."""
    value = item.get(name)
    if value is None:
        return (1, "")
    if isinstance(value, str) and value[:4].isdigit():
        return (0, _from_iso(value))
    return (0, value)


def _window(query: Query, now: datetime, zone: tzinfo | None) -> tuple[datetime, datetime] | None:
    """The ``created_at`` window of ``GET /incidents``; None for ``date_range=all``."""
    if _single(query, "date_range") == "all":
        return None
    raw_since, raw_until = _single(query, "since"), _single(query, "until")
    until = _parse_time(raw_until, "until", zone) if raw_until else now
    since = _parse_time(raw_since, "since", zone) if raw_since else _months_before(until, 1)
    if since > until or since < _months_before(until, 6):
        raise ApiError(
            400,
            ["The date range may span at most 6 months"],
            message="Invalid Query Date Range",
            code=2005,
        )
    return since, until


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the simulator; keep-alive like the real HTTP/1.1 front end."""

    protocol_version = "HTTP/1.1"
    server: _TlsServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output should not be flooded with access logs."""

    def do_GET(self) -> None:
        """Serve a read request."""
        self.server.simulator._serve(self)

    def _read_only(self) -> None:
        # Drain the body so the keep-alive connection stays in sync, then refuse.
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.simulator._serve(self)

    def do_POST(self) -> None:
        """Serve a write request (only notes are writable)."""
        length = int(self.headers.get("Content-Length") or 0)
        self.server.simulator._serve(self, self.rfile.read(length) if length else b"")

    do_PUT = do_DELETE = do_PATCH = _read_only


class _TlsServer(ThreadingHTTPServer):
    """Threading HTTP server that performs the TLS handshake in the worker thread."""

    # Joining worker threads on close is what keeps sockets from leaking between tests.
    block_on_close = True

    def __init__(self, simulator: PagerDutySimulator, context: ssl.SSLContext) -> None:
        self.simulator = simulator
        self.context = context
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        self._closing = False
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Wrap the connection in TLS, serve it, and make it interruptible by ``stop()``."""
        # A duplicate descriptor of the same TCP connection lets stop() shut it down
        # without touching the SSL object another thread is reading from.
        watch = request.dup()
        with self._live_lock:
            if self._closing:
                watch.close()
                return
            self._live.add(watch)
        try:
            request.settimeout(IDLE_TIMEOUT)
            tls = self.context.wrap_socket(request, server_side=True)
            try:
                self.RequestHandlerClass(tls, client_address, self)
            finally:
                tls.close()
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass  # clients hang up, time out or fail the handshake: that is their business
        except OSError:
            if not self._closing:  # otherwise stop() shut the socket down under the handler
                raise
        finally:
            with self._live_lock:
                self._live.discard(watch)
            watch.close()

    def close_connections(self) -> None:
        """Shut down every open client connection so that worker threads return."""
        with self._live_lock:
            self._closing = True
            for sock in self._live:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep unexpected server errors for the tests instead of printing them."""
        error = sys.exc_info()[1]
        if error is not None:
            self.simulator.errors.append(error)


class PagerDutySimulator:
    """A PagerDuty REST API v2 over HTTPS on 127.0.0.1, served from fixtures (reads, and notes)."""

    timeout_sleep: float = 5.0

    def __init__(
        self,
        incidents_dir: Path,
        token: str = "test-token",
        *,
        read_only_tokens: Iterable[str] = (),
        delay: float = 0.0,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
    ) -> None:
        self.token = token
        self.read_only_tokens = frozenset(read_only_tokens)
        self.delay = delay
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.requests: list[RecordedRequest] = []
        self.responses: list[RecordedResponse] = []
        self.errors: list[BaseException] = []
        # Clock for the default /incidents window; tests may replace it.
        self.now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._incidents: dict[str, Json] = {}
        self._faults: list[_Fault] = []
        self._window_start: float | None = None
        self._window_count = 0
        self._server: _TlsServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: Path | None = None
        for path in sorted(Path(incidents_dir).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            try:
                self.add_incident(data)
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{path}: not an incident fixture ({error})") from error

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> PagerDutySimulator:
        """Create the CA and certificate, bind a free port and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="pd-simulator-"))
        ca.cert_pem.write_to_path(str(self._tmpdir / "ca.pem"))
        self._stopping.clear()
        self._server = _TlsServer(self, context)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="pd-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread; idempotent."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()  # wakes handlers sleeping in delay/timeout faults
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()
        self._server = self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> PagerDutySimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:<port>``; only valid once started."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_path(self) -> Path:
        """PEM file of the test CA that signed the server certificate."""
        if self._tmpdir is None:
            raise RuntimeError("simulator not started")
        return self._tmpdir / "ca.pem"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting the test CA (httpx2 deprecates ``verify=<path str>``)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    # -- configuration ---------------------------------------------------------------------

    def add_incident(self, data: Json) -> None:
        """Serve another incident (same shape as the fixture files)."""
        incident = copy.deepcopy(data)
        record = incident["incident"]
        for key in ("log_entries", "alerts", "notes"):
            if not isinstance(incident[key], list):
                raise ValueError(f"{key} must be a list")
        # Stored oldest first whatever the input order; the API's order is applied on output.
        incident["log_entries"].sort(key=_created)
        with self._lock:
            self._incidents[str(record["id"])] = incident
            self._incidents[str(record["incident_number"])] = incident

    def inject(
        self,
        path_regex: str,
        fault: int | str,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests whose path matches ``path_regex`` with a fault.

        ``path_regex`` is searched (``re.search``) in the URL path, without the query string;
        faults are consumed in the order they were injected.

        ``fault`` is an HTTP status (error body in PagerDuty's shape; HTML for 502/503/504),
        ``"malformed"`` (200 with a truncated JSON body), ``"empty"`` (200 with ``{}``) or
        ``"timeout"`` (answer normally, but only after ``timeout_sleep`` seconds). ``headers``
        are sent with the fault; an injected 429 has no ratelimit headers unless given here.
        """
        if isinstance(fault, int):
            if not 100 <= fault <= 599:
                raise ValueError(f"not an HTTP status: {fault}")
        elif fault not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault {fault!r}; expected a status or one of {sorted(FAULT_KINDS)}"
            )
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(_Fault(re.compile(path_regex), fault, times, dict(headers or {})))

    # -- request handling ------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler, raw_body: bytes = b"") -> None:
        """Answer one request: record it, then write the reply (record first: no race)."""
        split = urlsplit(handler.path)
        query = parse_qs(split.query, keep_blank_values=True)
        method = handler.command
        headers = {name.lower(): value for name, value in handler.headers.items()}
        body = _decode(raw_body)
        try:
            reply = self._answer(method, split.path, query, headers, body)
        except Exception as error:  # a simulator bug must surface, not hang the client
            self.errors.append(error)
            reply = _json_reply(500, ApiError(500).body())
        with self._lock:
            self.requests.append(
                RecordedRequest(method, split.path, query, reply.status, headers, body)
            )
            self.responses.append(
                RecordedResponse(
                    method, split.path, reply.status, reply.json_body, dict(reply.headers)
                )
            )
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)

    def _answer(
        self, method: str, path: str, query: Query, headers: dict[str, str], body: object
    ) -> _Reply:
        if self.delay:
            self._stopping.wait(self.delay)
        fault = self._take_fault(path)
        if fault is not None:
            if fault.fault == "timeout":
                self._stopping.wait(self.timeout_sleep)
            else:
                return self._fault_reply(fault)
        token = self._token(headers.get("authorization"))
        if token is None:
            return _json_reply(401, ApiError(401).body())
        allowed, rate_headers = self._take_rate_slot()
        if not allowed:
            return _json_reply(429, ApiError(429).body(), rate_headers)
        try:
            if method == "POST":
                created = self._write(path, headers, body, read_only=token != self.token)
                return _json_reply(201, created, rate_headers)
            if method != "GET":
                raise ApiError(404, [f"{method} is not supported by this simulator"])
            answer = self._route(path, query)
        except ApiError as error:
            return _json_reply(error.status, error.body(), rate_headers)
        return _json_reply(200, answer, rate_headers)

    def _write(self, path: str, headers: dict[str, str], body: object, read_only: bool) -> Json:
        """``POST /incidents/{id}/notes``: the only write the simulator accepts."""
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "incidents" or parts[2] != "notes":
            raise ApiError(404, ["POST is only supported on /incidents/{id}/notes"])
        incident = self._find(parts[1])
        if read_only:
            raise ApiError(403, ["The API key is read-only"])
        sender = headers.get("from", "")
        if not EMAIL.match(sender):
            raise ApiError(400, ["A valid From header (a user's email) is required"])
        note = body.get("note") if isinstance(body, dict) else None
        content = note.get("content") if isinstance(note, dict) else None
        if not isinstance(content, str) or not content:
            raise ApiError(400, ["note.content is required"])
        with self._lock:
            number = len(incident["notes"]) + 1
            created = {
                "id": f"PNOTE{number:02d}",
                "user": {
                    "id": "PUSER01",
                    "type": "user_reference",
                    "summary": sender,
                    "self": "https://api.pagerduty.com/users/PUSER01",
                    "html_url": "https://acme.pagerduty.com/users/PUSER01",
                },
                "channel": {"summary": "The PagerDuty website or APIs"},
                "content": content,
                "created_at": self.now().isoformat(timespec="seconds").replace("+00:00", "Z"),
            }
            incident["notes"].append(created)
        return {"note": copy.deepcopy(created)}

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.pattern.search(path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @staticmethod
    def _fault_reply(fault: _Fault) -> _Reply:
        if fault.fault == "malformed":
            body = b'{"incident": {"id": "P7DB'  # cut mid-string, like a dropped connection
            return _Reply(
                200, body, {"Content-Type": "application/json; charset=utf-8", **fault.headers}
            )
        if fault.fault == "empty":
            return _json_reply(200, {}, fault.headers)
        status = int(fault.fault)
        if status in GATEWAY_STATUSES:
            phrase = HTTPStatus(status).phrase
            html = f"<html><body><h1>{status} {phrase}</h1></body></html>\n".encode()
            return _Reply(status, html, {"Content-Type": "text/html", **fault.headers})
        return _json_reply(status, ApiError(status).body(), fault.headers)

    def _token(self, authorization: str | None) -> str | None:
        """The known token the request carries, or None (a 401)."""
        value = (authorization or "").strip()
        for token in (self.token, *self.read_only_tokens):
            if value in (f"Token token={token}", f"Bearer {token}"):
                return token
        return None

    def _take_rate_slot(self) -> tuple[bool, dict[str, str]]:
        """Count one request in a fixed window; return (allowed, ratelimit-* headers)."""
        with self._lock:
            now = time.monotonic()
            if self._window_start is None or now - self._window_start >= self.rate_window:
                self._window_start, self._window_count = now, 0
            self._window_count += 1
            limit = self.rate_limit if self.rate_limit is not None else NOMINAL_RATE_LIMIT
            reset = max(1, math.ceil(self._window_start + self.rate_window - now))
            headers = {
                "ratelimit-limit": str(limit),
                "ratelimit-remaining": str(max(limit - self._window_count, 0)),
                "ratelimit-reset": str(reset),
            }
            allowed = self.rate_limit is None or self._window_count <= self.rate_limit
        return allowed, headers

    def _route(self, path: str, query: Query) -> Json:
        parts = path.strip("/").split("/")
        if parts[0] != "incidents" or len(parts) > 3 or path.endswith("/"):
            raise ApiError(404)
        if len(parts) == 1:
            return self._list_incidents(query)
        incident = self._find(parts[1])
        if len(parts) == 2:
            return {"incident": self._present_incident(incident, set(_values(query, "include")))}
        handlers = {
            "log_entries": self._log_entries,
            "alerts": self._alerts,
            "notes": lambda inc, _q: {"notes": copy.deepcopy(inc["notes"])},
        }
        if parts[2] not in handlers:
            raise ApiError(404)
        return handlers[parts[2]](incident, query)

    def _find(self, key: str) -> Json:
        with self._lock:
            incident = self._incidents.get(key)
        if incident is None:
            raise ApiError(404)
        return incident

    def _present_incident(self, data: Json, includes: set[str]) -> Json:
        incident = copy.deepcopy(data["incident"])
        if "conference_bridge" not in includes:
            incident.pop("conference_bridge", None)
        if "first_trigger_log_entries" in includes:
            wanted = incident["first_trigger_log_entry"]["id"]
            for entry in data["log_entries"]:
                if entry["id"] == wanted:
                    incident["first_trigger_log_entry"] = _strip_channel(copy.deepcopy(entry))
        return incident

    def _list_incidents(self, query: Query) -> Json:
        zone = _time_zone(query)
        window = _window(query, self.now(), zone)
        includes = set(_values(query, "include"))
        filters = {"status": _values(query, "statuses"), "urgency": _values(query, "urgencies")}
        services, teams = set(_values(query, "service_ids")), set(_values(query, "team_ids"))
        users, key = set(_values(query, "user_ids")), _single(query, "incident_key")
        with self._lock:
            unique = {id(data): data for data in self._incidents.values()}.values()
        selected = []
        for data in unique:
            incident = data["incident"]
            if window and not window[0] <= _created(incident) < window[1]:
                continue
            if any(values and incident[name] not in values for name, values in filters.items()):
                continue
            if services and incident["service"]["id"] not in services:
                continue
            if teams and not teams & {team["id"] for team in incident.get("teams", [])}:
                continue
            assignees = {a["assignee"]["id"] for a in incident.get("assignments", [])}
            if (users and not users & assignees) or (key and incident.get("incident_key") != key):
                continue
            selected.append(data)
        selected.sort(key=lambda data: _created(data["incident"]))
        specs = [spec for raw in query.get("sort_by", []) for spec in raw.split(",") if spec]
        ordered = _sort([d["incident"] for d in selected], specs, INCIDENT_SORT_FIELDS)
        by_id = {d["incident"]["id"]: d for d in selected}
        page = _paginate(ordered, query, "incidents")
        page["incidents"] = [
            _render_times(self._present_incident(by_id[i["id"]], includes), zone)
            for i in page["incidents"]
        ]
        return page

    def _log_entries(self, data: Json, query: Query) -> Json:
        zone = _time_zone(query)
        entries: list[Json] = data["log_entries"]
        since, until = _single(query, "since"), _single(query, "until")
        if since:
            start = _parse_time(since, "since")
            entries = [e for e in entries if _created(e) >= start]
        if until:
            end = _parse_time(until, "until")
            entries = [e for e in entries if _created(e) < end]
        if _bool_param(query, "is_overview"):
            entries = [e for e in entries if e["type"] not in NOT_OVERVIEW]
        # Stored oldest first; the API answers newest first.
        page = _paginate(entries[::-1], query, "log_entries")
        with_channels = "channels" in _values(query, "include")
        page["log_entries"] = [
            _render_times(
                copy.deepcopy(e) if with_channels else _strip_channel(copy.deepcopy(e)), zone
            )
            for e in page["log_entries"]
        ]
        return page

    def _alerts(self, data: Json, query: Query) -> Json:
        statuses = set(_values(query, "statuses"))
        key = _single(query, "alert_key")
        alerts = [
            alert
            for alert in data["alerts"]
            if (not statuses or alert["status"] in statuses)
            and (not key or alert["alert_key"] == key)
        ]
        specs = [spec for raw in query.get("sort_by", []) for spec in raw.split(",") if spec]
        ordered = _sort(sorted(alerts, key=_created), specs, ALERT_SORT_FIELDS)
        page = _paginate(ordered, query, "alerts")
        page["alerts"] = copy.deepcopy(page["alerts"])
        return page


def _strip_channel(entry: Json) -> Json:
    """Without ``include[]=channels`` the API only tells which kind of channel it was."""
    channel = entry.get("channel")
    if isinstance(channel, dict):
        entry["channel"] = {"type": channel.get("type")}
    return entry
