"""Typed records that cross the boundary between the sources and the analysis."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class TextEnum(str, Enum):
    """An enum whose members are also their text: written to CSV, JSON and templates as the
    value, and equal to it (so settings and snapshots, which hold the text, compare alike)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class QueryKind(TextEnum):
    """What a query of the pack measures (`prometheus.queries[].kind` in the config)."""

    MEMORY = "memory"
    SWAP = "swap"
    AVAILABILITY = "availability"
    TRAFFIC = "traffic"
    ERRORS = "errors"
    LATENCY = "latency"
    SATURATION = "saturation"
    CONNECTIONS = "connections"
    USERS = "users"
    BACKUP_AGE = "backup_age"
    ALERTS = "alerts"  # Prometheus's ALERTS series: read as alert intervals, never charted
    CUSTOM = "custom"


class Phase(TextEnum):
    """A phase of the timeline, in the order the report's chronology presents them."""

    DETECTION = "detection"
    ESCALATION = "escalation"
    RESPONSE = "response"
    COMMUNICATION = "communication"
    RESOLUTION = "resolution"


PHASES = tuple(Phase)


@dataclass(frozen=True)
class Incident:
    """A PagerDuty incident, as the report needs it."""

    id: str
    number: int | None
    title: str
    status: str
    urgency: str
    priority: str | None
    service: str
    service_id: str
    escalation_policy: str
    teams: tuple[str, ...]
    created_at: datetime
    resolved_at: datetime | None
    link: str
    resolve_reason: str | None
    conference_bridge: str | None
    merged_into: str | None = None  # resolved by a merge: the surviving incident's summary


# Slots: a huge incident holds a million log entries and as many events (48 bytes each saved).
@dataclass(frozen=True, slots=True)
class LogEntry:
    """One PagerDuty log entry, normalised: who did what, when, through which channel."""

    id: str
    type: str
    time: datetime
    agent: str
    agent_type: str
    channel: str
    summary: str
    note: str
    targets: tuple[str, ...]
    link: str


@dataclass(frozen=True)
class Alert:
    """One PagerDuty alert grouped into the incident."""

    id: str
    created_at: datetime
    resolved_at: datetime | None
    severity: str
    alert_key: str
    summary: str
    status: str
    link: str


@dataclass(frozen=True, slots=True)
class Event:
    """One row of the incident timeline."""

    time: datetime
    source: str
    kind: str  # PagerDuty's log entry type ("notify"), or alert_<state> for a Prometheus alert
    phase: Phase
    actor: str
    summary: str  # PagerDuty's own summary of the entry ("" for an alert): a fact, not words
    link: str
    ref: str
    targets: tuple[str, ...] = ()  # notify: who was notified
    channel: str = ""  # notify: how (sms, email, push notification...)
    # What the report words the event from (`report.words.Words.event`): the alert's name or
    # the note's text, the alert's labels, and whether a trigger reopened the incident.
    subject: str = ""
    reopened: bool = False
    labels: tuple[tuple[str, str], ...] = ()  # alert: its labels, severity left out

    @property
    def is_alert(self) -> bool:
        """A Prometheus alert's change of state (kind alert_pending, alert_firing...)."""
        return self.source == "prometheus"


@dataclass(frozen=True)
class AlertInterval:
    """A Prometheus alert in one state (pending or firing) from start to end."""

    alertname: str
    state: str
    start: datetime
    end: datetime
    labels: tuple[tuple[str, str], ...]
    query: str


class GapKind(Enum):
    """Why part of the data is missing."""

    UNFETCHED = "unfetched"  # the request failed: none of this part was gathered
    TRUNCATED = "truncated"  # the source could return only part of a list
    DROPPED = "dropped"  # samples the source sent were not usable (NaN, ±Inf) and left out
    WARNED = "warned"  # the source answered, warning that its answer may be partial
    OTHER = "other"  # a gap read from a snapshot line in no known form


@dataclass(frozen=True)
class Gap:
    """A part of the data a source could not give whole: what, from where, and why.

    `source` is "PagerDuty" or "Prometheus" (a review's gaps also "reports"); `subject` the
    PagerDuty list (log_entries, alerts, notes) or the Prometheus query's name; `detail` the
    source's own message (for a truncated list: the endpoint that cannot be narrowed by time;
    for dropped samples: nothing). `count` is how many samples were dropped, or how many items
    of `total` were fetched; `days` the span of a long-range query (the 28-day context). The
    snapshot keeps these fields; `report.words` words them (`Words.gap`, `gap_line`).
    """

    source: str
    subject: str
    kind: GapKind
    detail: str
    count: int | None = None
    total: int | None = None
    days: int = 0


class LostPart(Enum):
    """What a new snapshot lacks that the published one had (`snapshot.store.lost_data`)."""

    LOG_ENTRIES = "log_entries"  # fewer PagerDuty log entries
    SERIES = "series"  # fewer series for a query
    SOURCE = "source"  # a source failed that had answered: `gap` says which and why


@dataclass(frozen=True)
class LostData:
    """One way a new snapshot is poorer than the published one: what, and the counts."""

    part: LostPart
    subject: str = ""  # the query's name (SERIES)
    before: int = 0
    after: int = 0
    gap: Gap | None = None  # SOURCE: the failure


@dataclass(frozen=True)
class FiledIssue:
    """An action item filed in a tracker (Jira): the issue's key and its page."""

    key: str
    url: str
