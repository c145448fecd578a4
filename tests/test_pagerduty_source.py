"""PagerDuty source through the real client, against the HTTPS simulator.

Covers what `collector/sources/pagerduty*.py` promise and what the analysis makes of it: the
timeline and figures of each fixture incident, complete pagination (concurrent pages, the
10,000 offset limit), every fault the simulator can inject, time zones, and the resolved-incident
listing.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pagerduty
import pytest
from conftest import FIXTURES, TOKEN
from pd_simulator import PagerDutySimulator

from collector.analysis.facts import source
from collector.analysis.figures import compute_incident_figures
from collector.analysis.timeline import build_timeline
from collector.config import PagerDutySettings
from collector.records import Event, Gap, GapKind, LogEntry
from collector.snapshot.pagerduty import read_incident, read_log_entries
from collector.sources.pagerduty import PagerDutyError, make_client
from collector.sources.pagerduty_incident import fetch_incident, fetch_incident_lists
from collector.sources.pagerduty_lists import list_resolved_incidents
from report.words import Words, event_line, gap_line
from report.words.formats import local as format_local

Json = dict[str, Any]
MAX_RETRIES = 2
SEVERITY = {"P1": "P1 (critical: service down)", "P3": "P3 (minor)"}
INCIDENT_PATH = r"^/incidents/P7DBOOM$"


def utc(text: str) -> datetime:
    """'2025-10-25 14:32' (or with seconds) as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def fixture(incident_id: str) -> Json:
    data: Json = json.loads((FIXTURES / "pagerduty" / f"{incident_id}.json").read_text("utf-8"))
    return data


def connect(
    sim: PagerDutySimulator, *, token: str = TOKEN, timeout: float = 2.0
) -> pagerduty.RestApiV2Client:
    settings = PagerDutySettings(
        base_url=sim.base_url, token=token, timeout=timeout, max_retries=MAX_RETRIES
    )
    return make_client(settings, str(sim.ca_path))


def fetch_incident_data(client: pagerduty.RestApiV2Client, incident_id: str) -> Json:
    """The incident and its lists, as a draft fetches them (collector/sources/collect.py)."""
    return fetch_incident_lists(client, fetch_incident(client, incident_id))


def fetch(sim: PagerDutySimulator, incident_id: str = "P7DBOOM", **kwargs: Any) -> Json:
    with connect(sim, **kwargs) as client:
        return fetch_incident_data(client, incident_id)


def calls(sim: PagerDutySimulator, path: str) -> list[Any]:
    return [request for request in sim.requests if request.path == path]


def rows(events: list[Event]) -> list[tuple[datetime, str, str, str]]:
    return [(e.time, e.kind, e.phase, e.actor) for e in events]


def kinds_in(data: Json) -> Counter[str]:
    """Log entry kinds counted straight from the raw JSON (independent of the reader)."""
    return Counter(e["type"].removesuffix("_log_entry") for e in data["log_entries"])


@pytest.fixture(scope="module")
def fetched(pd_sim: PagerDutySimulator) -> dict[str, Json]:
    """The three fixture incidents, fetched once through the real client."""
    with connect(pd_sim) as client:
        return {i: fetch_incident_data(client, i) for i in ("P7DBOOM", "PBIGLOG", "PLOWURG")}


def analyse(data: Json) -> tuple[list[Event], Any, list[LogEntry]]:
    entries = read_log_entries(data["log_entries"])
    figures = compute_incident_figures(read_incident(data["incident"]), entries, SEVERITY)
    return build_timeline(entries), figures, entries


# -- the three fixture incidents --------------------------------------------------------------

PG, ALICE, BRUNO = "PostgreSQL Production", "Alice Martin", "Bruno Keller"


def test_demo_incident_timeline_is_the_story(fetched: dict[str, Json]) -> None:
    events, _, _ = analyse(fetched["P7DBOOM"])
    assert rows(events) == [
        (utc("2025-10-25 14:32"), "trigger", "detection", PG),
        (utc("2025-10-25 14:32"), "assign", "escalation", PG),
        (utc("2025-10-25 14:33"), "notify", "escalation", PG),
        (utc("2025-10-25 14:33"), "notify", "escalation", PG),
        (utc("2025-10-25 14:34"), "acknowledge", "response", ALICE),
        (utc("2025-10-25 14:35"), "priority_change", "escalation", ALICE),
        (utc("2025-10-25 14:36"), "escalate", "escalation", ALICE),
        (utc("2025-10-25 14:36"), "notify", "escalation", PG),
        (utc("2025-10-25 14:37"), "responder_request", "escalation", ALICE),
        (utc("2025-10-25 14:38"), "status_update", "communication", ALICE),
        (utc("2025-10-25 14:40"), "annotate", "response", ALICE),
        (utc("2025-10-25 14:45"), "annotate", "response", BRUNO),
        (utc("2025-10-25 14:52"), "annotate", "response", ALICE),
        (utc("2025-10-25 15:05"), "status_update", "communication", ALICE),
        (utc("2025-10-25 15:10"), "resolve", "resolution", ALICE),
    ]
    assert [e.ref for e in events] == [e["id"] for e in fixture("P7DBOOM")["log_entries"]]
    assert event_line(events[0]) == "Triggered: PostgresDown: PostgreSQL on db-01 is down"
    assert event_line(events[2]) == "Notified Alice Martin by sms"
    assert event_line(events[3]) == "Notified Alice Martin by push notification"
    assert event_line(events[10]).startswith("Note: Diagnosis: the kernel OOM killer")
    assert not any(event_line(e).startswith("Reopened") for e in events)


def test_demo_incident_figures(fetched: dict[str, Json]) -> None:
    _, fig, _ = analyse(fetched["P7DBOOM"])
    assert fig.started_at == fig.detected_at == utc("2025-10-25 14:32")
    assert fig.resolved_at == utc("2025-10-25 15:10")
    assert fig.duration == timedelta(minutes=38)
    assert fig.detected_by.value == "automated alert"
    assert fig.detection_summary == "PostgresDown: PostgreSQL on db-01 is down"
    assert (fig.acknowledged_at, fig.acknowledged_by) == (utc("2025-10-25 14:34"), ALICE)
    assert fig.time_to_acknowledge == timedelta(minutes=2)
    assert fig.escalations == 1
    # Three notify entries, two people: Alice twice (SMS, push), Bruno once.
    assert fig.people_notified == (ALICE, BRUNO)
    assert fig.people_engaged == (ALICE, BRUNO)
    assert fig.responders_requested == ("Chloé Dubois",)
    assert fig.status_updates == 2
    assert fig.stakeholders_informed == 3
    assert fig.reopened == 0
    assert (fig.priority, fig.severity) == ("P1", "P1 (critical: service down)")
    assert fig.sources["people_notified"] == source("notify_entries", n=3)
    assert Words("en").source(fig.sources["people_notified"]) == "3 notify log entries"


# Pinned from PBIGLOG.json (make_big_incident.py), so that a change of phase or count shows.
BIG_COUNTS = {
    ("detection", "trigger"): 2,
    ("escalation", "assign"): 2,
    ("escalation", "notify"): 141,
    ("escalation", "escalate"): 47,
    ("escalation", "unacknowledge"): 47,
    ("escalation", "reassign"): 15,
    ("response", "acknowledge"): 47,
    ("response", "annotate"): 47,
    ("resolution", "resolve"): 2,
}


def test_big_incident_timeline(fetched: dict[str, Json]) -> None:
    raw = fixture("PBIGLOG")
    events, _, _ = analyse(fetched["PBIGLOG"])
    counts = Counter((e.phase, e.kind) for e in events)
    assert counts == BIG_COUNTS
    assert Counter({kind: n for (_, kind), n in counts.items()}) == kinds_in(raw)
    assert sum(counts.values()) == len(events) == 350
    # Same-second entries (notify SMS + push, unacknowledge + escalate) keep PagerDuty's order,
    # across four pages fetched side by side.
    assert [e.ref for e in events] == [e["id"] for e in raw["log_entries"]]
    assert rows(events)[0] == (
        utc("2025-11-03 09:00"),
        "trigger",
        "detection",
        "Edge Load Balancers",
    )
    assert rows(events)[-1] == (
        utc("2025-11-03 16:53:30"),
        "resolve",
        "resolution",
        "Bruno Keller",
    )
    reopened = [e for e in events if event_line(e).startswith("Reopened: ")]
    assert [(e.time, e.kind) for e in reopened] == [(utc("2025-11-03 12:44"), "trigger")]


def test_big_incident_figures(fetched: dict[str, Json]) -> None:
    raw = fixture("PBIGLOG")
    _, fig, _ = analyse(fetched["PBIGLOG"])
    notified = {e["user"]["summary"] for e in raw["log_entries"] if e["type"] == "notify_log_entry"}
    assert fig.started_at == fig.detected_at == utc("2025-11-03 09:00")
    assert fig.resolved_at == utc("2025-11-03 16:53:30")
    assert fig.duration == timedelta(hours=7, minutes=53, seconds=30)
    assert fig.detected_by.value == "automated alert"
    assert fig.detection_summary == "HighErrorRate: 5xx rate above 5 % on edge-lb-eu-west-1"
    assert fig.acknowledged_at == utc("2025-11-03 09:02")
    assert fig.acknowledged_by == "Dmitri Volkov"
    assert fig.time_to_acknowledge == timedelta(minutes=2)
    assert fig.escalations == kinds_in(raw)["escalate"] == 47
    assert set(fig.people_notified) == notified
    assert fig.people_notified == ("Dmitri Volkov", "Bruno Keller")
    assert fig.people_engaged == ("Dmitri Volkov", "Bruno Keller")
    assert fig.responders_requested == ()
    assert fig.status_updates == 0
    assert fig.stakeholders_informed == 0
    assert fig.reopened == 1
    assert (fig.priority, fig.severity) == (None, "unknown")


def test_low_urgency_incident_timeline_and_figures(fetched: dict[str, Json]) -> None:
    raw = fixture("PLOWURG")
    events, fig, _ = analyse(fetched["PLOWURG"])
    assert Counter((e.phase, e.kind) for e in events) == {
        ("detection", "trigger"): 1,
        ("escalation", "assign"): 1,
        ("escalation", "notify"): 1,
        ("response", "acknowledge"): 1,
        ("response", "annotate"): 1,
        ("resolution", "resolve"): 1,
    }
    assert Counter(e.kind for e in events) == kinds_in(raw)
    assert rows(events)[0] == (utc("2025-11-05 03:10"), "trigger", "detection", "Nightly Backups")
    # Auto-resolved by timeout: the service, not a person, closes it.
    assert rows(events)[-1] == (utc("2025-11-05 07:10"), "resolve", "resolution", "Nightly Backups")
    assert read_incident(fetched["PLOWURG"]["incident"]).urgency == "low"
    assert fig.started_at == fig.detected_at == utc("2025-11-05 03:10")
    assert fig.resolved_at == utc("2025-11-05 07:10")
    assert fig.duration == timedelta(hours=4)
    assert fig.detected_by.value == "automated alert"
    assert fig.detection_summary == "BackupJobSlow: backup on db-02 running for more than 2h"
    assert (fig.acknowledged_at, fig.acknowledged_by) == (utc("2025-11-05 03:25"), ALICE)
    assert fig.time_to_acknowledge == timedelta(minutes=15)
    assert fig.escalations == 0
    assert fig.people_notified == fig.people_engaged == (ALICE,)
    assert fig.responders_requested == ()
    assert fig.status_updates == fig.stakeholders_informed == fig.reopened == 0
    assert (fig.priority, fig.severity) == ("P3", "P3 (minor)")


def _raw_trigger(agent_type: str, channel: str) -> Json:
    return {
        "id": "R1",
        "type": "trigger_log_entry",
        "summary": "Triggered.",
        "created_at": "2025-11-05T03:10:00Z",
        "agent": {"id": "X1", "type": agent_type, "summary": "someone"},
        "channel": {"type": channel, "summary": "Checkout fails for me"},
    }


@pytest.mark.parametrize(
    ("agent_type", "channel", "expected"),
    [
        ("user_reference", "email", "customer report"),
        ("integration_reference", "email", "customer report"),
        ("generic_email_inbound_integration_reference", "email", "customer report"),
        ("user_reference", "web_trigger", "manual report"),
        ("user_reference", "website", "manual report"),
        ("service_reference", "email", "automated alert"),
        ("service_reference", "api", "automated alert"),
        ("integration_reference", "api", "automated alert"),
    ],
)
def test_detected_by_follows_the_first_trigger(
    fetched: dict[str, Json], agent_type: str, channel: str, expected: str
) -> None:
    incident = read_incident(fetched["PLOWURG"]["incident"])
    entries = read_log_entries([_raw_trigger(agent_type, channel)])
    assert compute_incident_figures(incident, entries, {}).detected_by.value == expected


def test_only_a_trigger_after_a_resolve_reopens(fetched: dict[str, Json]) -> None:
    incident = read_incident(fetched["PLOWURG"]["incident"])
    raw = [
        _raw_trigger("service_reference", "api"),
        {**_raw_trigger("service_reference", "api"), "id": "R2"},
        {**_raw_trigger("user_reference", "website"), "id": "R3", "type": "resolve_log_entry"},
    ]
    entries = read_log_entries(raw[::-1])
    assert compute_incident_figures(incident, entries, {}).reopened == 0
    assert not any(event_line(e).startswith("Reopened") for e in build_timeline(entries))


# -- pagination ----------------------------------------------------------------------------------


def test_every_log_entry_and_alert_once_pages_side_by_side(
    fresh_pd_sim: PagerDutySimulator,
) -> None:
    raw = fixture("PBIGLOG")
    fresh_pd_sim.delay = 0.4  # every answer takes 0.4 s: sequential pages would add up
    started = time.monotonic()
    data = fetch(fresh_pd_sim, "PBIGLOG")
    elapsed = time.monotonic() - started
    assert data["errors"] == []
    ids = [e["id"] for e in data["log_entries"]]
    assert len(ids) == len(set(ids)) == 350
    assert set(ids) == {e["id"] for e in raw["log_entries"]}
    alert_ids = [a["id"] for a in data["alerts"]]
    assert len(alert_ids) == len(set(alert_ids)) == 120
    assert len(data["notes"]) == len(raw["notes"]) == 47

    log_calls = calls(fresh_pd_sim, "/incidents/PBIGLOG/log_entries")
    alert_calls = calls(fresh_pd_sim, "/incidents/PBIGLOG/alerts")
    assert [c.query["offset"] for c in log_calls][0] == ["0"]
    assert sorted(c.query["offset"][0] for c in log_calls) == ["0", "100", "200", "300"]
    assert sorted(c.query["offset"][0] for c in alert_calls) == ["0", "100"]
    assert all(c.query["limit"] == ["100"] for c in log_calls + alert_calls)
    assert log_calls[0].query["total"] == ["true"]
    assert all(c.query["include[]"] == ["channels"] for c in log_calls)
    assert len(fresh_pd_sim.requests) == 1 + 4 + 2 + 1
    # incident, then first page, then the three remaining pages together: 3 round trips.
    # One after another they would take at least 5 (2.0 s).
    assert 1.2 <= elapsed < 1.8, elapsed


def _huge_incident(entries: int, alerts: int) -> Json:
    """An incident with `entries` small log entries spread over one day, `alerts` alerts."""
    start = datetime(2025, 11, 10, tzinfo=timezone.utc)

    def iso(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    log = [
        {
            "id": f"RHUGE{i:06d}",
            "type": "trigger_log_entry" if i == 0 else "notify_log_entry",
            "created_at": iso(start + timedelta(seconds=i * 86_400 // entries)),
            "agent": {"id": "PSVC", "type": "service_reference", "summary": "Huge"},
            "channel": {"type": "api" if i == 0 else "sms"},
            "user": {"id": f"PU{i % 7}", "type": "user_reference", "summary": f"User {i % 7}"},
        }
        for i in range(entries)
    ]
    incident = {
        "id": "PHUGE01",
        "incident_number": 4242,
        "title": "Huge",
        "status": "resolved",
        "urgency": "high",
        "created_at": iso(start),
        "resolved_at": iso(start + timedelta(days=1)),
        "service": {"id": "PSVC", "type": "service_reference", "summary": "Huge"},
        "priority": None,
    }
    alert_list = [
        {
            "id": f"QHUGE{i:06d}",
            "created_at": iso(start),
            "status": "resolved",
            "alert_key": f"k{i}",
        }
        for i in range(alerts)
    ]
    return {"incident": incident, "log_entries": log, "alerts": alert_list, "notes": []}


@pytest.mark.slow
def test_lists_past_the_10000_offset_limit(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.add_incident(_huge_incident(10_050, 10_050))
    data = fetch(fresh_pd_sim, "PHUGE01")

    # Log entries: split by since/until until each part fits, every entry exactly once.
    ids = [e["id"] for e in data["log_entries"]]
    assert len(ids) == len(set(ids)) == 10_050
    log_calls = calls(fresh_pd_sim, "/incidents/PHUGE01/log_entries")
    assert any("since" in c.query and "until" in c.query for c in log_calls)
    assert all(int(c.query["offset"][0]) + int(c.query["limit"][0]) <= 10_000 for c in log_calls)
    assert all(c.status == 200 for c in fresh_pd_sim.requests)
    assert len(log_calls) < 140  # 102 pages plus a few halvings, not a request storm
    entries = read_log_entries(data["log_entries"])
    assert [e.id for e in entries] == [f"RHUGE{i:06d}" for i in range(10_050)]

    # Alerts cannot be narrowed by time: the first 10,000 are kept and the gap is said.
    alert_calls = calls(fresh_pd_sim, "/incidents/PHUGE01/alerts")
    assert len({a["id"] for a in data["alerts"]}) == len(data["alerts"]) == 10_000
    assert len(alert_calls) == 100
    assert not any("since" in c.query for c in alert_calls)
    assert data["errors"] == [
        Gap(
            "PagerDuty",
            "alerts",
            GapKind.TRUNCATED,
            "/incidents/PHUGE01/alerts",
            10_000,
            10_050,
        )
    ]
    assert gap_line(data["errors"][0]) == (
        "PagerDuty alerts: only the first 10000 of 10050 were fetched; PagerDuty's pagination"
        " stops at 10000 and /incidents/PHUGE01/alerts cannot be narrowed by time"
    )


# -- faults --------------------------------------------------------------------------------------


def test_rejected_token_names_the_variable(fresh_pd_sim: PagerDutySimulator) -> None:
    with pytest.raises(PagerDutyError, match="HTTP 401.*PAGERDUTY_API_TOKEN"):
        fetch(fresh_pd_sim, token="not-the-token")
    assert len(fresh_pd_sim.requests) == 1  # a 401 is never retried


def test_missing_token_names_the_variable() -> None:
    settings = PagerDutySettings(base_url="https://127.0.0.1:9", token=None)
    with pytest.raises(PagerDutyError, match="PAGERDUTY_API_TOKEN"):
        make_client(settings, None)


def test_forbidden(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.inject(INCIDENT_PATH, 403)
    with pytest.raises(PagerDutyError, match=r"refused access to incident P7DBOOM \(HTTP 403\)"):
        fetch(fresh_pd_sim)
    assert len(fresh_pd_sim.requests) == 1


def test_unknown_incident_names_the_id(fresh_pd_sim: PagerDutySimulator) -> None:
    with pytest.raises(PagerDutyError, match=r"no incident PNOSUCH \(HTTP 404\)"):
        fetch(fresh_pd_sim, "PNOSUCH")


@pytest.mark.slow
def test_rate_limit_waits_for_the_reset_then_succeeds(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.inject(INCIDENT_PATH, 429, headers={"ratelimit-reset": "1"})
    started = time.monotonic()
    data = fetch(fresh_pd_sim)
    elapsed = time.monotonic() - started
    assert data["errors"] == [] and len(data["log_entries"]) == 15
    assert [c.status for c in calls(fresh_pd_sim, "/incidents/P7DBOOM")] == [429, 200]
    # The reset (1 s) plus the client's first backoff (0.5 s); nothing like a minute.
    assert 1.0 <= elapsed < 2.5, elapsed


@pytest.mark.slow
def test_endless_rate_limiting_ends_with_a_clear_error(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.inject(INCIDENT_PATH, 429, times=50, headers={"ratelimit-reset": "1"})
    started = time.monotonic()
    with pytest.raises(PagerDutyError, match="kept rate-limiting requests for incident P7DBOOM"):
        fetch(fresh_pd_sim)
    elapsed = time.monotonic() - started
    assert len(fresh_pd_sim.requests) == MAX_RETRIES + 1 <= MAX_RETRIES + 2
    # Two resets waited (none after the last answer) and backoffs of 0.5 s and 1 s.
    assert 2.0 <= elapsed < 4.5, elapsed


@pytest.mark.slow
def test_simulated_rate_limit_is_waited_out(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.rate_limit, fresh_pd_sim.rate_window = 3, 1.0
    data = fetch(fresh_pd_sim)
    assert data["errors"] == []
    assert (len(data["log_entries"]), len(data["alerts"]), len(data["notes"])) == (15, 1, 3)
    limited = [r for r in fresh_pd_sim.responses if r.status == 429]
    assert limited and all(r.headers["ratelimit-reset"] == "1" for r in limited)


@pytest.mark.slow
@pytest.mark.parametrize(("status", "times"), [(500, 2), (503, 1), (502, 1)])
def test_server_errors_are_retried(
    fresh_pd_sim: PagerDutySimulator, status: int, times: int
) -> None:
    fresh_pd_sim.inject(INCIDENT_PATH, status, times=times)
    data = fetch(fresh_pd_sim)
    assert data["errors"] == [] and len(data["log_entries"]) == 15
    statuses = [c.status for c in calls(fresh_pd_sim, "/incidents/P7DBOOM")]
    assert statuses == [status] * times + [200]


@pytest.mark.slow
def test_persistent_server_error_is_reported_after_retries(
    fresh_pd_sim: PagerDutySimulator,
) -> None:
    fresh_pd_sim.inject(INCIDENT_PATH, 500, times=50)
    with pytest.raises(PagerDutyError, match="HTTP 500 for incident P7DBOOM .* after retries"):
        fetch(fresh_pd_sim)
    assert len(fresh_pd_sim.requests) == MAX_RETRIES + 1


@pytest.mark.slow
def test_server_error_on_log_entries_still_drafts(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.inject(r"/log_entries$", 500, times=50)
    data = fetch(fresh_pd_sim)
    assert data["incident"]["id"] == "P7DBOOM" and data["log_entries"] == []
    [gap] = data["errors"]
    assert (gap.source, gap.subject, gap.kind) == ("PagerDuty", "log_entries", GapKind.UNFETCHED)
    assert "HTTP 500" in gap.detail


def test_slow_answer_is_retried(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.timeout_sleep = 1.0
    fresh_pd_sim.inject(INCIDENT_PATH, "timeout")
    data = fetch(fresh_pd_sim, timeout=0.3)
    assert data["errors"] == [] and data["incident"]["id"] == "P7DBOOM"


@pytest.mark.slow
def test_no_answer_ends_with_a_clear_error(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.timeout_sleep = 1.0
    fresh_pd_sim.inject(INCIDENT_PATH, "timeout", times=MAX_RETRIES + 1)
    started = time.monotonic()
    with pytest.raises(PagerDutyError) as caught:
        fetch(fresh_pd_sim, timeout=0.3)
    assert str(caught.value) == (
        "PagerDuty did not answer incident P7DBOOM within 0.3 s (3 attempts): try again later,"
        " or raise pagerduty.timeout_seconds in the configuration"
    )
    assert time.monotonic() - started < 4.0


def test_malformed_log_entries_still_drafts_a_report(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.inject(r"/log_entries$", "malformed")
    data = fetch(fresh_pd_sim)
    assert [gap_line(gap) for gap in data["errors"]] == [
        "PagerDuty log_entries: PagerDuty answered /incidents/P7DBOOM/log_entries with a body"
        " that is not JSON (malformed response)"
    ]
    assert data["log_entries"] == [] and len(data["alerts"]) == 1 and len(data["notes"]) == 3
    incident = read_incident(data["incident"])
    fig = compute_incident_figures(incident, read_log_entries(data["log_entries"]), SEVERITY)
    assert fig.started_at == incident.created_at == utc("2025-10-25 14:32")
    assert fig.resolved_at == utc("2025-10-25 15:10") and fig.detected_by.value == "unknown"


def test_malformed_incident_is_an_error(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.inject(INCIDENT_PATH, "malformed")
    with pytest.raises(PagerDutyError, match="not JSON"):
        fetch(fresh_pd_sim)


@pytest.mark.parametrize("part", ["log_entries", "alerts", "notes"])
def test_empty_body_on_a_part_is_recorded(fresh_pd_sim: PagerDutySimulator, part: str) -> None:
    fresh_pd_sim.inject(rf"/{part}$", "empty")
    data = fetch(fresh_pd_sim)
    assert data[part] == []
    [gap] = data["errors"]
    assert gap.subject == part and "malformed" in gap.detail


def test_empty_incident_body_is_an_error(fresh_pd_sim: PagerDutySimulator) -> None:
    fresh_pd_sim.inject(INCIDENT_PATH, "empty")
    with pytest.raises(PagerDutyError, match="without 'incident'"):
        fetch(fresh_pd_sim)


# -- time zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/Paris", "Asia/Kolkata", "America/New_York"])
def test_times_with_an_offset_are_read_as_utc(pd_sim: PagerDutySimulator, zone: str) -> None:
    with connect(pd_sim) as client:
        listed = client.get(
            "/incidents", params={"time_zone": zone, "date_range": "all", "limit": 100}
        ).json()["incidents"]
        log = client.get(
            "/incidents/P7DBOOM/log_entries",
            params={"time_zone": zone, "limit": 100, "include[]": ["channels"]},
        ).json()["log_entries"]
    by_id = {i["id"]: i for i in listed}
    if zone == "Europe/Paris":  # summer time on 25 October, winter time in November
        assert by_id["P7DBOOM"]["created_at"] == "2025-10-25T16:32:00+02:00"
        assert by_id["PLOWURG"]["created_at"] == "2025-11-05T04:10:00+01:00"
    for incident_id, expected in [
        ("P7DBOOM", ("2025-10-25 14:32", "2025-10-25 15:10")),
        ("PBIGLOG", ("2025-11-03 09:00", "2025-11-03 16:53:30")),
        ("PLOWURG", ("2025-11-05 03:10", "2025-11-05 07:10")),
    ]:
        incident = read_incident(by_id[incident_id])
        assert (incident.created_at, incident.resolved_at) == (utc(expected[0]), utc(expected[1]))
        assert incident.created_at.tzinfo is timezone.utc
    entries = read_log_entries(log)
    expected_times = [
        datetime.fromisoformat(e["created_at"].replace("Z", "+00:00"))
        for e in fixture("P7DBOOM")["log_entries"]
    ]
    assert all(not e["created_at"].endswith("Z") for e in log)
    assert [e.time for e in entries] == expected_times
    assert all(e.time.tzinfo is timezone.utc for e in entries)


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        ("2025-10-25 14:32", " (16:32 CEST)"),
        ("2025-10-26 00:30", " (02:30 CEST)"),
        ("2025-10-26 00:59:59", " (02:59 CEST)"),
        ("2025-10-26 01:00", " (02:00 CET)"),
        ("2025-10-26 01:30", " (02:30 CET)"),
        ("2025-11-05 03:10", " (04:10 CET)"),
    ],
)
def test_local_time_on_both_sides_of_the_dst_change(moment: str, shown: str) -> None:
    assert format_local(utc(moment), "Europe/Paris") == shown
    assert format_local(utc(moment), None) == ""


# -- resolved-incident listing -------------------------------------------------------------------


def _list(sim: PagerDutySimulator, since: str, until: str, **kwargs: Any) -> list[str]:
    with connect(sim) as client:
        found = list_resolved_incidents(client, utc(since), utc(until), **kwargs)
    return [item["id"] for item in found]


def test_lists_resolved_incidents_oldest_resolve_first(fresh_pd_sim: PagerDutySimulator) -> None:
    ids = _list(fresh_pd_sim, "2025-10-01 00:00", "2025-12-01 00:00")
    assert ids == ["P7DBOOM", "PBIGLOG", "PLOWURG"]
    for request in fresh_pd_sim.requests:
        assert request.path == "/incidents" and request.status == 200
        assert request.query["statuses[]"] == ["resolved"]
        assert request.query["time_zone"] == ["UTC"]
        assert {"since", "until"} <= request.query.keys()


def test_resolve_window_decides_not_creation(pd_sim: PagerDutySimulator) -> None:
    # PBIGLOG was created at 09:00, before the window, and resolved at 16:53:30, inside it.
    assert _list(pd_sim, "2025-11-03 12:00", "2025-12-01 00:00") == ["PBIGLOG", "PLOWURG"]
    # PLOWURG resolved at 07:10, ten minutes after this window ends.
    assert _list(pd_sim, "2025-10-01 00:00", "2025-11-05 07:00") == ["P7DBOOM", "PBIGLOG"]
    assert _list(pd_sim, "2025-10-01 00:00", "2025-11-05 07:10") == [
        "P7DBOOM",
        "PBIGLOG",
        "PLOWURG",
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"service_ids": ["PSVCPG1"]}, ["P7DBOOM"]),
        ({"service_ids": ["PSVCPG1", "PSVCBK2"]}, ["P7DBOOM", "PLOWURG"]),
        ({"urgencies": ["low"]}, ["PLOWURG"]),
        ({"urgencies": ["high"], "team_ids": ["PTMNETW"]}, ["PBIGLOG"]),
        ({"service_ids": [], "urgencies": []}, ["P7DBOOM", "PBIGLOG", "PLOWURG"]),
    ],
)
def test_listing_filters(
    pd_sim: PagerDutySimulator, filters: dict[str, list[str]], expected: list[str]
) -> None:
    assert _list(pd_sim, "2025-10-01 00:00", "2025-12-01 00:00", filters=filters) == expected


def test_window_longer_than_six_months_is_split(fresh_pd_sim: PagerDutySimulator) -> None:
    ids = _list(fresh_pd_sim, "2025-01-01 00:00", "2025-12-31 00:00")
    assert ids == ["P7DBOOM", "PBIGLOG", "PLOWURG"]
    spans = [
        (utc(r.query["since"][0][:-1]), utc(r.query["until"][0][:-1]))
        for r in fresh_pd_sim.requests
    ]
    assert all(r.status == 200 for r in fresh_pd_sim.requests)
    assert len(spans) == 3
    assert spans[0][0] == utc("2025-01-01 00:00") - timedelta(days=30)  # created_lookback
    assert spans[-1][1] == utc("2025-12-31 00:00")
    assert all(end - start <= timedelta(days=180) for start, end in spans)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
