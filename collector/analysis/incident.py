"""Run every analysis over a snapshot once; the charts and the report only read the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from collector.analysis.detection import (
    BacktestResult,
    DetectionDelay,
    backtest_thresholds,
    compute_detection_delay,
)
from collector.analysis.facts import Note, source
from collector.analysis.figures import IncidentFigures, compute_incident_figures
from collector.analysis.impact import Impact, compute_impact
from collector.analysis.memory import (
    IdleGroup,
    MemoryTrend,
    TrendLevel,
    analyse_memory_trends,
    group_idle_trends,
)
from collector.analysis.metrics import (
    Crossing,
    QuerySummary,
    detect_threshold_crossings,
    summarize_queries,
)
from collector.analysis.rules import (
    AlertRule,
    RuleBasis,
    RuleCondition,
    find_rule_condition,
    read_alerting_rules,
)
from collector.analysis.timeline import build_timeline
from collector.config import Config
from collector.records import Alert, AlertInterval, Event, Incident, LogEntry
from collector.snapshot import pagerduty as pd_reader
from collector.snapshot import prometheus as prom_reader
from collector.snapshot.prometheus import QueryResult


@dataclass(frozen=True)
class Analysis:
    """Everything computed about one incident, each figure in one place."""

    incident: Incident
    entries: list[LogEntry]
    pd_alerts: list[Alert]
    alerts: list[AlertInterval]
    events: list[Event]
    figures: IncidentFigures
    results: list[dict[str, Any]]
    queries: list[QueryResult]
    frame: pd.DataFrame
    baseline: pd.DataFrame
    summaries: list[QuerySummary]
    crossings: list[Crossing]
    trends: list[MemoryTrend]
    trends_left_out: list[str]
    delay: DetectionDelay
    backtests: list[BacktestResult]
    impact: Impact
    window: tuple[datetime, datetime]
    span: tuple[datetime, datetime]
    milestones: dict[str, datetime] = field(default_factory=dict)
    idle_trends: list[IdleGroup] = field(default_factory=list)
    rules: list[AlertRule] = field(default_factory=list)
    rule_condition: RuleCondition | None = None
    # The detection delay comes from the alerting rule's own condition (no threshold crossed).
    delay_from_rule: bool = False


def analyse_snapshot(
    pagerduty: dict[str, Any], prometheus: dict[str, Any], config: Config, now: datetime
) -> Analysis:
    """Read the snapshot's raw data into records and compute every figure from them."""
    incident = pd_reader.read_incident(pagerduty["incident"])
    entries = pd_reader.read_log_entries(pagerduty.get("log_entries", []))
    results = _with_user_facing(prometheus.get("results", []), config)
    alerts = prom_reader.read_alert_intervals(results)
    figures = compute_incident_figures(incident, entries, config.report.severity_by_priority)
    frame = prom_reader.read_series(results)
    baseline = prom_reader.read_series(results, baseline=True)
    queries = prom_reader.read_query_results(results, frame)
    page = figures.started_at
    trends = analyse_memory_trends(frame, results, page, config.trends.memory_growth_warning)
    delay = compute_detection_delay(trends, page)
    limit = config.prometheus.max_series_shown
    # Absent and all-zero series (no swap) are one summary line, never a list or an empty chart.
    measured = [t for t in trends if t.level is TrendLevel.MEASURED]
    shown, left_out = select_trends(measured, limit)
    backtests = [
        result
        for trend in shown
        if trend.kind == "memory"
        for result in backtest_thresholds(
            frame,
            trend.query,
            trend.series,
            trend.thresholds,
            page,
            horizon_end=figures.resolved_at,
        )
    ]
    raw_rules = prometheus.get("alerting_rules") or {}
    rules = read_alerting_rules(raw_rules)
    condition = find_rule_condition(alerts, rules, page, *rule_held_times(raw_rules))
    from_rule = delay.crossing is None and condition is not None
    impact = compute_impact(
        frame,
        baseline,
        results,
        figures,
        config.targets,
        config.business,
        config.report.timezone,
        condition.lead if from_rule and condition else delay.delay,
        _rule_delay_source(condition) if from_rule and condition else _delay_source(delay),
    )
    end = figures.resolved_at or now
    padding = (
        timedelta(seconds=float(prometheus.get("padding_before_s", 1800))),
        timedelta(seconds=float(prometheus.get("padding_after_s", 1800))),
    )
    return Analysis(
        incident=incident,
        entries=entries,
        pd_alerts=pd_reader.read_alerts(pagerduty.get("alerts", [])),
        alerts=alerts,
        events=build_timeline(entries, alerts),
        figures=figures,
        results=results,
        queries=queries,
        frame=frame,
        baseline=baseline,
        summaries=summarize_queries(queries, limit),
        crossings=[
            c
            for r in results
            if r.get("thresholds")
            for c in detect_threshold_crossings(frame, r["name"], r["thresholds"])
        ],
        trends=shown,
        trends_left_out=left_out,
        delay=delay,
        backtests=backtests,
        impact=impact,
        window=(figures.started_at - padding[0], end + padding[1]),
        span=(figures.started_at, end),
        milestones=_milestones(figures, impact),
        idle_trends=group_idle_trends(trends),
        rules=rules,
        rule_condition=condition,
        delay_from_rule=from_rule,
    )


def _with_user_facing(results: list[dict[str, Any]], config: Config) -> list[dict[str, Any]]:
    """Snapshots from before `user_facing` existed take the flag from the config's query."""
    flags = {q.name: q.user_facing for q in config.prometheus.queries}
    return [
        r if "user_facing" in r else {**r, "user_facing": flags.get(str(r.get("name")), False)}
        for r in results
    ]


def select_trends(trends: list[MemoryTrend], limit: int) -> tuple[list[MemoryTrend], list[str]]:
    """The trends of the `limit` instances with the highest peak, and the instances left out."""
    peaks: dict[str, float] = {}
    for trend in trends:
        peak = trend.peak if trend.peak is not None else float("-inf")
        peaks[trend.instance] = max(peaks.get(trend.instance, float("-inf")), peak)
    ranked = sorted(peaks, key=lambda instance: (-peaks[instance], instance))
    keep = set(ranked[:limit])
    return [t for t in trends if t.instance in keep], ranked[limit:]


def _delay_source(delay: DetectionDelay) -> Note:
    if delay.crossing is None:
        return source("none_crossed")
    c = delay.crossing
    return source(
        "crossed",
        query=c.query,
        series=str(c.series),
        threshold=c.threshold,
        at=c.time,
        page=delay.page_time,
    )


def rule_held_times(raw: dict[str, Any]) -> tuple[dict[str, list[datetime]], timedelta]:
    """When each evaluated rule expression returned samples, and the evaluation step."""
    evaluations = [r for r in raw.get("evaluations") or () if not r.get("error")]
    frame = prom_reader.read_series(evaluations)
    held = {
        str(name): [t.to_pydatetime() for t in group["time"]]
        for name, group in frame.groupby("query")
    }
    steps = [float(r.get("step") or 60) for r in evaluations]
    return held, timedelta(seconds=max(steps, default=60.0))


def _rule_delay_source(condition: RuleCondition) -> Note:
    rule = condition.rule
    how = source("rule_expression")
    if condition.basis is not RuleBasis.EXPRESSION:
        how = source("rule_alerts", state="pending" if condition.pending_seen else "firing")
    what = (
        source("rule_query", query=rule.query, held_for=rule.for_duration)
        if rule
        else source("rule_unread")
    )
    return source(
        "rule",
        alertname=condition.alertname,
        rule=what,
        held=condition.held_from,
        how=how,
        page=condition.page_time,
    )


def _milestones(figures: IncidentFigures, impact: Impact) -> dict[str, datetime]:
    points = {"detected": figures.detected_at}
    if figures.acknowledged_at:
        points["acknowledged"] = figures.acknowledged_at
    if impact.outage_end is not None:
        points["restored"] = impact.outage_end
    if figures.resolved_at:
        points["resolved"] = figures.resolved_at
    return points
