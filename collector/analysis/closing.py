"""Facts for the fields people fill when they close a report: who writes it, what was seen
first, the hours on call, what was done during the outage, and when to review it.

Each is a suggestion the draft offers, never a verdict: the report words them and a person
keeps or deletes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from collector.analysis.figures import IncidentFigures
from collector.analysis.impact import Impact
from collector.analysis.outage import OutageBasis
from collector.analysis.timeline import log_entry_kind
from collector.analysis.working_hours import NIGHT_HOURS, night_minutes
from collector.records import Alert, Event, LogEntry

# What a person did during the outage: notes, and changes of the incident's state.
ACTION_KINDS = frozenset(
    {
        "annotate",
        "acknowledge",
        "unacknowledge",
        "snooze",
        "priority_change",
        "urgency_change",
        "status_update",
    }
)


class AuthorBasis(Enum):
    """Why a person is suggested as the report's author."""

    RESOLVER = "resolver"  # resolved the incident
    FIRST_ACK = "first_ack"  # no person resolved it: the first to acknowledge


@dataclass(frozen=True)
class Author:
    name: str
    basis: AuthorBasis


@dataclass(frozen=True)
class FirstSignal:
    """A user-facing availability query and when it first showed a series down."""

    title: str
    at: datetime


@dataclass(frozen=True)
class OnCall:
    """One person's time on the incident: first notification to the resolve."""

    person: str
    start: datetime
    end: datetime
    night: timedelta | None  # inside NIGHT_HOURS, local time; None without a time zone

    @property
    def span(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Closing:
    """The facts behind the closing fields of one report."""

    author: Author | None
    first_alert: Alert | None
    first_signal: FirstSignal | None
    on_call: tuple[OnCall, ...]
    actions: tuple[Event, ...]
    review_on: date | None
    night_hours: tuple[int, int] = NIGHT_HOURS


def closing_facts(
    figures: IncidentFigures,
    entries: Sequence[LogEntry],
    alerts: Sequence[Alert],
    events: Sequence[Event],
    impact: Impact,
    zone: str | None,
    review_after_days: int | None,
) -> Closing:
    """The closing fields' facts of one incident, from its records and figures."""
    end = figures.resolved_at
    return Closing(
        author=report_author(entries, figures),
        first_alert=min(alerts, key=lambda a: a.created_at, default=None),
        first_signal=first_user_facing_signal(impact),
        on_call=on_call_spans(entries, end, zone) if end else (),
        actions=outage_actions(events, impact.outage_start or figures.started_at, end),
        review_on=(end.date() + timedelta(days=review_after_days))
        if end and review_after_days
        else None,
    )


def report_author(entries: Sequence[LogEntry], figures: IncidentFigures) -> Author | None:
    """The person who resolved the incident, else the first to acknowledge it."""
    resolvers = [
        e.agent
        for e in entries
        if log_entry_kind(e.type) == "resolve" and e.agent_type == "user_reference" and e.agent
    ]
    if resolvers:
        return Author(resolvers[-1], AuthorBasis.RESOLVER)
    if figures.acknowledged_by:
        return Author(figures.acknowledged_by, AuthorBasis.FIRST_ACK)
    return None


def first_user_facing_signal(impact: Impact) -> FirstSignal | None:
    """The earliest user-facing availability query seen down: the one that decided the
    outage, or another user-facing one that went down before it."""
    found: list[FirstSignal] = []
    signal = impact.signal
    if signal is None:
        return None
    if signal.basis is OutageBasis.USER_FACING and impact.outage_start and signal.used:
        found.append(FirstSignal(", ".join(signal.used), impact.outage_start))
    found += [FirstSignal(c.title, c.start) for c in signal.context if c.user_facing and c.start]
    return min(found, key=lambda s: s.at, default=None)


def on_call_spans(
    entries: Sequence[LogEntry], resolved_at: datetime, zone: str | None
) -> tuple[OnCall, ...]:
    """Each notified person's span from their first notification to the resolve, in the
    order they were first notified, with its night part."""
    first: dict[str, datetime] = {}
    for entry in entries:
        if log_entry_kind(entry.type) == "notify" and entry.time <= resolved_at:
            for person in entry.targets:
                first.setdefault(person, entry.time)
    local = ZoneInfo(zone) if zone else None
    return tuple(
        OnCall(
            person,
            start,
            resolved_at,
            timedelta(minutes=night_minutes(start, resolved_at, local)) if local else None,
        )
        for person, start in first.items()
    )


def outage_actions(
    events: Sequence[Event], start: datetime, end: datetime | None
) -> tuple[Event, ...]:
    """The notes and state changes people made from the outage's start to the resolve."""
    return tuple(
        e
        for e in events
        if e.source == "pagerduty"
        and e.kind in ACTION_KINDS
        and start <= e.time
        and (end is None or e.time <= end)
    )
