"""Impact figures: objectives, error budget, revenue, faults stated, working hours (inline data)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from collector.analysis.facts import DetectedBy, Note, Verdict, source
from collector.analysis.figures import IncidentFigures, compute_incident_figures
from collector.analysis.impact import FAILED, NO_DATA, NOT_CONFIGURED, OK, Impact, compute_impact
from collector.analysis.outage import OutageBasis
from collector.config import Business, Targets, load_config
from collector.snapshot.pagerduty import read_incident, read_log_entries
from collector.snapshot.prometheus import read_query_results, read_series
from collector.timeutil import parse_time
from report.words import Words

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "collector.yaml"
T0 = datetime(2025, 10, 25, 14, 32, tzinfo=timezone.utc)  # a Saturday
MINUTES = range(-10, 61)  # samples every minute, from 10 minutes before T0
TARGETS = Targets(rto=timedelta(minutes=30), rpo=timedelta(hours=1), slo_percent=99.9)
BUSINESS = Business(revenue_per_minute=50_000)
Row = tuple[str, str, datetime, float]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def series(query: str, values: Mapping[int, float], name: str = "{}") -> list[Row]:
    return [(query, name, at(m), v) for m, v in values.items()]


def frame(rows: Sequence[Row]) -> pd.DataFrame:
    data = pd.DataFrame(list(rows), columns=["query", "series", "time", "value"])
    data["time"] = pd.to_datetime(data["time"], utc=True)
    return data.sort_values(["query", "series", "time"], ignore_index=True)


def record(name: str, kind: str, error: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "title": name,
        "kind": kind,
        "unit": "",
        "query": f"promql_{name}",
        "start": "2025-10-25T14:22:00Z",
        "end": "2025-10-25T15:33:00Z",
        "step": 60,
        "error": error,
    }


def endpoints(back_at: Sequence[float]) -> list[Row]:
    """One probe per endpoint, all down from T0, each back up at its own minute."""
    return [
        row
        for i, back in enumerate(back_at)
        for row in series(
            "endpoints_up", {m: 0.0 if 0 <= m < back else 1.0 for m in MINUTES}, f'{{ep="{i}"}}'
        )
    ]


def figures(
    start: datetime = T0, minutes: float | None = 38, people: tuple[str, ...] = ("Alice", "Bruno")
) -> IncidentFigures:
    resolved = start + timedelta(minutes=minutes) if minutes is not None else None
    return IncidentFigures(
        started_at=start,
        resolved_at=resolved,
        duration=resolved - start if resolved else None,
        detected_at=start,
        detected_by=DetectedBy.AUTOMATED_ALERT,
        detection_summary="DB down",
        acknowledged_at=start + timedelta(minutes=2),
        acknowledged_by="Alice",
        time_to_acknowledge=timedelta(minutes=2),
        escalations=1,
        people_notified=people,
        people_engaged=people,
        responders_requested=(),
        status_updates=1,
        reopened=0,
        priority="P1",
        severity="P1",
        sources={
            "started_at": source("first_trigger", entry="E1"),
            "resolved_at": source("last_resolve", entry="E9"),
        },
    )


DETECTION_SOURCE = source("none_crossed")
ENGLISH = Words("en")


def impact(
    rows: Sequence[Row],
    queries: Sequence[dict[str, Any]],
    baseline: Sequence[Row] = (),
    fig: IncidentFigures | None = None,
    targets: Targets = TARGETS,
    business: Business = BUSINESS,
    zone: str | None = "Europe/Paris",
) -> Impact:
    return compute_impact(
        frame(rows),
        frame(baseline),
        read_query_results(queries, frame([])),  # typed, as the analysis reads them
        fig or figures(),
        targets,
        business,
        zone,
        detection_delay=timedelta(minutes=8),
        detection_source=DETECTION_SOURCE,
    )


AVAILABILITY = [{**record("endpoints_up", "availability"), "user_facing": True}]


def said(note: Note | None) -> str:
    """A figure's note as the English report words it."""
    return Words("en").note(note)


def test_rto_missed_by_eight_minutes_and_mitigation_at_first_endpoint_back() -> None:
    result = impact(endpoints([20, 30, 38]), AVAILABILITY)
    assert (result.outage_start, result.outage_end) == (T0, at(38))
    rto = result.objective("RTO")
    assert (rto.target, rto.actual) == (timedelta(minutes=30), timedelta(minutes=38))
    assert rto.verdict is Verdict.MISSED and rto.actual - rto.target == timedelta(minutes=8)
    said_source = ENGLISH.source(rto.source)
    assert "endpoints_up" in said_source and "promql_endpoints_up" in said_source
    assert result.figure("time_to_mitigate").value == timedelta(minutes=20)
    assert result.figure("time_to_restore").value == timedelta(minutes=38)
    down = result.figure("endpoints_down")
    assert (down.value, down.total) == (3, 3)


def test_changing_the_data_moves_the_figures() -> None:
    before = impact(endpoints([20, 30, 38]), AVAILABILITY)
    later = impact(endpoints([20, 30, 43]), AVAILABILITY)  # the last endpoint 5 minutes later
    assert later.outage_end == at(43)
    assert later.objective("RTO").verdict is Verdict.MISSED
    assert later.objective("RTO").actual == timedelta(minutes=43)
    assert later.figure("downtime").value == 43
    assert later.figure("revenue_impact").value == 50_000 * 43
    assert before.figure("revenue_impact").value == 50_000 * 38
    assert later.figure("error_budget_left").value == pytest.approx(43.2 - 43)


def test_rto_met_when_restored_within_target() -> None:
    result = impact(endpoints([10, 20, 25]), AVAILABILITY)
    assert result.objective("RTO").verdict is Verdict.MET
    assert result.objective("RTO").actual == timedelta(minutes=25)


def test_availability_prefers_the_query_with_several_series() -> None:
    pg_up = series("postgres_up", {m: 0.0 if 0 <= m < 15 else 1.0 for m in MINUTES})
    unmarked = [record("postgres_up", "availability"), record("endpoints_up", "availability")]
    result = impact(pg_up + endpoints([20, 30, 38]), unmarked)
    assert result.outage_end == at(38)
    source = result.figure("time_to_restore").source
    assert source is not None and source.value("series") == 3
    # Read from queries no one marked user-facing: no count of endpoints is claimed.
    down = result.figure("endpoints_down")
    assert down.value is None and down.note is not None and down.note.key == "not_endpoints"


def test_outage_is_the_dip_during_the_incident_from_first_down_to_last_back() -> None:
    # A blip that ended before the trigger is not this incident; a relapse after a first
    # recovery is: availability is back when it stays back.
    def up(m: int) -> float:
        return 0.0 if -10 <= m < -8 or 0 <= m < 20 or 22 <= m < 38 else 1.0

    rows = series("endpoints_up", {m: up(m) for m in MINUTES}, '{ep="0"}')
    result = impact(rows, AVAILABILITY)
    assert (result.outage_start, result.outage_end) == (T0, at(38))
    assert result.figure("time_to_mitigate").value == timedelta(minutes=20)


def test_rpo_is_the_backup_age_at_the_start() -> None:
    ages = series("backup_age", {m: 30.0 + m for m in MINUTES})
    queries = [*AVAILABILITY, record("backup_age", "backup_age")]
    rows = endpoints([38]) + ages
    met = impact(rows, queries).objective("RPO")
    assert (met.actual, met.verdict) == (timedelta(minutes=30), Verdict.MET)
    missed = impact(rows, queries, targets=Targets(rpo=timedelta(minutes=20)))
    assert missed.objective("RPO").verdict is Verdict.MISSED
    assert impact(rows, queries).figure("data_loss_window").value == 30
    # With a backup per database, the oldest one bounds the loss (ages never add up).
    fresh = series("backup_age", {m: 10.0 + m for m in MINUTES}, '{db="b"}')
    assert impact(rows + fresh, queries).objective("RPO").actual == timedelta(minutes=30)


def test_error_budget_of_99_9_percent_over_30_days() -> None:
    result = impact(endpoints([38]), AVAILABILITY)
    assert result.figure("error_budget").value == pytest.approx(43.2)
    assert result.figure("error_budget_used").value == pytest.approx(38 / 43.2 * 100)
    assert round(result.figure("error_budget_used").value, 1) == 88.0  # type: ignore[arg-type]
    assert result.figure("error_budget_left").value == pytest.approx(5.2)
    assert result.objective("SLA").verdict is Verdict.WITHIN_BUDGET
    strict = impact(endpoints([38]), AVAILABILITY, targets=Targets(slo_percent=99.99))
    assert strict.figure("error_budget").value == pytest.approx(4.32)
    assert strict.objective("SLA").verdict is Verdict.OVER_BUDGET
    assert strict.objective("SLA").share_used == pytest.approx(38 / 4.32 * 100)


def test_revenue_is_rate_times_impacted_minutes() -> None:
    result = impact(endpoints([38]), AVAILABILITY, business=Business(revenue_per_minute=50_000))
    revenue = result.figure("revenue_impact")
    assert revenue.value == 1_900_000
    assert revenue.unit == "$"
    assert "business.revenue_per_minute" in ENGLISH.source(revenue.source)


def test_missing_targets_and_queries_say_not_configured_with_the_key() -> None:
    result = impact(
        endpoints([38]), AVAILABILITY, targets=Targets(), business=Business(), zone=None
    )
    assert result.objective("RTO").verdict is Verdict.NOT_CONFIGURED
    assert result.objective("RTO").setting == "targets.rto"
    assert result.objective("RPO").setting == "targets.rpo"
    assert result.objective("SLA").setting == "targets.slo_percent"
    expected_keys = {
        "revenue_impact": "business.revenue_per_minute",
        "error_budget_used": "targets.slo_percent",
        "users_affected": "business.active_users",
        "connections_dropped": "kind 'connections'",
        "data_loss_window": "kind 'backup_age'",
        "outside_working_hours": "report.timezone",
    }
    for key, setting in expected_keys.items():
        figure = result.figure(key)
        assert (figure.status, figure.value) == (NOT_CONFIGURED, None), key
        assert setting in said(figure.note), key


def test_users_come_from_the_query_else_from_the_config() -> None:
    users = series("active_users", {m: 12_000.0 if m < 0 else 3_000.0 for m in MINUTES})
    queries = [*AVAILABILITY, record("active_users", "users")]
    from_query = impact(endpoints([38]) + users, queries).figure("users_affected")
    assert (from_query.value, from_query.status) == (12_000, OK)
    assert "promql_active_users" in ENGLISH.source(from_query.source)
    configured = Business(active_users=12_500)
    from_config = impact(endpoints([38]), AVAILABILITY, business=configured)
    assert from_config.figure("users_affected").value == 12_500
    assert ENGLISH.source(from_config.figure("users_affected").source) == "business.active_users"


def test_a_failed_query_is_stated_as_failed_never_zero() -> None:
    message = "Prometheus rejected the query: parse error at char 5"
    queries = [record("endpoints_up", "availability", error=message), record("errors", "errors")]
    queries[1]["error"] = message
    result = impact([], queries)
    for key in ("requests_failed", "endpoints_down", "time_to_restore"):
        figure = result.figure(key)
        assert figure.value is None, key
        assert message in said(figure.note), key
    assert result.figure("requests_failed").status == FAILED
    assert result.figure("time_to_restore").status == FAILED
    # Without availability data the impacted window is PagerDuty's, and it says so.
    assert result.outage_start is None
    assert result.figure("downtime").value == 38
    assert "PagerDuty used" in said(result.figure("downtime").note)
    assert message in said(result.figure("downtime").note)


def test_no_data_is_stated() -> None:
    queries = [*AVAILABILITY, record("websocket_connections", "connections")]
    dropped = impact(endpoints([38]), queries).figure("connections_dropped")
    assert (dropped.status, dropped.value) == (NO_DATA, None)
    assert "no samples" in said(dropped.note)


def test_outage_without_an_end_gives_no_rto() -> None:
    result = impact(endpoints([20, 999]), AVAILABILITY)
    assert result.outage_end is None
    assert result.objective("RTO").verdict is Verdict.NO_DATA
    assert result.figure("time_to_restore").status == NO_DATA
    assert result.figure("revenue_impact").value is None


def test_requests_failed_and_traffic_lost_against_the_baseline_week() -> None:
    errors = series("errors", {m: 100.0 if 0 <= m <= 38 else 0.0 for m in MINUTES})
    traffic = series("requests", {m: 150.0 for m in MINUTES})
    usual = series("requests", {m: 200.0 for m in MINUTES})
    queries = [*AVAILABILITY, record("errors", "errors"), record("requests", "traffic")]
    rows = endpoints([38]) + errors + traffic
    result = impact(rows, queries, baseline=usual)
    assert result.figure("requests_failed").value == pytest.approx(100 * 38 * 60)
    assert result.figure("traffic_lost").value == pytest.approx(50 * 38 * 60)
    without = impact(rows, queries).figure("traffic_lost")
    assert (without.status, without.value) == (NO_DATA, None)
    assert "no baseline" in said(without.note)


def test_connections_dropped_is_last_before_minus_lowest_during() -> None:
    counts = {m: 1_000.0 if m < 0 else (100.0 if m < 20 else 800.0) for m in MINUTES}
    queries = [*AVAILABILITY, record("websocket_connections", "connections")]
    rows = endpoints([38]) + series("websocket_connections", counts)
    assert impact(rows, queries).figure("connections_dropped").value == 900


def test_outside_working_hours_across_the_dst_change() -> None:
    every_day = Business(working_hours=(9, 18), working_days=(0, 1, 2, 3, 4, 5, 6))
    # 01:00 CEST on Saturday night to 10:00 CET on Sunday 26: ten real hours, one of them
    # (09:00-10:00 CET) inside working hours.
    night = figures(datetime(2025, 10, 25, 23, 0, tzinfo=timezone.utc), minutes=600)
    result = impact([], AVAILABILITY, fig=night, business=every_day)
    assert result.figure("minutes_outside_working_hours").value == 540
    # 07:30-08:30 UTC on the 26th is 08:30-09:30 CET (it would be 09:30-10:30 in CEST).
    morning = figures(datetime(2025, 10, 26, 7, 30, tzinfo=timezone.utc), minutes=60)
    after = impact([], AVAILABILITY, fig=morning, business=every_day)
    assert after.figure("outside_working_hours").value is True
    assert after.figure("minutes_outside_working_hours").value == 30
    # 16:30-17:30 UTC on the 26th is 17:30-18:30 CET: the close of day moved with the clock.
    evening = figures(datetime(2025, 10, 26, 16, 30, tzinfo=timezone.utc), minutes=60)
    closing = impact([], AVAILABILITY, fig=evening, business=every_day)
    assert closing.figure("minutes_outside_working_hours").value == 30


def test_weekday_evening_and_afternoon() -> None:
    # Tuesday 2025-10-21, Paris in CEST: 17:30-18:30 local, then 14:00-15:00 local.
    evening = figures(datetime(2025, 10, 21, 15, 30, tzinfo=timezone.utc), minutes=60)
    result = impact([], AVAILABILITY, fig=evening)
    assert result.figure("outside_working_hours").value is True
    assert result.figure("minutes_outside_working_hours").value == 30
    afternoon = figures(datetime(2025, 10, 21, 12, 0, tzinfo=timezone.utc), minutes=60)
    inside = impact([], AVAILABILITY, fig=afternoon)
    assert inside.figure("outside_working_hours").value is False
    assert inside.figure("minutes_outside_working_hours").value == 0


def test_team_figures_come_from_pagerduty() -> None:
    result = impact(endpoints([38]), AVAILABILITY, fig=figures(people=("A", "B", "C")))
    assert result.figure("people_engaged").value == 3
    assert result.figure("engaged_hours").value == pytest.approx(3 * 38 / 60)
    assert result.figure("escalations").value == 1
    assert result.figure("detection_delay").value == timedelta(minutes=8)
    assert result.figure("detection_delay").source == DETECTION_SOURCE


def test_demo_impact(demo_snapshot: dict[str, Any], demo_facts: dict[str, Any]) -> None:
    config = load_config(DEMO_CONFIG, {})
    pd_data = demo_snapshot["pagerduty"]
    entries = read_log_entries(pd_data["log_entries"])
    fig = compute_incident_figures(read_incident(pd_data["incident"]), entries, {})
    results = demo_snapshot["prometheus"]["results"]
    result = compute_impact(
        read_series(results),
        read_series(results, baseline=True),
        read_query_results(results),
        fig,
        config.targets,
        config.business,
        config.report.timezone,
    )
    facts, business = demo_facts["endpoints"], demo_facts["business"]
    down, back = parse_time(facts["all_down_at"]), parse_time(facts["last_back"])
    assert (result.outage_start, result.outage_end) == (down, back)
    assert back - down == timedelta(minutes=38) == result.figure("duration").value
    assert result.figure("time_to_mitigate").value == parse_time(facts["first_back"]) - down
    endpoints_down = result.figure("endpoints_down")
    assert endpoints_down.value == endpoints_down.total == facts["count"]
    assert result.figure("connections_dropped").value == business["websocket_connections"]
    assert result.figure("users_affected").value == business["active_users"]
    backup_age = down - parse_time(demo_facts["backup"]["last_success"])
    assert result.figure("data_loss_window").value == backup_age.total_seconds() / 60 == 30

    rto, rpo = result.objective("RTO"), result.objective("RPO")
    assert (rto.target, rto.actual) == (config.targets.rto, back - down)
    assert rto.verdict is Verdict.MISSED and rto.actual - rto.target == timedelta(minutes=8)
    assert (rpo.target, rpo.actual, rpo.verdict) == (config.targets.rpo, backup_age, Verdict.MET)
    assert result.figure("revenue_impact").value == 1_900_000
    assert result.figure("error_budget").value == pytest.approx(43.2)
    assert round(result.figure("error_budget_used").value, 1) == 88.0  # type: ignore[arg-type]
    assert result.figure("error_budget_left").value == pytest.approx(5.2)
    assert result.figure("outside_working_hours").value is True
    assert result.figure("people_engaged").value == len(fig.people_engaged)
    assert result.figure("engaged_hours").value == pytest.approx(len(fig.people_engaged) * 38 / 60)
    assert result.figure("requests_failed").value > 0  # type: ignore[operator]
    assert result.figure("traffic_lost").status == OK
    for figure in (*result.business, *result.technical, *result.team, *result.durations[1:]):
        assert figure.status == OK and figure.source, figure.key


def scrape_targets(down: Sequence[float]) -> list[Row]:
    """Three scrape targets `up`: the first down over [down[0], down[1]), the others up."""
    return [
        row
        for i in range(3)
        for row in series(
            "targets_up",
            {m: 0.0 if i == 0 and down[0] <= m < down[1] else 1.0 for m in MINUTES},
            f'{{instance="app-{i}"}}',
        )
    ]


def probes(count: int, down: int, back_at: float) -> list[Row]:
    """`count` blackbox probes; the first `down` of them down from T0 to `back_at`."""
    return [
        row
        for i in range(count)
        for row in series(
            "probes",
            {m: 0.0 if i < down and 0 <= m < back_at else 1.0 for m in MINUTES},
            f'{{target="https://site/{i}"}}',
        )
    ]


def user_facing(name: str, flag: bool) -> dict[str, Any]:
    return {**record(name, "availability"), "user_facing": flag}


def test_user_facing_probes_decide_the_outage_not_scrape_targets() -> None:
    # Issue 13: `up` had 1 of 3 down for 2 minutes while 8 of 12 probes were down for 50.
    rows = scrape_targets((0, 2)) + probes(12, 8, 50)
    queries = [user_facing("targets_up", False), user_facing("probes", True)]
    result = impact(rows, queries, fig=figures(minutes=70))
    assert (result.outage_start, result.outage_end) == (T0, at(50))
    assert result.figure("time_to_restore").value == timedelta(minutes=50)
    assert result.figure("endpoints_down").value == 8
    assert result.figure("endpoints_down").total == 12
    assert result.objective("RTO").verdict is Verdict.MISSED
    assert result.figure("downtime").value == 50
    assert result.figure("revenue_impact").value == 50 * 50_000
    signal = result.signal
    assert signal is not None and signal.basis is OutageBasis.USER_FACING
    assert signal.used == ("probes",)
    (context,) = signal.context
    assert (context.name, context.user_facing, context.worst_down, context.series) == (
        "targets_up",
        False,
        1,
        3,
    )
    assert (context.start, context.end) == (T0, at(2))


def test_without_a_user_facing_query_the_fallback_is_stated() -> None:
    rows = scrape_targets((0, 2))
    result = impact(rows, [user_facing("targets_up", False)])
    assert result.signal is not None and result.signal.basis is OutageBasis.NOT_MARKED
    assert result.outage_end == at(2)
    silent = impact(rows, [user_facing("targets_up", False), user_facing("probes", True)])
    assert silent.signal is not None and silent.signal.basis is OutageBasis.USER_FACING_SILENT
    assert silent.signal.used == ("targets_up",)
    assert [c.status for c in silent.signal.context] == [NO_DATA]


def test_several_user_facing_queries_count_together() -> None:
    api = [("api", s.replace("site", "api"), t, v) for _, s, t, v in probes(2, 2, 45)]
    queries = [user_facing("probes", True), user_facing("api", True)]
    result = impact(probes(4, 2, 30) + api, queries, fig=figures(minutes=50))
    assert (result.outage_start, result.outage_end) == (T0, at(45))
    assert result.figure("endpoints_down").value == 4
    assert result.figure("endpoints_down").total == 6
    assert result.signal is not None and result.signal.used == ("probes", "api")


def test_over_budget_reads_as_a_share() -> None:
    # Issue 13: 20 minutes against a 4.32-minute budget is 463 % of it, none left.
    targets = Targets(slo_percent=99.99)
    result = impact(probes(2, 2, 20), [user_facing("probes", True)], targets=targets)
    sla = result.objective("SLA")
    assert sla.verdict is Verdict.OVER_BUDGET
    assert sla.share_used is not None and round(sla.share_used) == 463
    assert result.figure("error_budget_left").value == 0


def test_an_older_snapshot_takes_user_facing_from_the_config(
    demo_snapshot: dict[str, Any],
) -> None:
    from datetime import datetime as dt

    from analysis_support import analyse_snapshot

    prometheus = {
        **demo_snapshot["prometheus"],
        "results": [
            {k: v for k, v in r.items() if k != "user_facing"}
            for r in demo_snapshot["prometheus"]["results"]
        ],
    }
    config = load_config(DEMO_CONFIG, {})
    now = dt(2025, 10, 26, tzinfo=timezone.utc)
    analysis = analyse_snapshot(demo_snapshot["pagerduty"], prometheus, config, now)
    signal = analysis.impact.signal
    assert signal is not None and signal.basis is OutageBasis.USER_FACING
    assert signal.used == ("HTTP endpoints up (blackbox probes)",)


def test_open_incident_counts_so_far_and_decides_nothing_it_cannot() -> None:
    # Still down at the last sample (minute 20), incident not resolved: 20 minutes so far.
    rows = [r for r in endpoints([90]) if r[2] <= at(20)]
    result = impact(rows, AVAILABILITY, fig=figures(minutes=None))
    assert result.so_far_until == at(20) and result.outage_end is None
    assert result.figure("downtime").value == 20
    assert result.figure("time_to_restore").value is None
    # 20 of 30 minutes: not met, not missed
    assert (
        result.objective("RTO").verdict is Verdict.ONGOING
    )  # 20 of 30 minutes: not met, not missed
    assert result.objective("SLA").verdict is Verdict.ONGOING
    assert result.objective("SLA").share_used == pytest.approx(20 / 43.2 * 100)


def test_user_facing_probes_all_up_count_no_downtime_not_pagerduty_duration() -> None:
    # Issue 26: a memory-pressure page, every probe up throughout. PagerDuty's 45 minutes are
    # no outage: no RTO met or missed, no downtime against the budget, no revenue lost.
    errors = series("errors", {m: 2.0 for m in MINUTES})
    queries = [user_facing("probes", True), record("errors", "errors")]
    result = impact(probes(3, 0, 0) + errors, queries, fig=figures(minutes=45))
    assert result.outage_start is None
    for key in ("downtime", "revenue_impact", "error_budget_used", "error_budget_left"):
        figure = result.figure(key)
        assert (figure.value, figure.status) == (None, NO_DATA), key
        assert said(figure.note) == "probes shows no series down during the incident", key
    for name in ("RTO", "SLA"):
        objective = result.objective(name)
        assert (objective.verdict, objective.actual) == (Verdict.NO_DATA, None), name
        assert said(objective.note) == "probes shows no series down during the incident"
    # The series are still read over PagerDuty's span, and say so.
    failed = result.figure("requests_failed")
    assert failed.value == pytest.approx(2.0 * 45 * 60)
    assert "PagerDuty used" in said(failed.note)
    # A fault of the signal is not "nothing down": PagerDuty's span stands in, and says so.
    broken = [user_facing("probes", True) | {"error": "timeout"}]
    assert impact([], broken, fig=figures(minutes=45)).figure("downtime").value == 45
