"""Webhook mode: receive PagerDuty v3 webhooks and draft on incident.resolved.

A delivery is answered as soon as it is verified and written to a queue on disk
(`OUT/.webhook-queue/`, one file per delivery), well within PagerDuty's 5 seconds. One worker
thread drains the queue with the batch mode's exactly-once rule (`collector.jobs.batch.draft_once`),
and deletes a queue file only once its incident is drafted, or after its last retry, when the
event moves to `OUT/.webhook-failed/`. Pending files are picked up again after a restart.
Plain HTTP: TLS belongs to the ingress or reverse proxy in front.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from collector.config import Config, ConfigError
from collector.jobs.batch import INCIDENT_ID, clean_leftovers, draft_once
from collector.jobs.monitoring import CONTENT_TYPE, CollectorMetrics
from collector.output import REPORT

Log = Callable[[str], None]

MAX_BODY = 64 * 1024
# A too-large body up to this size is read and dropped, so the client gets its 413 cleanly.
MAX_DRAIN = 1024 * 1024
READ_TIMEOUT = 10.0
QUEUE_DIR = ".webhook-queue"
FAILED_DIR = ".webhook-failed"
# Waits between attempts at a failing draft; after the last one the event is failed for good.
RETRY_DELAYS: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0)
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


@dataclass(frozen=True)
class QueuedEvent:
    """One accepted incident.resolved delivery, as kept in the queue folder."""

    key: str
    incident_id: str
    webhook_id: str
    event_id: str
    received_at: str
    attempts: int = 0
    next_attempt: float = 0.0
    last_error: str = ""


class EventQueue:
    """Queue files under OUT/.webhook-queue/, written atomically and durably."""

    def __init__(self, out_dir: Path) -> None:
        self.pending = out_dir / QUEUE_DIR
        self.failed = out_dir / FAILED_DIR

    def prepare(self) -> None:
        """Create the folders; drop half-written files (their delivery was never answered)."""
        for folder in (self.pending, self.failed):
            folder.mkdir(parents=True, exist_ok=True)
            for partial in folder.glob(".tmp-*"):
                partial.unlink(missing_ok=True)

    def contains(self, key: str) -> bool:
        """True when this delivery is already queued or has failed for good."""
        name = f"{key}.json"
        return (self.pending / name).exists() or (self.failed / name).exists()

    def put(self, event: QueuedEvent) -> None:
        """Write the event so that it survives a crash the moment this returns."""
        _write_durably(self.pending / f"{event.key}.json", asdict(event))

    def next_due(self, now: float) -> tuple[QueuedEvent | None, float | None]:
        """The oldest event due now, or None and how long until the next one is due."""
        events = []
        for path in self.pending.glob("*.json"):
            event = self._read(path)
            if event is not None:
                events.append(event)
        events.sort(key=lambda e: (e.next_attempt, e.received_at, e.key))
        if not events:
            return None, None
        if events[0].next_attempt <= now:
            return events[0], None
        return None, events[0].next_attempt - now

    def done(self, event: QueuedEvent) -> None:
        """Forget a drafted (or already drafted) event."""
        (self.pending / f"{event.key}.json").unlink(missing_ok=True)

    def retry_later(self, event: QueuedEvent, error: str, delay: float) -> None:
        """Count a failed attempt and schedule the next one."""
        later = replace(
            event, attempts=event.attempts + 1, next_attempt=time.time() + delay, last_error=error
        )
        _write_durably(self.pending / f"{event.key}.json", asdict(later))

    def fail(self, event: QueuedEvent, error: str) -> None:
        """Move the event to the failed folder, with the reason."""
        final = replace(event, attempts=event.attempts + 1, last_error=error)
        # Written in place, then moved in one rename: never queued and failed at once, so a
        # crash in between can neither lose the event nor draft it again after a restart.
        queued = self.pending / f"{event.key}.json"
        _write_durably(queued, asdict(final))
        os.replace(queued, self.failed / queued.name)
        _sync_folder(self.failed)

    def _read(self, path: Path) -> QueuedEvent | None:
        try:
            return QueuedEvent(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            # A file we cannot read would block the queue forever: set it aside, with why.
            record = {"file": path.name, "last_error": f"unreadable queue file: {exc}"}
            _write_durably(self.failed / path.name, record)
            path.unlink(missing_ok=True)
            return None


def _write_durably(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(path: Path) -> None:
    folder = os.open(path, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself must survive a power cut
    finally:
        os.close(folder)


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


def _queue_key(delivery_id: str) -> str:
    if _SAFE_KEY.match(delivery_id):
        return delivery_id
    return "sha256-" + hashlib.sha256(delivery_id.encode("utf-8")).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    """POST: a webhook delivery; GET /healthz: liveness. HTTP/1.0, one request a connection."""

    server: _Server
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


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close: no request is cut off, no socket leaks.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], receiver: WebhookReceiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)


class WebhookReceiver:
    """The HTTP listener and the drafting worker; `start()`, `stop()`, `port`."""

    def __init__(
        self,
        config: Config,
        out_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log: Log | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        secret = config.webhook.secret
        if not secret:
            raise ConfigError(
                "PAGERDUTY_WEBHOOK_SECRET is not set: give the receiver the signing secret"
                " of the PagerDuty webhook subscription"
            )
        if not config.pagerduty.token:
            raise ConfigError("PAGERDUTY_API_TOKEN is not set: drafting needs a REST API key")
        self.config, self.out_dir, self.secret = config, out_dir, secret
        self.address = (host, port)
        self.log: Log = log or (lambda _message: None)
        self.retry_delays = tuple(retry_delays)
        self.queue = EventQueue(out_dir)
        self.metrics = CollectorMetrics("webhook", process=True)
        self._accept_lock = threading.Lock()
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        if self._server is None:
            raise RuntimeError("receiver not started")
        return int(self._server.server_address[1])

    def start(self) -> WebhookReceiver:
        """Bind, then serve and drain the queue (pending events first) in background threads."""
        self.queue.prepare()
        clean_leftovers(self.out_dir)
        try:
            self._server = _Server(self.address, self)
        except OSError as exc:
            host, port = self.address
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._work, name="webhook-worker"),
            threading.Thread(
                target=self._server.serve_forever, args=(0.1,), name="webhook-listener"
            ),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, let the current draft finish, join every thread; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        self._stopping.set()
        self._wakeup.set()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def accept(self, headers: Any, body: bytes) -> tuple[int, str]:
        """Decide one delivery: (HTTP status, message). Queues a new incident.resolved."""
        if not signature_matches(self.secret, body, headers.get("X-PagerDuty-Signature")):
            return 401, "missing or invalid X-PagerDuty-Signature"
        try:
            event_type, event_id, incident_id = parse_event(body)
        except ValueError as exc:
            return 400, str(exc)
        if incident_id is None:
            return 202, f"ignored: {event_type} does not start a draft"
        delivery_id = headers.get("X-Webhook-Id") or event_id
        if not delivery_id:
            return 400, "no X-Webhook-Id header and no event.id"
        key = _queue_key(delivery_id)
        with self._accept_lock:
            if (self.out_dir / incident_id / REPORT).exists():
                return 202, f"{incident_id} is already drafted"
            if self.queue.contains(key):
                return 202, f"duplicate delivery {delivery_id}"
            received = datetime.now(timezone.utc).isoformat(timespec="microseconds")
            event = QueuedEvent(key, incident_id, delivery_id, event_id, received)
            try:
                self.queue.put(event)
            except OSError as exc:  # 5xx: PagerDuty delivers it again later
                return 503, f"cannot queue the event: {exc.strerror or exc}"
        self._wakeup.set()
        return 202, f"queued {incident_id}"

    def _work(self) -> None:
        while not self._stopping.is_set():
            self._wakeup.clear()
            try:
                event, wait = self.queue.next_due(time.time())
                if event is not None:
                    self._process(event)
                    continue
            except Exception as exc:  # a full disk, a bug: the worker must outlive it
                self.log(f"webhook worker: {type(exc).__name__}: {exc}; retrying in 30 s")
                wait = 30.0
            self._wakeup.wait(wait)

    def metrics_text(self) -> bytes:
        """The /metrics page, with the queue counted now."""
        pending = sum(1 for _ in self.queue.pending.glob("*.json"))
        failed = sum(1 for _ in self.queue.failed.glob("*.json"))
        self.metrics.set_queue(pending, failed)
        return self.metrics.exposition()

    def _process(self, event: QueuedEvent) -> None:
        started = time.time()
        outcome = draft_once(self.config, self.out_dir, event.incident_id)
        self.metrics.record_draft(outcome.status, outcome.notice, outcome.note)
        self.metrics.finish_run(started, outcome.status != "failed")
        self.log(
            f"webhook {event.webhook_id}: {outcome.status} {event.incident_id}: {outcome.reason}"
        )
        for warning in outcome.warnings:
            self.log(f"warning: {event.incident_id}: {warning}")
        if outcome.status != "failed":
            self.queue.done(event)
        elif event.attempts < len(self.retry_delays):
            self.queue.retry_later(event, outcome.reason, self.retry_delays[event.attempts])
        else:
            self.queue.fail(event, outcome.reason)


def serve_webhooks(
    config: Config, out_dir: Path, host: str, port: int, *, log: Callable[[str], None]
) -> None:
    """Serve until SIGTERM or SIGINT; accepted events are drafted in the background."""
    receiver = WebhookReceiver(config, out_dir, host, port, log=log)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        receiver.start()
        log(
            f"listening on http://{host}:{receiver.port}/ (PagerDuty webhooks), drafts in {out_dir}"
        )
        while not stopping.wait(0.5):
            pass
        log("stopping: no new deliveries; finishing the current draft")
    finally:
        receiver.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log("stopped")
