"""The collector's own metrics, the Prometheus way.

The webhook receiver serves them on `/metrics`; a batch run writes the same facts to a file for
node_exporter's textfile collector (`--metrics-file`), carrying the counters of the previous
run forward so that they only ever grow, as counters must. Names start with
`incident_collector_`; every series has a `mode` label (batch or webhook).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    write_to_textfile,
)
from prometheus_client.parser import text_string_to_metric_families

from collector.jobs.batch import Outcome

# `_created` series restart with each batch run and would contradict the carried counters.
disable_created_metrics()  # type: ignore[no-untyped-call]

PREFIX = "incident_collector"
CONTENT_TYPE = CONTENT_TYPE_LATEST
DRAFT_OUTCOMES = ("published", "skipped", "failed")
DELIVERY_OUTCOMES = ("posted", "failed")
# How an Outcome of collector.jobs.batch names a draft that was published.
_DRAFT_LABEL = {"drafted": "published", "skipped": "skipped", "failed": "failed"}


class CollectorMetrics:
    """Counters and gauges of one process, in a registry of their own."""

    def __init__(self, mode: str, *, process: bool = False) -> None:
        self.mode = mode
        self.registry = CollectorRegistry()
        if process:
            ProcessCollector(registry=self.registry)

        # Sample name (as the text format spells it) -> counter, to carry counts over.
        self._counters: dict[str, Counter] = {}

        def counter(name: str, doc: str) -> Counter:
            made = Counter(f"{PREFIX}_{name}", doc, ["mode", "outcome"], registry=self.registry)
            self._counters[f"{PREFIX}_{name}_total"] = made
            return made

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(f"{PREFIX}_{name}", doc, ["mode"], registry=self.registry)

        self.drafts = counter("drafts", "Incidents considered for a draft, by outcome.")
        self.notices = counter("notices", "Chat notices of new drafts, by outcome.")
        self.notes = counter("notes", "Notes added to PagerDuty incidents, by outcome.")
        self.runs = counter("runs", "Runs (batch) or queued events (webhook), by outcome.")
        self.last_success = gauge(
            "last_success_timestamp_seconds", "When a run last ended with nothing failed."
        )
        self.last_run = gauge("last_run_timestamp_seconds", "When the last run ended.")
        self.duration = gauge("last_run_duration_seconds", "How long the last run took.")
        self.queue_depth = gauge("queue_depth", "Incidents waiting to be drafted.")
        self.failed_events = gauge(
            "queue_failed_events", "Webhook events that failed for good (OUT/.webhook-failed)."
        )
        # Every series exists from the start, at 0: increase() and alerts need no first event.
        for family, outcomes in (
            (self.drafts, DRAFT_OUTCOMES),
            (self.notices, DELIVERY_OUTCOMES),
            (self.notes, DELIVERY_OUTCOMES),
            (self.runs, ("ok", "failed")),
        ):
            for outcome in outcomes:
                family.labels(mode, outcome)
        for each in (self.queue_depth, self.failed_events, self.duration):
            each.labels(mode)

    def record_draft(self, status: str, notice: str = "off", note: str = "off") -> None:
        """Count one incident's outcome and its hand-offs (fields of `jobs.batch.Outcome`)."""
        self.drafts.labels(self.mode, _DRAFT_LABEL.get(status, status)).inc()
        for family, delivery in ((self.notices, notice), (self.notes, note)):
            if delivery in DELIVERY_OUTCOMES:
                family.labels(self.mode, delivery).inc()

    def finish_run(self, started: float, ok: bool, now: float | None = None) -> None:
        """Record the end of a run that began at `started` (Unix seconds)."""
        now = time.time() if now is None else now
        self.runs.labels(self.mode, "ok" if ok else "failed").inc()
        self.last_run.labels(self.mode).set(now)
        self.duration.labels(self.mode).set(max(now - started, 0.0))
        if ok:
            self.last_success.labels(self.mode).set(now)

    def set_queue(self, pending: int, failed: int = 0) -> None:
        """Incidents waiting to be drafted, and events failed for good."""
        self.queue_depth.labels(self.mode).set(pending)
        self.failed_events.labels(self.mode).set(failed)

    def exposition(self) -> bytes:
        """The text format, as served on /metrics."""
        return generate_latest(self.registry)

    def carry_over(self, path: Path) -> None:
        """Start from the counters (and last success) of the file a previous run wrote."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return  # the first run, or a file someone removed: counting starts again
        counters = {
            f"{c._name}_total": c for c in (self.drafts, self.notices, self.notes, self.runs)
        }
        try:
            families = list(text_string_to_metric_families(text))
        except ValueError:
            return
        for family in families:
            for sample in family.samples:
                if sample.labels.get("mode") != self.mode:
                    continue
                if sample.name in counters and "outcome" in sample.labels:
                    counters[sample.name].labels(self.mode, sample.labels["outcome"]).inc(
                        max(sample.value, 0.0)
                    )
                elif sample.name == f"{PREFIX}_last_success_timestamp_seconds":
                    self.last_success.labels(self.mode).set(sample.value)

    def write_textfile(self, path: Path) -> None:
        """Write for node_exporter: a temporary file in the same folder, then a rename."""
        write_to_textfile(str(path), self.registry)


def write_batch_metrics(path: Path, outcomes: Sequence[Outcome], ok: bool, started: float) -> None:
    """Add one batch run to the textfile at `path` (locked: overlapping runs both count)."""
    with FileLock(f"{path}.lock"):
        metrics = CollectorMetrics("batch")
        metrics.carry_over(path)
        for outcome in outcomes:
            metrics.record_draft(outcome.status, outcome.notice, outcome.note)
        # What the next run picks up again: the incidents that failed this time.
        metrics.set_queue(sum(1 for o in outcomes if o.status == "failed"))
        metrics.finish_run(started, ok)
        metrics.write_textfile(path)
