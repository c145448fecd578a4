"""Pure analysis: timeline phases, incident figures, threshold crossings (small inline data)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd

from collector.analysis.figures import compute_incident_figures
from collector.analysis.metrics import detect_threshold_crossings, summarize_queries
from collector.analysis.timeline import build_timeline, group_repeats
from collector.records import AlertInterval, Incident, LogEntry
from collector.snapshot.prometheus import read_query_results
from report.words import Words, event_line

T0 = datetime(2025, 10, 25, 14, 32, tzinfo=timezone.utc)


def entry(
    minute: int,
    kind: str,
    agent: str = "Alice",
    agent_type: str = "user_reference",
    channel: str = "website",
    targets: tuple[str, ...] = (),
    note: str = "",
) -> LogEntry:
    return LogEntry(
        id=f"E{minute:03d}{kind[:3]}",
        type=f"{kind}_log_entry",
        time=T0 + timedelta(minutes=minute),
        agent=agent,
        agent_type=agent_type,
        channel=channel,
        summary=f"{kind} by {agent}",
        note=note,
        targets=targets,
        link="https://pd.example/log",
    )


def incident(status: str = "resolved", priority: str | None = "P1") -> Incident:
    return Incident(
        id="PX",
        number=7,
        title="DB down",
        status=status,
        urgency="high",
        priority=priority,
        service="db",
        service_id="S",
        escalation_policy="EP",
        teams=(),
        created_at=T0,
        resolved_at=T0 + timedelta(minutes=38),
        link="https://pd.example/PX",
        resolve_reason=None,
        conference_bridge=None,
    )


STORY = [
    entry(
        0, "trigger", agent="PostgreSQL Production", agent_type="service_reference", channel="api"
    ),
    entry(1, "notify", agent="PagerDuty", agent_type="system", channel="sms", targets=("Alice",)),
    entry(2, "acknowledge"),
    entry(4, "escalate", targets=("Bruno",)),
    entry(4, "notify", agent="PagerDuty", agent_type="system", channel="sms", targets=("Bruno",)),
    entry(6, "status_update"),
    entry(8, "annotate", agent="Bruno", note="OOM killer | restart"),
    entry(38, "resolve"),
]


def test_timeline_puts_each_entry_in_its_phase() -> None:
    events = build_timeline(STORY)
    phases = [(e.kind, e.phase) for e in events]
    assert phases == [
        ("trigger", "detection"),
        ("notify", "escalation"),
        ("acknowledge", "response"),
        ("escalate", "escalation"),
        ("notify", "escalation"),
        ("status_update", "communication"),
        ("annotate", "response"),
        ("resolve", "resolution"),
    ]
    assert event_line(events[1]) == "Notified Alice by sms"
    assert event_line(events[6]) == "Note: OOM killer | restart"


def test_reopened_incident_is_marked_and_unknown_types_kept() -> None:
    entries = [
        *STORY,
        entry(40, "trigger", agent="svc", agent_type="service_reference"),
        entry(41, "brand_new_future"),
    ]
    events = build_timeline(entries)
    assert events[-2].reopened and event_line(events[-2]).startswith("Reopened: ")
    assert events[-1].kind == "brand_new_future" and events[-1].phase == "response"
    figures = compute_incident_figures(incident(), entries, {})
    assert figures.reopened == 1


def test_alert_intervals_join_the_timeline_before_same_minute_pages() -> None:
    alert = AlertInterval(
        "PostgresDown", "firing", T0, T0 + timedelta(minutes=15), (("instance", "db-01"),), "ALERTS"
    )
    events = build_timeline(STORY, [alert])
    assert events[0].source == "prometheus" and events[0].kind == "alert_firing"
    assert [e.kind for e in events if e.source == "prometheus"] == [
        "alert_firing",
        "alert_resolved",
    ]


def test_incident_figures_are_computed_from_log_entries() -> None:
    figures = compute_incident_figures(incident(), STORY, {"P1": "SEV1"})
    assert figures.started_at == T0
    assert figures.duration == timedelta(minutes=38)
    assert figures.time_to_acknowledge == timedelta(minutes=2)
    assert figures.detected_by.value == "automated alert"
    assert figures.escalations == 1
    assert figures.people_notified == ("Alice", "Bruno")
    assert figures.people_engaged == ("Alice", "Bruno")
    assert figures.status_updates == 1
    assert figures.severity == "SEV1"
    said = Words("en").source(figures.sources["acknowledged_at"])
    assert said == "first acknowledge log entry E002ack"


def test_manual_trigger_and_open_incident() -> None:
    entries = [entry(0, "trigger", channel="web_trigger")]
    figures = compute_incident_figures(incident(status="triggered", priority=None), entries, {})
    assert figures.detected_by.value == "manual report"
    assert figures.acknowledged_at is None and figures.time_to_acknowledge is None
    assert figures.severity == "unknown"


def frame(values: list[float], query: str = "mem", series: str = '{instance="a"}') -> pd.DataFrame:
    times = pd.date_range(T0, periods=len(values), freq="60s", tz="UTC")
    return pd.DataFrame({"query": query, "series": series, "time": times, "value": values})


def test_threshold_crossing_is_interpolated_to_the_second() -> None:
    data = frame([70.0, 78.0, 82.0, 79.0, 96.0])
    crossings = detect_threshold_crossings(data, "mem", [80.0, 95.0])
    assert [(c.threshold, c.time) for c in crossings] == [
        (80.0, T0 + timedelta(minutes=1, seconds=30)),
        (80.0, T0 + timedelta(minutes=3, seconds=4)),
        (95.0, T0 + timedelta(minutes=3, seconds=56)),
    ]


def test_a_crossing_half_way_between_two_seconds_rounds_to_the_even_one() -> None:
    """Crossings are computed in arrays; the second they land on is rounded half to even, as
    pandas rounds, in the frame's own time unit (here one sample a second)."""
    for unit in ("s", "ms", "us", "ns"):
        data = pd.DataFrame(
            {
                "query": "mem",
                "series": "{}",
                "time": pd.date_range(T0, periods=6, freq="1s", tz="UTC").as_unit(unit),
                "value": [0.0, 2.0, 0.0, 2.0, 0.0, 3.0],
            }
        )
        crossings = detect_threshold_crossings(data, "mem", [1.0])
        # At 0.5 s (to 0), 2.5 s (to 2) and 4 + 1/3 s (to 4).
        seconds = [(c.time - T0).total_seconds() for c in crossings]
        assert seconds == [0.0, 2.0, 4.0], unit


def test_summaries_state_failures_and_empty_results() -> None:
    results = [
        {"name": "mem", "title": "Memory", "kind": "memory", "unit": "%", "error": None},
        {"name": "bad", "title": "Bad", "kind": "custom", "error": "parse error"},
        {"name": "none", "title": "None", "kind": "custom", "error": None},
    ]
    summaries = summarize_queries(read_query_results(results, frame([1.0, 5.0, 2.0])))
    assert summaries[0].peak == 5.0 and summaries[0].problem is None
    assert summaries[1].problem is not None and summaries[1].problem.key == "query_failed"
    assert summaries[1].problem.value("error") == "parse error"
    assert summaries[2].problem is not None and summaries[2].problem.key == "no_series"


def test_three_hundred_notifications_are_one_group_and_rare_kinds_stay_lines() -> None:
    people = ("Bob Nguyen", "Chloé Dubois", "Dmitri Ivanov")
    notes = [
        LogEntry(
            id=f"N{i:03d}",
            type="notify_log_entry",
            time=T0 + timedelta(seconds=17 * i),
            agent="Edge",
            agent_type="service_reference",
            channel="email",
            summary="Notified",
            note="",
            targets=(people[i % 3],),
            link="",
        )
        for i in range(300)
    ]
    entries = [entry(-1, "trigger", agent_type="service_reference"), *notes, entry(90, "resolve")]
    events = build_timeline(entries)
    groups = group_repeats(events)
    assert [(g.first.kind, g.count) for g in groups] == [
        ("trigger", 1),
        ("notify", 300),
        ("resolve", 1),
    ]
    notify = groups[1]
    assert notify.targets == people and notify.channels == ("email",)
    assert (notify.start, notify.end) == (T0, T0 + timedelta(seconds=17 * 299))
    assert sum(g.count for g in groups) == len(events) == 302


def test_four_alike_stay_separate_five_collapse() -> None:
    four = build_timeline([entry(i, "acknowledge") for i in range(4)])
    assert [g.count for g in group_repeats(four)] == [1, 1, 1, 1]
    five = build_timeline([entry(i, "acknowledge") for i in range(5)])
    assert [g.count for g in group_repeats(five)] == [5]


def test_one_alert_over_many_series_is_one_line_that_names_the_series() -> None:
    """40 hosts crossing one alert's threshold read as one firing line and one resolved line,
    with the labels they share said once; fewer than five transitions stay lines of their own."""
    hosts = [f"node-{i:02d}:9100" for i in range(40)]
    alerts = [
        AlertInterval(
            "HostMemoryHigh",
            "firing",
            T0 + timedelta(minutes=i),
            T0 + timedelta(minutes=60 + i),
            (("instance", host), ("job", "node"), ("severity", "page")),
            "ALERTS",
        )
        for i, host in enumerate(hosts)
    ]
    few = [
        AlertInterval("DiskFull", "firing", T0, T0 + timedelta(minutes=5), (("dev", d),), "ALERTS")
        for d in ("sda", "sdb")
    ]
    groups = group_repeats(build_timeline(STORY, alerts + few))
    firing = [g for g in groups if g.first.kind == "alert_firing"]
    assert [(g.first.subject, g.count, len(g.series)) for g in firing] == [
        ("HostMemoryHigh", 40, 40),
        ("DiskFull", 1, 1),
        ("DiskFull", 1, 1),
    ]
    memory = firing[0]
    assert (memory.start, memory.end) == (T0, T0 + timedelta(minutes=39))
    assert memory.shared_labels == (("job", "node"),)
    assert memory.varying_labels[:2] == ((("instance", hosts[0]),), (("instance", hosts[1]),))
    resolved = [g for g in groups if g.first.kind == "alert_resolved" and g.count > 1]
    assert [(g.first.subject, g.count) for g in resolved] == [("HostMemoryHigh", 40)]
    assert sum(g.count for g in groups) == len(STORY) + 2 * (40 + 2)
    assert Words("en").alert_group(memory) == (
        "Alert HostMemoryHigh firing (job=node) — 40 times on 40 series: "
        "instance=node-00:9100; instance=node-01:9100; instance=node-02:9100; "
        "instance=node-03:9100; instance=node-04:9100 and 35 more"
    )
    assert (
        Words("fr")
        .alert_group(memory)
        .startswith(
            "Alerte HostMemoryHigh déclenchée (firing) (job=node) — 40 fois sur 40 séries : "
            "instance=node-00:9100 ; instance=node-01:9100 ;"
        )
    )
