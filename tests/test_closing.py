"""The closing fields' facts, by construction: log entries with known times in, spans out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from collector.analysis.closing import (
    AuthorBasis,
    on_call_spans,
    outage_actions,
    report_author,
)
from collector.analysis.figures import compute_incident_figures
from collector.analysis.working_hours import night_minutes
from collector.records import Event, Incident, LogEntry

PARIS = "Europe/Paris"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def entry(
    kind: str, time: str, agent: str = "svc", agent_type: str = "service_reference", **more: object
) -> LogEntry:
    targets = more.get("targets", ())
    assert isinstance(targets, tuple)
    return LogEntry(
        id=f"R{time}",
        type=f"{kind}_log_entry",
        time=at(time),
        agent=agent,
        agent_type=agent_type,
        channel="api",
        summary="",
        note="",
        targets=targets,
        link="",
    )


def incident(resolved: str | None) -> Incident:
    return Incident(
        id="PX",
        number=1,
        title="t",
        status="resolved" if resolved else "triggered",
        urgency="high",
        priority=None,
        service="s",
        service_id="S",
        escalation_policy="e",
        teams=(),
        created_at=at("2026-01-14T21:00:00"),
        resolved_at=at(resolved) if resolved else None,
        link="",
        resolve_reason=None,
        conference_bridge=None,
    )


# Paris is UTC+1 in January: 22:00 local is 21:00 UTC, 07:00 local is 06:00 UTC.
NIGHT_LOG = [
    entry("trigger", "2026-01-14T20:30:00"),
    entry("notify", "2026-01-14T20:31:00", targets=("Alice",)),
    entry("acknowledge", "2026-01-14T20:40:00", "Alice", "user_reference"),
    entry("notify", "2026-01-14T20:50:00", targets=("Alice", "Bruno")),  # Alice's second
    entry("notify", "2026-01-15T02:00:00", targets=("Chloé",)),
    entry("resolve", "2026-01-15T06:30:00", "Bruno", "user_reference"),
]


def test_on_call_hours_run_from_each_first_notification_to_the_resolve_with_the_night() -> None:
    spans = on_call_spans(NIGHT_LOG, at("2026-01-15T06:30:00"), PARIS)
    assert [(s.person, s.span, s.night) for s in spans] == [
        # 21:31 → 07:30 local: 9 h 59 min, of which 22:00 → 07:00 = 9 h at night.
        ("Alice", timedelta(hours=9, minutes=59), timedelta(hours=9)),
        ("Bruno", timedelta(hours=9, minutes=40), timedelta(hours=9)),
        # 03:00 → 07:30 local: 4 h 30 min, 4 h of it before 07:00.
        ("Chloé", timedelta(hours=4, minutes=30), timedelta(hours=4)),
    ]


def test_without_a_time_zone_the_night_part_is_not_said() -> None:
    spans = on_call_spans(NIGHT_LOG, at("2026-01-15T06:30:00"), None)
    assert [s.night for s in spans] == [None, None, None]


def test_a_notification_after_the_resolve_is_no_on_call_time() -> None:
    late = [*NIGHT_LOG, entry("notify", "2026-01-15T07:00:00", targets=("Dan",))]
    assert "Dan" not in [s.person for s in on_call_spans(late, at("2026-01-15T06:30:00"), PARIS)]


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        ("2026-01-14T10:00:00", "2026-01-14T12:00:00", 0),  # daytime
        ("2026-01-14T20:00:00", "2026-01-15T08:00:00", 9 * 60),  # a whole night and more
        ("2026-01-13T23:00:00", "2026-01-14T05:00:00", 6 * 60),  # inside, across midnight
        # 2026-03-29: Paris moves to summer time at 02:00 local; that night is 8 real hours.
        ("2026-03-28T12:00:00", "2026-03-29T12:00:00", 8 * 60),
    ],
)
def test_night_minutes_count_real_minutes_in_local_nights(
    start: str, end: str, minutes: int
) -> None:
    assert night_minutes(at(start), at(end), ZoneInfo(PARIS)) == minutes


def test_the_author_is_the_resolver_else_the_first_to_acknowledge() -> None:
    figures = compute_incident_figures(incident("2026-01-15T06:30:00"), NIGHT_LOG, {})
    author = report_author(NIGHT_LOG, figures)
    assert author is not None and (author.name, author.basis) == ("Bruno", AuthorBasis.RESOLVER)
    by_service = [*NIGHT_LOG[:-1], entry("resolve", "2026-01-15T06:30:00", "Timeout", "service")]
    figures = compute_incident_figures(incident("2026-01-15T06:30:00"), by_service, {})
    author = report_author(by_service, figures)
    assert author is not None and (author.name, author.basis) == ("Alice", AuthorBasis.FIRST_ACK)
    unacknowledged = [NIGHT_LOG[0], NIGHT_LOG[1]]
    figures = compute_incident_figures(incident(None), unacknowledged, {})
    assert report_author(unacknowledged, figures) is None


def event(kind: str, time: str, source: str = "pagerduty") -> Event:
    return Event(at(time), source, kind, "response", "Alice", kind, "", "")


def test_immediate_actions_are_notes_and_state_changes_inside_the_outage() -> None:
    events = [
        event("annotate", "2026-01-14T20:00:00"),  # before the outage
        event("acknowledge", "2026-01-14T20:40:00"),
        event("notify", "2026-01-14T20:41:00"),  # not an action
        event("alert_firing", "2026-01-14T20:42:00", "prometheus"),
        event("annotate", "2026-01-14T21:00:00"),
        event("status_update", "2026-01-15T06:30:00"),  # at the resolve: still in
        event("annotate", "2026-01-15T06:31:00"),  # after
    ]
    found = outage_actions(events, at("2026-01-14T20:30:00"), at("2026-01-15T06:30:00"))
    assert [(e.kind, e.time.hour) for e in found] == [
        ("acknowledge", 20),
        ("annotate", 21),
        ("status_update", 6),
    ]
