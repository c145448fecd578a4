"""Incident figures from PagerDuty data: when it started, was detected, acknowledged, resolved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from collector.analysis.facts import DetectedBy, Note, source
from collector.analysis.timeline import log_entry_kind, mark_reopens
from collector.records import Incident, LogEntry

AUTOMATED_CHANNELS = {"api", "auto", "nagios", "timeout", "email", "integration"}


@dataclass(frozen=True)
class IncidentFigures:
    """Figures of the incident, each with its provenance in `sources`."""

    started_at: datetime
    resolved_at: datetime | None
    duration: timedelta | None
    detected_at: datetime
    detected_by: DetectedBy
    detection_summary: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    time_to_acknowledge: timedelta | None
    escalations: int
    people_notified: tuple[str, ...]
    people_engaged: tuple[str, ...]
    responders_requested: tuple[str, ...]
    status_updates: int
    reopened: int
    priority: str | None
    severity: str
    sources: Mapping[str, Note] = field(default_factory=dict)
    # PagerDuty's resolve is dated before its first trigger (clock skew, a merged incident):
    # both times are reported as PagerDuty gives them, no duration is computed from them.
    resolved_before_start: bool = False

    @property
    def stakeholders_informed(self) -> int:
        """Status updates published plus people asked to respond: who was told, beyond on-call."""
        return self.status_updates + len(self.responders_requested)


def compute_incident_figures(
    incident: Incident, entries: Sequence[LogEntry], severity_by_priority: Mapping[str, str]
) -> IncidentFigures:
    """Compute the figures from the incident and its log entries (oldest first)."""
    by_kind: dict[str, list[LogEntry]] = {}
    for entry in entries:
        by_kind.setdefault(log_entry_kind(entry.type), []).append(entry)
    triggers = by_kind.get("trigger", [])
    first_trigger = triggers[0] if triggers else None
    started = first_trigger.time if first_trigger else incident.created_at
    resolves = by_kind.get("resolve", [])
    resolved = (
        resolves[-1].time if resolves and incident.status == "resolved" else (incident.resolved_at)
    )
    skewed = resolved is not None and resolved < started
    acks = [e for e in by_kind.get("acknowledge", []) if e.time >= started]
    requests = by_kind.get("responder_request", [])
    first_ack = acks[0] if acks else None
    sources = {
        "started_at": source("first_trigger", entry=first_trigger.id)
        if first_trigger
        else source("created_at"),
        "resolved_at": source("last_resolve", entry=resolves[-1].id)
        if resolves
        else source("resolved_at"),
        "acknowledged_at": source("first_ack", entry=first_ack.id)
        if first_ack
        else source("no_ack"),
        "escalations": source("escalate_entries", n=len(by_kind.get("escalate", []))),
        "people_notified": source("notify_entries", n=len(by_kind.get("notify", []))),
        "status_updates": source("status_entries", n=len(by_kind.get("status_update", []))),
        "responders_requested": source("request_entries", n=len(requests)),
        "reopened": source("reopened"),
    }
    return IncidentFigures(
        started_at=started,
        resolved_at=resolved,
        duration=(resolved - started) if resolved and not skewed else None,
        detected_at=started,
        detected_by=_detected_by(first_trigger),
        detection_summary=(first_trigger.note or first_trigger.summary)
        if first_trigger
        else incident.title,
        acknowledged_at=first_ack.time if first_ack else None,
        acknowledged_by=first_ack.agent if first_ack else None,
        time_to_acknowledge=(first_ack.time - started) if first_ack else None,
        escalations=len(by_kind.get("escalate", [])),
        people_notified=_distinct(t for e in by_kind.get("notify", []) for t in e.targets),
        people_engaged=_distinct(e.agent for e in entries if e.agent_type == "user_reference"),
        responders_requested=_distinct(t for e in requests for t in e.targets),
        status_updates=len(by_kind.get("status_update", [])),
        # Only a trigger that follows a resolve reopens; several triggers before one do not.
        reopened=sum(mark_reopens(entries)),
        priority=incident.priority,
        severity=severity_by_priority.get(incident.priority or "", incident.priority or "")
        or "unknown",
        sources=sources,
        resolved_before_start=skewed,
    )


def incident_span(figures: IncidentFigures) -> tuple[datetime, datetime | None]:
    """From the first trigger to the resolve (None while open), in time order: a resolve dated
    before the trigger widens the span back to it rather than turning it inside out."""
    end = figures.resolved_at
    if end is None:
        return figures.started_at, None
    return min(figures.started_at, end), max(figures.started_at, end)


def _detected_by(trigger: LogEntry | None) -> DetectedBy:
    """Who noticed first, from the first trigger log entry.

    - "customer report": the trigger came in by email (channel type "email") from a user or
      from an email integration (an inbox such as support@ that customers write to);
    - "manual report": any other trigger by a user (website, web trigger, mobile app...);
    - "automated alert": a service or integration triggered it (events API, monitoring tool,
      including a tool that sends email to the service);
    - "unknown": no trigger log entry, or nothing to tell.
    """
    if trigger is None:
        return DetectedBy.UNKNOWN
    # "integration_reference", or a concrete "generic_email_inbound_integration_reference".
    by_integration = trigger.agent_type.endswith("integration_reference")
    if trigger.channel == "email" and (trigger.agent_type == "user_reference" or by_integration):
        return DetectedBy.CUSTOMER_REPORT
    if trigger.agent_type == "user_reference":
        return DetectedBy.MANUAL_REPORT
    if trigger.channel in AUTOMATED_CHANNELS or trigger.agent_type in (
        "service_reference",
        "integration_reference",
    ):
        return DetectedBy.AUTOMATED_ALERT
    return DetectedBy.UNKNOWN


def _distinct(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for name in names if name))
