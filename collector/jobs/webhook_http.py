"""The webhook's HTTP side: a PagerDuty v3 delivery checked (size, signature, payload) and
answered, `/healthz` and `/metrics`; what to do with a delivery is the receiver's decision.

Plain HTTP, HTTP/1.0, one request a connection: TLS belongs to the ingress in front.
Everything a client can make it wait for is bounded: the listen backlog absorbs a burst, each
connection has one deadline for its headers and body together, and closing gives requests in
progress a short grace, then cuts them.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from collector.jobs.monitoring import CONTENT_TYPE
from collector.paths import INCIDENT_ID

MAX_BODY = 64 * 1024
# A too-large body up to this size is read and dropped, so the client gets its 413 cleanly.
MAX_DRAIN = 1024 * 1024
# Headers and body of one request must arrive within this, however they trickle in: a client
# sending a byte (or a header line) now and then must not hold a thread, or a shutdown.
READ_DEADLINE = 10.0
# Writing the (small) answer; a client that does not read it is dropped.
WRITE_TIMEOUT = 5.0
# Connections the kernel completes while the listener is busy: PagerDuty sends bursts during an
# incident storm, and socketserver's default of 5 answered most of 200 with a reset or silence.
BACKLOG = 128
# On close, how long requests being read or answered may take before their sockets are cut.
CLOSE_GRACE = 2.0
# After cutting them, how long cut requests may take to log their last line and end.
CUT_GRACE = 1.0
# Content-Length values longer than this are no body size we would ever read.
_MAX_LENGTH_DIGITS = 12


class Receiver(Protocol):
    """What the HTTP side asks of the receiver behind it."""

    def accept(self, headers: Any, body: bytes) -> tuple[int, str]:
        """Decide one delivery: (HTTP status, message)."""

    def metrics_text(self) -> bytes:
        """The /metrics page."""

    def log(self, message: str) -> None:
        """Say one line."""


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Check `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]` (several during secret rotation)."""
    if not header:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest().encode()
    offered = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    return any(
        hmac.compare_digest(expected, value.encode("latin-1", "replace")) for value in offered
    )


def parse_event(body: bytes) -> tuple[str, str, str | None]:
    """(event type, event id, incident ID for incident.resolved) of a v3 payload.

    Raises ValueError, with the reason, when the payload is not a well-formed v3 event.
    """
    try:
        payload = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise ValueError(f"body is not JSON: {exc}") from exc
    except RecursionError as exc:  # a signed body can still be hostile, or broken
        raise ValueError("body is JSON nested too deeply") from exc
    event = payload.get("event") if isinstance(payload, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("event_type"), str):
        raise ValueError("not a PagerDuty v3 webhook: no event.event_type")
    event_type, event_id = event["event_type"], str(event.get("id") or "")
    if event_type != "incident.resolved":
        return event_type, event_id, None
    data = event.get("data")
    if not isinstance(data, dict) or data.get("type") != "incident":
        raise ValueError("incident.resolved without incident data")
    incident_id = data.get("id")
    if not isinstance(incident_id, str) or not INCIDENT_ID.match(incident_id):
        raise ValueError("incident.resolved without a valid incident ID in event.data.id")
    return event_type, event_id, incident_id


class _DeadlineReader(io.RawIOBase):
    """A socket's reading side that ends at a deadline: each read waits only the time left."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request was not read within its deadline")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


class _Handler(BaseHTTPRequestHandler):
    """POST: a webhook delivery; GET /healthz: liveness. HTTP/1.0, one request a connection."""

    server: WebhookServer
    server_version = "collect-webhook"
    sys_version = ""
    timeout = WRITE_TIMEOUT

    def setup(self) -> None:
        """Read the request through a reader that stops at the connection's deadline."""
        super().setup()
        self.rfile.close()  # the plain reader: left open, it would keep the socket from closing
        deadline = time.monotonic() + self.server.read_deadline
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, deadline))

    def do_POST(self) -> None:
        """Check size, then signature, then payload; queue an incident.resolved."""
        raw_length = self.headers.get("Content-Length", "")
        valid = raw_length.isascii() and raw_length.isdigit()
        if not valid or len(raw_length) > _MAX_LENGTH_DIGITS:
            self._reply(400 if raw_length else 411, "a valid Content-Length is required")
            return
        length = int(raw_length)
        if length > MAX_BODY:
            if length <= MAX_DRAIN:
                self.rfile.read(length)
            self._reply(413, f"body over {MAX_BODY} bytes")
            return
        body = self.rfile.read(length)
        if len(body) < length:
            self._reply(400, "body shorter than Content-Length")
            return
        try:
            status, message = self.server.receiver.accept(self.headers, body)
        except Exception as exc:  # a bug still gets an answer; PagerDuty delivers a 500 again
            self.server.receiver.log(f"error: webhook delivery: {type(exc).__name__}: {exc}")
            status, message = 500, "internal error; deliver again later"
        self._reply(status, message)

    def do_GET(self) -> None:
        """Liveness for orchestrators, and metrics for Prometheus."""
        path = self.path.split("?")[0]
        if path == "/healthz":
            self._reply(200, "ok")
        elif path == "/metrics":
            self._send(200, CONTENT_TYPE, self.server.receiver.metrics_text())
        else:
            self._reply(404, "not found; PagerDuty webhooks are POSTed")

    def _reply(self, status: int, message: str) -> None:
        data = json.dumps({"status": status, "message": message}).encode("utf-8")
        self._send(status, "application/json", data)

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.connection.settimeout(WRITE_TIMEOUT)  # reads left it at their deadline's remains
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Access log through the receiver's log."""
        self.server.receiver.log(f"{self.client_address[0]} {format % args}")


class WebhookServer(ThreadingHTTPServer):
    """The listener: each delivery handled in its own thread, and handed to `receiver`."""

    request_queue_size = BACKLOG
    # Handler threads never hold the process: `close` bounds how long they may still run.
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], receiver: Receiver, read_deadline: float = READ_DEADLINE
    ) -> None:
        self.receiver, self.read_deadline = receiver, read_deadline
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Handle one connection, known to `close` while it lasts."""
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def close(self, grace: float = CLOSE_GRACE) -> None:
        """Stop listening at once; give requests in progress `grace` seconds, then cut them."""
        self.server_close()
        deadline = time.monotonic() + grace
        while self._open and time.monotonic() < deadline:
            time.sleep(0.02)
        with self._open_lock:
            left = list(self._open)
        for sock in left:
            try:  # wakes a handler waiting on the client; its answer, if any, fails quietly
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # A cut handler still logs one line: let it, or a daemon thread holding stderr's lock
        # at interpreter exit aborts the process (SIGABRT) after a clean stop.
        deadline = time.monotonic() + CUT_GRACE
        while self._open and time.monotonic() < deadline:
            time.sleep(0.01)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, never a traceback: a client that hung up early is no error of ours."""
        error = sys.exc_info()[1]
        who = client_address[0] if client_address else "?"
        if isinstance(error, ConnectionError):
            self.receiver.log(f"{who} closed the connection early ({type(error).__name__})")
        else:
            self.receiver.log(f"error: answering {who}: {type(error).__name__}: {error}")
