"""Run every analysis over an incident's records once; the charts and the report read the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from collector.analysis.closing import Closing, closing_facts
from collector.analysis.detection import (
    BacktestResult,
    DetectionDelay,
    backtest_thresholds,
    compute_detection_delay,
)
from collector.analysis.facts import Note, source
from collector.analysis.figures import IncidentFigures, compute_incident_figures, incident_span
from collector.analysis.impact import Impact, compute_impact
from collector.analysis.memory import (
    FoundCrossings,
    IdleGroup,
    MemoryTrend,
    TrendLevel,
    analyse_memory_trends,
    finite_samples,
    group_idle_trends,
)
from collector.analysis.metrics import (
    Crossing,
    QuerySummary,
    count_series_up,
    summarize_queries,
    threshold_crossings,
    threshold_levels,
)
from collector.analysis.rules import (
    RuleBasis,
    RuleCondition,
    find_rule_condition,
)
from collector.analysis.timeline import TimelineGroups, build_timeline, group_timeline
from collector.config import Config
from collector.records import Alert, AlertInterval, Event, Incident, LogEntry, QueryKind
from collector.snapshot.incident import IncidentData
from collector.snapshot.prometheus import QueryResult
from collector.snapshot.rules import AlertRule


@dataclass(frozen=True)
class Analysis:
    """Everything computed about one incident, each figure in one place."""

    incident: Incident
    entries: list[LogEntry]
    pd_alerts: list[Alert]
    alerts: list[AlertInterval]
    events: list[Event]
    # The events grouped for reading: whole, and by the chronology's sections.
    groups: TimelineGroups
    figures: IncidentFigures
    queries: list[QueryResult]
    frame: pd.DataFrame
    baseline: pd.DataFrame
    summaries: list[QuerySummary]
    # An availability query with more series than a chart shows: how many were up at each
    # time, one series (`metrics.count_series_up`), by query name.
    counted_up: dict[str, pd.DataFrame]
    crossings: list[Crossing]
    trends: list[MemoryTrend]
    trends_left_out: list[str]
    # The frame's rows of the shown trends' series: what their backtests and charts read.
    trend_rows: pd.DataFrame
    delay: DetectionDelay
    backtests: list[BacktestResult]
    impact: Impact
    window: tuple[datetime, datetime]
    span: tuple[datetime, datetime]
    # The facts behind the closing fields' suggestions (author, review date, ...).
    closing: Closing
    milestones: dict[str, datetime] = field(default_factory=dict)
    idle_trends: list[IdleGroup] = field(default_factory=list)
    rules: list[AlertRule] = field(default_factory=list)
    rule_condition: RuleCondition | None = None
    # The detection delay comes from the alerting rule's own condition (no threshold crossed).
    delay_from_rule: bool = False


def analyse_incident(data: IncidentData, config: Config, now: datetime) -> Analysis:
    """Compute every figure of one incident from its records and frames."""
    incident, entries = data.incident, data.entries
    alerts, frame, baseline, queries = data.alerts, data.frame, data.baseline, data.queries
    figures = compute_incident_figures(incident, entries, config.report.severity_by_priority)
    page = figures.started_at
    found = find_crossings(queries)
    trends = analyse_memory_trends(
        frame, queries, page, config.trends.memory_growth_warning, found=found
    )
    delay = compute_detection_delay(trends, page)
    limit = config.prometheus.max_series_shown
    # Absent and all-zero series (no swap) are one summary line, never a list or an empty chart.
    measured = [t for t in trends if t.level is TrendLevel.MEASURED]
    shown, left_out = select_trends(measured, limit)
    # The shown series' rows, found once: each backtest (and trend chart) then reads a few
    # thousand rows, not the whole frame (a big incident's frame has millions).
    trend_rows = frame[frame["series"].isin({t.series for t in shown})]
    backtests = [
        result
        for trend in shown
        if trend.kind == "memory"
        for result in backtest_thresholds(
            trend_rows,
            trend.query,
            trend.series,
            trend.thresholds,
            page,
            horizon_end=incident_span(figures)[1],
        )
    ]
    rules = data.rules
    condition = find_rule_condition(alerts, rules, page, *data.rule_held)
    from_rule = delay.crossing is None and condition is not None
    impact = compute_impact(
        frame,
        baseline,
        queries,
        figures,
        config.targets,
        config.business,
        config.report.timezone,
        condition.lead if from_rule and condition else delay.delay,
        _rule_delay_source(condition) if from_rule and condition else _delay_source(delay),
    )
    start, resolved = incident_span(figures)
    end = resolved or now
    if figures.resolved_before_start and entries:  # what the log shows after the trigger
        end = max(end, max(e.time for e in entries))
    padding = data.padding
    events = build_timeline(entries, alerts)
    summaries = summarize_queries(queries, limit)
    report = config.report
    closing = closing_facts(
        figures, entries, data.pd_alerts, events, impact, report.timezone, report.review_after_days
    )
    return Analysis(
        incident=incident,
        entries=entries,
        pd_alerts=data.pd_alerts,
        alerts=alerts,
        events=events,
        groups=group_timeline(events),
        figures=figures,
        queries=queries,
        frame=frame,
        baseline=baseline,
        summaries=summaries,
        counted_up={
            s.name: count_series_up(q.samples, s.name)
            for s, q in zip(summaries, queries, strict=True)
            if s.kind == QueryKind.AVAILABILITY and s.series_count > s.shown
        },
        crossings=[
            c
            for q in queries
            if q.thresholds
            for c in found.crossings[(q.name, threshold_levels(q.thresholds))]
        ],
        trends=shown,
        trends_left_out=left_out,
        trend_rows=trend_rows,
        delay=delay,
        backtests=backtests,
        impact=impact,
        window=(start - padding[0], end + padding[1]),
        span=(start, end),
        milestones=_milestones(figures, impact),
        idle_trends=group_idle_trends(trends),
        rules=rules,
        rule_condition=condition,
        delay_from_rule=from_rule,
        closing=closing,
    )


def find_crossings(queries: Sequence[QueryResult]) -> FoundCrossings:
    """Each query's rows (its `QueryResult.samples`) and, for each query with thresholds, their
    upward crossings in its finite rows: found once, for the memory trends and the report."""
    rows: dict[str, pd.DataFrame] = {}
    for query in queries:
        rows.setdefault(query.name, query.samples)
    crossings: dict[tuple[str, tuple[float, ...]], list[Crossing]] = {}
    for query in queries:
        if not query.thresholds:
            continue
        key = (query.name, threshold_levels(query.thresholds))
        if key not in crossings:
            samples = rows.get(key[0])
            found = [] if samples is None else threshold_crossings(finite_samples(samples), *key)
            crossings[key] = found
    return FoundCrossings(rows, crossings)


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
