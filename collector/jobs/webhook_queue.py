"""The webhook's durable queue: one file per accepted delivery under `OUT/.webhook-queue/`,
written atomically and synced before the delivery is answered; a delivery that failed for good
moves to `OUT/.webhook-failed/`, with the reason."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from collector.files import TEMP_PREFIX, sync_folder, write_json_atomically

# The queue holds PagerDuty's payloads (incident titles, people): its owner's only.
QUEUE_MODE = 0o600

QUEUE_DIR = ".webhook-queue"
FAILED_DIR = ".webhook-failed"
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


@dataclass(frozen=True)
class QueuedEvent:
    """One accepted incident.resolved event, as kept in the queue folder."""

    key: str
    incident_id: str
    webhook_id: str  # the first delivery's X-Webhook-Id, for the log only
    event_id: str
    received_at: str
    attempts: int = 0  # failed drafts
    next_attempt: float = 0.0
    last_error: str = ""
    rechecks: int = 0  # times the API still read the incident open


def queue_key(event_id: str) -> str:
    """The file name an event is queued under: its signed event.id, or a hash of an ID unfit
    for a file name. Never the unsigned X-Webhook-Id: anyone can vary that."""
    if _SAFE_KEY.match(event_id):
        return event_id
    return "sha256-" + hashlib.sha256(event_id.encode("utf-8")).hexdigest()


class EventQueue:
    """Queue files under OUT/.webhook-queue/, written atomically and durably."""

    def __init__(self, out_dir: Path) -> None:
        self.pending = out_dir / QUEUE_DIR
        self.failed = out_dir / FAILED_DIR

    def prepare(self) -> None:
        """Create the folders; drop half-written files (their delivery was never answered)."""
        for folder in (self.pending, self.failed):
            folder.mkdir(parents=True, exist_ok=True)
            for partial in folder.glob(f"{TEMP_PREFIX}*"):
                partial.unlink(missing_ok=True)

    def contains(self, key: str) -> bool:
        """True when this delivery is already queued or has failed for good."""
        name = f"{key}.json"
        return (self.pending / name).exists() or (self.failed / name).exists()

    def put(self, event: QueuedEvent) -> None:
        """Write the event so that it survives a crash the moment this returns."""
        write_json_atomically(self.pending / f"{event.key}.json", asdict(event), QUEUE_MODE)

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

    def counts(self) -> tuple[int, int]:
        """How many events are pending, and how many failed for good."""
        pending = sum(1 for _ in self.pending.glob("*.json"))
        failed = sum(1 for _ in self.failed.glob("*.json"))
        return pending, failed

    def done(self, event: QueuedEvent) -> None:
        """Forget a drafted (or already drafted) event."""
        (self.pending / f"{event.key}.json").unlink(missing_ok=True)

    def retry_later(self, event: QueuedEvent, error: str, delay: float) -> None:
        """Count a failed attempt and schedule the next one."""
        later = replace(
            event, attempts=event.attempts + 1, next_attempt=time.time() + delay, last_error=error
        )
        write_json_atomically(self.pending / f"{event.key}.json", asdict(later), QUEUE_MODE)

    def recheck_later(self, event: QueuedEvent, reason: str, delay: float) -> None:
        """Count one more look at an incident still open, and schedule the next one."""
        later = replace(
            event, rechecks=event.rechecks + 1, next_attempt=time.time() + delay, last_error=reason
        )
        write_json_atomically(self.pending / f"{event.key}.json", asdict(later), QUEUE_MODE)

    def fail(self, event: QueuedEvent, error: str) -> None:
        """Move the event to the failed folder, with the reason."""
        final = replace(event, attempts=event.attempts + 1, last_error=error)
        # Written in place, then moved in one rename: never queued and failed at once, so a
        # crash in between can neither lose the event nor draft it again after a restart.
        queued = self.pending / f"{event.key}.json"
        write_json_atomically(queued, asdict(final), QUEUE_MODE)
        os.replace(queued, self.failed / queued.name)
        sync_folder(self.failed)

    def _read(self, path: Path) -> QueuedEvent | None:
        try:
            return QueuedEvent(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            # A file we cannot read would block the queue forever: set it aside, with why.
            record = {"file": path.name, "last_error": f"unreadable queue file: {exc}"}
            write_json_atomically(self.failed / path.name, record, QUEUE_MODE)
            path.unlink(missing_ok=True)
            return None
