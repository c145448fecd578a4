"""Build the incident timeline: PagerDuty log entries and Prometheus alerts as one event list."""

from __future__ import annotations

from collections.abc import Sequence

from collector.records import AlertInterval, Event, LogEntry

# Which phase of the report's chronology each log entry type belongs to. Types PagerDuty adds
# later are kept (phase "response") rather than dropped.
PHASE_BY_TYPE = {
    "trigger": "detection",
    "reach_trigger_limit": "detection",
    "assign": "escalation",
    "delegate": "escalation",
    "escalate": "escalation",
    "exhaust_escalation_path": "escalation",
    "repeat_escalation_path": "escalation",
    "notify": "escalation",
    "responder_request": "escalation",
    "reassign": "escalation",
    "priority_change": "escalation",
    "urgency_change": "escalation",
    "unacknowledge": "escalation",
    "reach_ack_limit": "escalation",
    "acknowledge": "response",
    "annotate": "response",
    "snooze": "response",
    "field_value_change": "response",
    "custom_field_value_change": "response",
    "status_update": "communication",
    "resolve": "resolution",
}


def log_entry_kind(entry_type: str) -> str:
    """'acknowledge_log_entry' -> 'acknowledge'."""
    return entry_type.removesuffix("_log_entry")


def build_timeline(
    entries: Sequence[LogEntry], alerts: Sequence[AlertInterval] = ()
) -> list[Event]:
    """Merge log entries and alert intervals into events, oldest first."""
    reopens = mark_reopens(entries)
    events = [
        _entry_event(entry, reopened) for entry, reopened in zip(entries, reopens, strict=True)
    ]
    for alert in alerts:
        events.extend(_alert_events(alert))
    # Stable sort: events of the same second keep PagerDuty's order; Prometheus's come first.
    return sorted(events, key=lambda e: (e.time, e.source != "prometheus"))


def mark_reopens(entries: Sequence[LogEntry]) -> list[bool]:
    """For each entry (oldest first), whether it re-triggers an incident already resolved."""
    marks = []
    resolved = False
    for entry in entries:
        kind = log_entry_kind(entry.type)
        marks.append(kind == "trigger" and resolved)
        resolved = resolved or kind == "resolve"
    return marks


def _entry_event(entry: LogEntry, reopened: bool) -> Event:
    kind = log_entry_kind(entry.type)
    summary = entry.summary
    if kind == "annotate" and entry.note:
        summary = f"Note: {entry.note}"
    elif kind == "trigger" and entry.note:
        summary = f"Triggered: {entry.note}"
    elif kind == "notify" and entry.targets and entry.channel:
        summary = f"Notified {', '.join(entry.targets)} by {entry.channel.replace('_', ' ')}"
    if reopened:
        summary = f"Reopened: {summary}"
    return Event(
        time=entry.time,
        source="pagerduty",
        kind=kind,
        phase=PHASE_BY_TYPE.get(kind, "response"),
        actor=entry.agent,
        summary=summary,
        link=entry.link,
        ref=entry.id,
    )


def _alert_events(alert: AlertInterval) -> list[Event]:
    labels = ", ".join(f"{k}={v}" for k, v in alert.labels if k != "severity")
    where = f" ({labels})" if labels else ""
    start = Event(
        time=alert.start,
        source="prometheus",
        kind=f"alert_{alert.state}",
        phase="detection",
        actor="Prometheus",
        summary=f"Alert {alert.alertname} {alert.state}{where}",
        link="",
        ref=alert.query,
    )
    if alert.state != "firing":
        return [start]
    end = Event(
        time=alert.end,
        source="prometheus",
        kind="alert_resolved",
        phase="resolution",
        actor="Prometheus",
        summary=f"Alert {alert.alertname} stopped firing{where}",
        link="",
        ref=alert.query,
    )
    return [start, end]
