"""Build the incident timeline: PagerDuty log entries and Prometheus alerts as one event list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from collector.records import AlertInterval, Event, LogEntry, Phase

# A run of this many events of the same kind reads as one line in the report.
REPEAT_MIN = 5
# Kinds whose repeats collapse whatever their text (who was notified changes each time).
GROUPED_BY_KIND = frozenset(
    {"notify", "acknowledge", "unacknowledge", "escalate", "assign", "repeat_escalation_path"}
)

# Which phase of the report's chronology each log entry type belongs to. Types PagerDuty adds
# later are kept (phase "response") rather than dropped.
PHASE_BY_TYPE = {
    "trigger": Phase.DETECTION,
    "reach_trigger_limit": Phase.DETECTION,
    "assign": Phase.ESCALATION,
    "delegate": Phase.ESCALATION,
    "escalate": Phase.ESCALATION,
    "exhaust_escalation_path": Phase.ESCALATION,
    "repeat_escalation_path": Phase.ESCALATION,
    "notify": Phase.ESCALATION,
    "responder_request": Phase.ESCALATION,
    "reassign": Phase.ESCALATION,
    "priority_change": Phase.ESCALATION,
    "urgency_change": Phase.ESCALATION,
    "unacknowledge": Phase.ESCALATION,
    "reach_ack_limit": Phase.ESCALATION,
    "acknowledge": Phase.RESPONSE,
    "annotate": Phase.RESPONSE,
    "snooze": Phase.RESPONSE,
    "field_value_change": Phase.RESPONSE,
    "custom_field_value_change": Phase.RESPONSE,
    "status_update": Phase.COMMUNICATION,
    "resolve": Phase.RESOLUTION,
}


# Kinds the report words from the entry's note ("Note: …", "Triggered: …") when it has one.
WORDED_BY_NOTE = frozenset({"annotate", "trigger"})


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
    return Event(
        time=entry.time,
        source="pagerduty",
        kind=kind,
        phase=PHASE_BY_TYPE.get(kind, Phase.RESPONSE),
        actor=entry.agent,
        summary=entry.summary,
        link=entry.link,
        ref=entry.id,
        targets=entry.targets if kind == "notify" else (),
        channel=entry.channel.replace("_", " ") if kind == "notify" else "",
        subject=entry.note if kind in ("annotate", "trigger") else "",
        reopened=reopened,
    )


def _alert_events(alert: AlertInterval) -> list[Event]:
    pairs = tuple((k, v) for k, v in alert.labels if k != "severity")
    start = Event(
        time=alert.start,
        source="prometheus",
        kind=f"alert_{alert.state}",
        phase=Phase.DETECTION,
        actor="Prometheus",
        summary="",
        link="",
        ref=alert.query,
        subject=alert.alertname,
        labels=pairs,
    )
    if alert.state != "firing":
        return [start]
    end = Event(
        time=alert.end,
        source="prometheus",
        kind="alert_resolved",
        phase=Phase.RESOLUTION,
        actor="Prometheus",
        summary="",
        link="",
        ref=alert.query,
        subject=alert.alertname,
        labels=pairs,
    )
    return [start, end]


@dataclass(frozen=True)
class EventGroup:
    """Events of one kind shown as one line: a single event, or a run of repeats."""

    first: Event
    count: int
    start: datetime
    end: datetime
    actors: tuple[str, ...]
    targets: tuple[str, ...]
    channels: tuple[str, ...]
    # Alerts: each distinct set of labels the run's events carry (one per series that fired).
    series: tuple[tuple[tuple[str, str], ...], ...] = ()

    @property
    def repeated(self) -> bool:
        """More than one event: the line states a count and a time range."""
        return self.count > 1

    @property
    def shared_labels(self) -> tuple[tuple[str, str], ...]:
        """The labels every series of the run has, with the same value."""
        if not self.series:
            return ()
        rest = [set(labels) for labels in self.series[1:]]
        return tuple(pair for pair in self.series[0] if all(pair in other for other in rest))

    @property
    def varying_labels(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """Each series' labels but the shared ones: what tells the series apart."""
        shared = set(self.shared_labels)
        return tuple(tuple(p for p in labels if p not in shared) for labels in self.series)


def group_repeats(events: Sequence[Event], minimum: int = REPEAT_MIN) -> list[EventGroup]:
    """Collapse repeats (same kind, or same text) into one group at the first one's place.

    Fewer than `minimum` alike stay one line each; every event stays in timeline.csv.
    """
    keyed: dict[tuple[object, ...], list[Event]] = {}
    for event in events:
        keyed.setdefault(_repeat_key(event), []).append(event)
    groups: list[EventGroup] = []
    for event in events:
        alike = keyed[_repeat_key(event)]
        if len(alike) < minimum:
            groups.append(_group([event]))
        elif event is alike[0]:
            groups.append(_group(alike))
    return groups


def _repeat_key(event: Event) -> tuple[object, ...]:
    if event.kind in GROUPED_BY_KIND:
        return (event.source, event.kind)
    if event.is_alert:
        # One alert in one state, whatever series (instance, shard...) it fired for.
        return (event.source, event.kind, event.subject or event.labels)
    # Alike when worded alike (`report.words.Words.event`): by the note a note or a trigger
    # carries, else by PagerDuty's summary; a reopening trigger apart.
    said = event.subject if event.kind in WORDED_BY_NOTE and event.subject else event.summary
    return (event.source, event.kind, said, event.reopened)


@dataclass(frozen=True)
class TimelineGroups:
    """The timeline's events grouped for reading (`group_repeats`): all of them, and the
    chronology's sections of the team template, each grouped on its own. Resolution joins
    response there; communication (status updates) is its own section."""

    events: list[EventGroup]
    detection: list[EventGroup]
    escalation: list[EventGroup]
    response: list[EventGroup]
    communication: list[EventGroup]


def group_timeline(events: Sequence[Event]) -> TimelineGroups:
    """The events' groups, whole and by chronology section."""

    def grouped(*phases: Phase) -> list[EventGroup]:
        return group_repeats([e for e in events if e.phase in phases])

    return TimelineGroups(
        events=group_repeats(events),
        detection=grouped(Phase.DETECTION),
        escalation=grouped(Phase.ESCALATION),
        response=grouped(Phase.RESPONSE, Phase.RESOLUTION),
        communication=grouped(Phase.COMMUNICATION),
    )


def _group(events: Sequence[Event]) -> EventGroup:
    def distinct(values: Sequence[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for v in values if v))

    return EventGroup(
        first=events[0],
        count=len(events),
        start=events[0].time,
        end=events[-1].time,
        actors=distinct([e.actor for e in events]),
        targets=distinct([t for e in events for t in e.targets]),
        channels=distinct([e.channel for e in events]),
        series=tuple(dict.fromkeys(e.labels for e in events if e.labels)),
    )
