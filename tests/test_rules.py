"""Alerting rules: read from a real Prometheus, absent quietly, and the rule's own condition."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from prom_server import PrometheusServer

from collector.analysis.rules import find_rule_condition
from collector.config import PrometheusSettings
from collector.records import AlertInterval
from collector.snapshot.rules import read_alerting_rules
from collector.sources.prometheus_rules import fetch_alerting_rules

T0 = datetime(2025, 11, 8, 14, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def interval(name: str, state: str, start: float, end: float) -> AlertInterval:
    return AlertInterval(name, state, at(start), at(end), (("instance", "node-1"),), "ALERTS")


def test_rules_come_from_a_real_prometheus(prometheus: PrometheusServer) -> None:
    raw = fetch_alerting_rules(PrometheusSettings(url=prometheus.url), None)
    assert raw["note"] is None
    rules = {r.name: r for r in read_alerting_rules(raw)}
    assert set(rules) == {"HostMemoryHigh", "PostgresDown", "EndpointsDown"}
    memory = rules["HostMemoryHigh"]
    assert memory.for_duration == timedelta(minutes=2)
    assert memory.query.endswith(">= 95")
    assert ("severity", "warning") in memory.labels


def test_a_server_without_a_rules_api_degrades_quietly() -> None:
    # Nothing listens on port 9 of loopback: a refused connection, recorded, never raised.
    raw: dict[str, Any] = fetch_alerting_rules(
        PrometheusSettings(url="http://127.0.0.1:9", timeout=2), None
    )
    assert raw["rules"] == [] and raw["note"].startswith("no alerting rules read")
    assert read_alerting_rules(raw) == []
    assert read_alerting_rules(None) == []


def test_the_condition_of_the_rule_that_fired_first_held_at_its_pending_start() -> None:
    alerts = [
        interval("Noise", "pending", 5, 6),  # never fired: not the rule that paged
        interval("HostMemoryHigh", "pending", 10, 15),
        interval("HostMemoryHigh", "firing", 15, 40),
        interval("Later", "firing", 50, 55),  # fired after the page and its slack
    ]
    rules = read_alerting_rules(
        {"rules": [{"name": "HostMemoryHigh", "query": "mem > 14", "duration_s": 300}]}
    )
    condition = find_rule_condition(alerts, rules, at(17))
    assert condition is not None
    assert condition.alertname == "HostMemoryHigh" and condition.pending_seen
    assert (condition.held_from, condition.fired_at) == (at(10), at(15))
    assert condition.lead == timedelta(minutes=7)
    assert condition.rule is not None and condition.rule.for_duration == timedelta(minutes=5)
    assert find_rule_condition(alerts, [], at(17)) is not None  # rules unread: times still known
    assert find_rule_condition(alerts[:1], rules, at(17)) is None


def test_without_alerts_the_rule_expression_evaluated_over_the_window_tells(
    demo_snapshot: dict[str, Any],
) -> None:
    from collector.analysis.rules import RuleBasis
    from collector.snapshot.rules import rule_held_times

    raw = demo_snapshot["prometheus"]["alerting_rules"]
    # Collected for the rule the incident was paged with (PostgresDown: `pg_up == 0`, for 15 s).
    assert [e["name"] for e in raw["evaluations"]] == ["PostgresDown"]
    held, step = rule_held_times(raw)
    page = datetime(2025, 10, 25, 14, 32, 30, tzinfo=timezone.utc)
    condition = find_rule_condition([], read_alerting_rules(raw), page, held, step)
    assert condition is not None and condition.basis is RuleBasis.EXPRESSION
    assert condition.alertname == "PostgresDown"
    oom = datetime(2025, 10, 25, 14, 32, tzinfo=timezone.utc)
    assert (condition.held_from, condition.fired_at) == (oom, oom + timedelta(seconds=15))


def test_an_expression_that_held_shorter_than_for_never_fired() -> None:
    rules = read_alerting_rules({"rules": [{"name": "Slow", "query": "x > 1", "duration_s": 600}]})
    held = {"Slow": [at(m) for m in range(0, 5)]}  # five minutes, `for` is ten
    assert find_rule_condition([], rules, at(6), held) is None
    held = {"Slow": [at(m) for m in range(0, 15)]}
    condition = find_rule_condition([], rules, at(16), held)
    assert condition is not None and (condition.held_from, condition.fired_at) == (at(0), at(10))
