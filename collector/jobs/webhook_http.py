"""The webhook's HTTP side: a PagerDuty v3 delivery checked (size, signature, payload) and
answered, `/healthz` and `/metrics`; what to do with a delivery is the receiver's decision.

Plain HTTP, HTTP/1.0, one request a connection: TLS belongs to the ingress in front.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from collector.jobs.monitoring import CONTENT_TYPE
from collector.paths import INCIDENT_ID

MAX_BODY = 64 * 1024
# A too-large body up to this size is read and dropped, so the client gets its 413 cleanly.
MAX_DRAIN = 1024 * 1024
READ_TIMEOUT = 10.0


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


class _Handler(BaseHTTPRequestHandler):
    """POST: a webhook delivery; GET /healthz: liveness. HTTP/1.0, one request a connection."""

    server: WebhookServer
    server_version = "collect-webhook"
    sys_version = ""
    timeout = READ_TIMEOUT  # a client that stalls mid-body is dropped, not waited for

    def do_POST(self) -> None:
        """Check size, then signature, then payload; queue an incident.resolved."""
        raw_length = self.headers.get("Content-Length", "")
        if not raw_length.isdigit():
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
        status, message = self.server.receiver.accept(self.headers, body)
        self._reply(status, message)

    def do_GET(self) -> None:
        """Liveness for orchestrators, and metrics for Prometheus."""
        path = self.path.split("?")[0]
        if path == "/healthz":
            self._reply(200, "ok")
        elif path == "/metrics":
            data = self.server.receiver.metrics_text()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self._reply(404, "not found; PagerDuty webhooks are POSTed")

    def _reply(self, status: int, message: str) -> None:
        data = json.dumps({"status": status, "message": message}).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Access log through the receiver's log."""
        self.server.receiver.log(f"{self.client_address[0]} {format % args}")


class WebhookServer(ThreadingHTTPServer):
    """The listener: each delivery handled in its own thread, and handed to `receiver`."""

    # Handler threads are joined on close: no request is cut off, no socket leaks.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], receiver: Receiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)
