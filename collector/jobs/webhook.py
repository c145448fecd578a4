"""Webhook mode: receive PagerDuty v3 webhooks and draft on incident.resolved.

A delivery is answered as soon as it is verified and written to a queue on disk
(`OUT/.webhook-queue/`, one file per delivery), well within PagerDuty's 5 seconds. One worker
thread drains the queue with the batch mode's exactly-once rule (`collector.jobs.batch.draft_once`),
and deletes a queue file only once its incident is drafted, or after its last retry, when the
event moves to `OUT/.webhook-failed/`. Pending files are picked up again after a restart.
Events are deduplicated on the signed `event.id`. An incident the API still reports open is
looked at again a few times (`RECHECK_DELAYS`) before it is drafted, never drafted "ongoing".
Plain HTTP: TLS belongs to the ingress or reverse proxy in front.

This module is the receiver (what a delivery starts, and the worker that drafts);
`webhook_http` checks and answers the requests, `webhook_queue` keeps the queue on disk.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any

from collector.config import Config, ConfigError
from collector.jobs.batch import DraftStatus, draft_once
from collector.jobs.monitoring import CollectorMetrics
from collector.jobs.runner import Runner, load_drawing
from collector.jobs.webhook_http import (
    READ_DEADLINE,
    WebhookServer,
    parse_event,
    signature_matches,
)
from collector.jobs.webhook_queue import EventQueue, QueuedEvent, queue_key
from collector.output import REPORT, clean_leftovers

Log = Callable[[str], None]

# Waits between attempts at a failing draft; after the last one the event is failed for good.
RETRY_DELAYS: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0)
# Waits before looking again at an incident.resolved whose incident the API still reads open
# (PagerDuty's API can lag its webhooks); after the last, the event is set aside, undrafted.
RECHECK_DELAYS: tuple[float, ...] = (30.0, 120.0, 600.0)


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
        recheck_delays: Sequence[float] = RECHECK_DELAYS,
        read_deadline: float = READ_DEADLINE,
        runner: Runner | None = None,
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
        self.recheck_delays = tuple(recheck_delays)
        self.read_deadline = read_deadline
        self.runner = runner or Runner()
        self.queue = EventQueue(out_dir)
        self.metrics = CollectorMetrics("webhook", process=True)
        self._accept_lock = threading.Lock()
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._server: WebhookServer | None = None
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
            self._server = WebhookServer(self.address, self, self.read_deadline)
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
        """Stop accepting, let the current draft finish, join every thread; idempotent.

        Requests being read get a short grace, then are cut: a slow client cannot hold it.
        """
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close()
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
        if not event_id:
            return 400, "no event.id: deliveries are deduplicated on it"
        key = queue_key(event_id)  # signed: a new X-Webhook-Id on a captured body is no new event
        delivery_id = str(headers.get("X-Webhook-Id") or event_id)
        with self._accept_lock:
            if (self.out_dir / incident_id / REPORT).exists():
                return 202, f"{incident_id} is already drafted"
            if self.queue.contains(key):
                return 202, f"duplicate event {event_id}"
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
        self.metrics.set_queue(*self.queue.counts())
        return self.metrics.exposition()

    def _process(self, event: QueuedEvent) -> None:
        started = time.time()
        outcome = draft_once(
            self.config, self.out_dir, event.incident_id, resolved_only=True, runner=self.runner
        )
        if outcome.status is DraftStatus.WAITING:
            self._recheck(event, outcome.reason)
            return
        self.metrics.record_draft(outcome.status, outcome.notice, outcome.note)
        self.metrics.finish_run(started, outcome.status is not DraftStatus.FAILED)
        said = f"{outcome.status.value} {event.incident_id}: {outcome.reason}"
        self.log(f"webhook {event.webhook_id}: {said}")
        for warning in outcome.warnings:
            self.log(f"warning: {event.incident_id}: {warning}")
        if outcome.status is not DraftStatus.FAILED:
            self.queue.done(event)
        elif event.attempts < len(self.retry_delays):
            self.queue.retry_later(event, outcome.reason, self.retry_delays[event.attempts])
        else:
            self.queue.fail(event, outcome.reason)

    def _recheck(self, event: QueuedEvent, reason: str) -> None:
        """Look again later at an incident the API still reads open; in the end, set it aside."""
        if event.rechecks < len(self.recheck_delays):
            delay = self.recheck_delays[event.rechecks]
            self.log(
                f"webhook {event.webhook_id}: {event.incident_id}: {reason}; again in {delay:g} s"
            )
            self.queue.recheck_later(event, reason, delay)
            return
        why = f"{reason} after {event.rechecks + 1} looks; a batch run drafts it once resolved"
        self.log(f"webhook {event.webhook_id}: failed {event.incident_id}: {why}")
        self.queue.fail(event, why)


def serve_webhooks(
    config: Config,
    out_dir: Path,
    host: str,
    port: int,
    *,
    log: Callable[[str], None],
    runner: Runner | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT; accepted events are drafted in the background."""
    load_drawing()  # matplotlib, once, before the first delivery and its threads
    receiver = WebhookReceiver(config, out_dir, host, port, log=log, runner=runner)
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
