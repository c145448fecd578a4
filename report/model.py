"""The report model: everything a report shows, built once from the analysis.

The templates and figures.json read this model and nothing else; it holds facts
(records, numbers, datetimes, enums) and the few suggestions worded from them. Formatting them
is the templates' and `report.words`' job; computing them was the analysis's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from collector import __version__
from collector.analysis.detection import BacktestResult, DetectionDelay
from collector.analysis.facts import FigureStatus, Note
from collector.analysis.figures import IncidentFigures
from collector.analysis.impact import Impact
from collector.analysis.incident import Analysis
from collector.analysis.memory import (
    EXHAUSTION_HORIZON,
    MIN_GROWTH_PER_HOUR,
    IdleGroup,
    MemoryTrend,
)
from collector.analysis.metrics import Crossing, QuerySummary
from collector.analysis.rules import RuleCondition
from collector.analysis.timeline import EventGroup, TimelineGroups
from collector.config import Business, Config, Targets
from collector.records import Alert, Gap, Incident
from collector.redact import redact_url
from report.closing import ClosingText, word_closing
from report.links import QueryLinks
from report.suggestions import first_why, suggested_lessons
from report.words import Words

TIMELINE_CHART = "charts/timeline.png"
MAX_ALERTS_LISTED = 10
# The most lines (groups, once repeats are grouped) each list of events shows: the timeline
# table and each chronology section. A huge incident's report stays a few dozen pages, not
# thousands; timeline.csv keeps every event. A tenth of them are the list's last lines.
MAX_GROUPS_LISTED = 150


class Listed(list[EventGroup]):
    """A list of event groups as the report shows it: the first ones and the last ones, at
    most MAX_GROUPS_LISTED; `left_out` events between them (before the `cut_at`-th line) are
    only in timeline.csv. A list, so templates that loop over it need no change."""

    def __init__(self, groups: Sequence[EventGroup], most: int = MAX_GROUPS_LISTED) -> None:
        last = most // 10
        cut = len(groups) > most
        super().__init__([*groups[: most - last], *groups[len(groups) - last :]] if cut else groups)
        self.cut_at = most - last if cut else len(groups)
        self.left_out = sum(g.count for g in groups[most - last : len(groups) - last]) if cut else 0


@dataclass(frozen=True)
class ChartRef:
    """A chart as the report shows it: where it is, under which section, with its live links
    and, for a memory context chart, its sentences."""

    title: str
    path: str
    section: str  # "memory" or "impact"
    links: tuple[QueryLinks, ...] = ()
    sentences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chronology:
    """The template's three chronology sections, each in time order, and the communication
    (status updates), which the report lists under Communication as the timeline names it."""

    detection: Listed
    escalation: Listed
    response: Listed
    communication: Listed


@dataclass(frozen=True)
class Provenance:
    """One source in the appendix, with every figure it gives (a source is said once)."""

    keys: tuple[str, ...]
    source: Note | None
    note: Note | None = None


@dataclass(frozen=True)
class Lessons:
    """Suggested lessons and actions, for people to keep or delete."""

    good: list[str]
    bad: list[str]
    actions: list[str]


@dataclass(frozen=True)
class Origin:
    """Where the snapshot came from, as the draft read it: the sources and the range asked."""

    incident_id: str
    collected_at: datetime
    pagerduty_url: str
    prometheus_url: str
    range_start: datetime | None
    range_end: datetime | None
    step: Any


@dataclass(frozen=True)
class Meta:
    """Where the report came from: versions, sources (no credentials), range and files."""

    generated_at: datetime
    version: str
    collected_at: datetime
    pagerduty_url: str
    prometheus_url: str
    range_start: datetime | None
    range_end: datetime | None
    step: Any
    timezone: str | None
    report_path: str
    snapshot_path: str
    timeline_path: str
    charts_path: str


@dataclass(frozen=True)
class ReportModel:
    """One incident's report, as facts: what the templates and figures.json read."""

    language: str
    incident: Incident
    fig: IncidentFigures
    impact: Impact
    events: Listed
    chronology: Chronology
    pd_alerts: list[Alert]
    pd_alert_count: int
    queries: list[QuerySummary]
    crossings: list[Crossing]
    trends: list[MemoryTrend]
    trends_left_out: list[str]
    idle_trends: list[IdleGroup]
    no_memory_context: bool
    rule_condition: RuleCondition | None
    delay_from_rule: bool
    delay: DetectionDelay
    backtests: list[BacktestResult]
    lessons: Lessons
    provenance: list[Provenance]
    why1: str
    charts: list[ChartRef]
    timeline_chart: str
    gaps: list[str]
    undrawn: list[QuerySummary]
    business: Business
    targets: Targets
    meta: Meta
    closing: ClosingText
    growth_floor: float = MIN_GROWTH_PER_HOUR
    exhaustion_days: int = EXHAUSTION_HORIZON.days

    def template_context(self) -> dict[str, Any]:
        """The model's fields by name, as the templates read them."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def build_report_model(
    analysis: Analysis,
    origin: Origin,
    gaps: Sequence[Gap],
    config: Config,
    charts: list[ChartRef],
    *,
    undrawn: list[QuerySummary],
    no_memory_context: bool,
    now: datetime,
) -> ReportModel:
    """The report model of one incident, from its analysis and the charts drawn from it."""
    words = Words(config.report.language, config.business.currency)
    lessons = suggested_lessons(analysis, config.targets.alert_to_responder, words)
    return ReportModel(
        language=config.report.language,
        incident=analysis.incident,
        fig=analysis.figures,
        impact=analysis.impact,
        events=Listed(analysis.groups.events),
        chronology=chronology_sections(analysis.groups),
        pd_alerts=analysis.pd_alerts[:MAX_ALERTS_LISTED],
        pd_alert_count=len(analysis.pd_alerts),
        queries=analysis.summaries,
        crossings=analysis.crossings,
        trends=analysis.trends,
        trends_left_out=analysis.trends_left_out,
        idle_trends=analysis.idle_trends,
        no_memory_context=no_memory_context,
        rule_condition=analysis.rule_condition,
        delay_from_rule=analysis.delay_from_rule,
        delay=analysis.delay,
        backtests=analysis.backtests,
        lessons=Lessons(lessons["good"], lessons["bad"], lessons["actions"]),
        provenance=provenance_lines(analysis),
        why1=first_why(analysis, words),
        charts=charts,
        timeline_chart=TIMELINE_CHART,
        gaps=[words.gap(gap) for gap in gaps]
        + _time_warnings(analysis, words)
        + _query_warnings(analysis, words),
        undrawn=undrawn,
        business=config.business,
        targets=config.targets,
        meta=build_meta(origin, config, now),
        closing=_closing(analysis, config, words),
    )


def _time_warnings(analysis: Analysis, words: Words) -> list[str]:
    """What does not add up in PagerDuty's own times (a resolve dated before the trigger)."""
    fig = analysis.figures
    if not fig.resolved_before_start or fig.resolved_at is None:
        return []
    start = fig.started_at
    resolved = words.clock(fig.resolved_at, day=start)
    return [words.say("gap_resolve_before_trigger", resolved=resolved, started=words.clock(start))]


def _closing(analysis: Analysis, config: Config, words: Words) -> ClosingText:
    """The suggestions for the fields people fill when they close the report."""
    return word_closing(analysis.closing, config.report, words, analysis.figures.started_at)


def _query_warnings(analysis: Analysis, words: Words) -> list[str]:
    return [
        words.query_warning(q.name, warning)
        for q in analysis.queries
        for warning in dict.fromkeys(q.warnings)
    ]


def provenance_lines(analysis: Analysis) -> list[Provenance]:
    """Each figure's source, the figures of one source together, in the report's order."""
    impact = analysis.impact
    found: list[tuple[str, Note | None, Note | None]]
    found = [(key, source, None) for key, source in analysis.figures.sources.items()]
    for group in (impact.durations, impact.business, impact.technical, impact.team):
        found += [(x.key, x.source, x.note if x.status is FigureStatus.OK else None) for x in group]
    found += [(o.name, o.source, None) for o in impact.objectives]
    latest = {key: (source, note) for key, source, note in found}  # the impact's is fuller
    merged: dict[str, Provenance] = {}
    for key, (source, note) in latest.items():
        same = repr((source, note))  # Notes hold only data: equal text, equal source
        line = merged.get(same)
        merged[same] = Provenance((*line.keys, key) if line else (key,), source, note)
    return list(merged.values())


def chronology_sections(groups: TimelineGroups) -> Chronology:
    """The chronology's sections as the report lists them (`Listed`)."""
    return Chronology(
        detection=Listed(groups.detection),
        escalation=Listed(groups.escalation),
        response=Listed(groups.response),
        communication=Listed(groups.communication),
    )


def build_meta(origin: Origin, config: Config, now: datetime) -> Meta:
    """Where the report came from, with every URL stripped of credentials."""
    folder = f"{origin.incident_id}/"
    return Meta(
        generated_at=now,
        version=__version__,
        collected_at=origin.collected_at,
        pagerduty_url=redact_url(origin.pagerduty_url),
        prometheus_url=redact_url(origin.prometheus_url),
        range_start=origin.range_start,
        range_end=origin.range_end,
        step=origin.step,
        timezone=config.report.timezone,
        report_path=folder + "report.md",
        snapshot_path=folder + "snapshot.json",
        timeline_path=folder + "timeline.csv",
        charts_path=folder + "charts/",
    )
