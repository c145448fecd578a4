"""From a snapshot to the report's files: analysis, then charts, then rendering. No network."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collector import __version__, charts
from collector.analysis.incident import Analysis, analyse_snapshot
from collector.analysis.memory import EXHAUSTION_HORIZON, MIN_GROWTH_PER_HOUR, MemoryTrend
from collector.analysis.metrics import count_series_up
from collector.analysis.timeline import EventGroup, group_repeats
from collector.config import Config
from collector.context_draft import context_charts, has_context, place_context
from collector.parallel import run_jobs
from collector.paths import path_under, slug
from collector.readers.prometheus import RawResult
from collector.records import Event
from collector.redact import redact_url
from collector.snapshot import Snapshot
from collector.timeutil import iso_utc, parse_time
from report.figures_json import build_figures_json
from report.labels import LABELS
from report.links import LinkTargets, QueryLinks, build_query_links, chart_range
from report.pdf import pdf_unavailable, render_pdf
from report.render import inline_images, render_html, render_markdown
from report.suggestions import first_why, suggested_lessons
from report.words import Words

TIMELINE_CHART = "charts/timeline.png"
MAX_ALERTS_LISTED = 10
TIMELINE_COLUMNS = ["time_utc", "source", "kind", "phase", "actor", "summary", "link", "ref"]


@dataclass(frozen=True)
class Draft:
    """The files of a draft (relative to its folder) and the analysis they were drawn from."""

    files: list[Path]
    analysis: Analysis


def build_draft(
    snapshot: Snapshot, config: Config, folder: Path, now: datetime | None = None
) -> Draft:
    """Analyse the snapshot, draw the charts and render the report into `folder`."""
    now = now or datetime.now(timezone.utc)
    analysis = analyse_snapshot(snapshot.pagerduty, snapshot.prometheus, config, now)
    words = Words(config.report.language, config.business.currency)
    chart_list, written = draw_charts(
        analysis,
        folder,
        config.report.timezone,
        link_targets(snapshot, config),
        words,
        meanwhile=pdf_unavailable if config.report.pdf else None,
    )
    incident = analysis.incident
    contexts, context_files = context_charts(
        snapshot.prometheus,
        (incident.created_at, incident.resolved_at or analysis.window[1]),
        folder,
        LABELS[config.report.language],
        {t.instance for t in analysis.trends},
    )
    chart_list, written = place_context(chart_list, contexts), written + context_files
    context = {
        "incident": analysis.incident,
        "fig": analysis.figures,
        "impact": analysis.impact,
        "events": group_repeats(analysis.events),
        "pd_alerts": analysis.pd_alerts[:MAX_ALERTS_LISTED],
        "pd_alert_count": len(analysis.pd_alerts),
        "chronology": chronology_sections(analysis.events),
        "queries": analysis.summaries,
        "crossings": analysis.crossings,
        "trends": analysis.trends,
        "trends_left_out": analysis.trends_left_out,
        "no_memory_context": bool(analysis.trends) and not has_context(snapshot.prometheus),
        "idle_trends": analysis.idle_trends,
        "rule_condition": analysis.rule_condition,
        "delay_from_rule": analysis.delay_from_rule,
        "growth_floor": MIN_GROWTH_PER_HOUR,
        "exhaustion_days": EXHAUSTION_HORIZON.days,
        "delay": analysis.delay,
        "backtests": analysis.backtests,
        "lessons": suggested_lessons(analysis, config.targets.alert_to_responder, words),
        "charts": chart_list,
        "timeline_chart": TIMELINE_CHART,
        "gaps": [gap.text for gap in snapshot.gaps] + _query_warnings(analysis.results),
        "undrawn": [
            q
            for q, r in zip(analysis.summaries, analysis.results, strict=True)
            if q.kind != "alerts"
            and not r.get("error")
            and not has_samples(analysis.frame, q.name, analysis.window)
        ],
        "why1": first_why(analysis, words),
        "W": words,
        "business": config.business,
        "targets": config.targets,
        "meta": _meta(snapshot, config, now),
    }
    language = config.report.language
    markdown = render_markdown(context, language, config.report.template_dir)
    images = {p.relative_to(folder).as_posix(): p.read_bytes() for p in written}
    title = analysis.incident.title
    linked = render_html(markdown, title, {}, language, config.report.template_dir)
    html = inline_images(linked, images)
    for name, text in (
        ("report.md", markdown),
        ("report.html", html),
        ("timeline.csv", timeline_csv(analysis.events)),
        ("figures.json", build_figures_json(analysis.incident, analysis.figures, analysis.impact)),
    ):
        path_under(folder, name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    pdf = render_pdf(linked, folder) if config.report.pdf else None
    if pdf is not None:  # None: WeasyPrint is missing here, and the CLI says so once
        (folder / "report.pdf").write_bytes(pdf)
        written.append(folder / "report.pdf")
    return Draft([p.relative_to(folder) for p in written], analysis)


def draw_charts(
    analysis: Analysis,
    folder: Path,
    zone: str | None,
    targets: LinkTargets | None = None,
    words: Words | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> tuple[list[dict[str, Any]], list[Path]]:
    """Draw every chart; return what the report shows (with live links) and the files.

    The charts are independent: they are drawn in parallel (`collector.parallel`), while this
    process runs `meanwhile` (loading WeasyPrint for report.pdf).
    """
    a = analysis
    words = words or Words("en")
    timeline = partial(
        charts.draw_timeline_chart,
        a.events,
        a.alerts,
        a.milestones,
        a.window,
        a.incident.title,
        path_under(folder, TIMELINE_CHART),
        zone,
    )
    planned = [
        *_trend_charts(a, folder, zone, targets, words),
        *_metric_charts(a, folder, zone, targets),
    ]
    jobs: list[Callable[[], Path]] = [timeline, *(draw for _, draw in planned)]
    return [shown for shown, _ in planned], run_jobs(jobs, meanwhile)


# What the report shows of a chart, and the job that draws it.
PlannedChart = tuple[dict[str, Any], Callable[[], Path]]


def _trend_charts(
    a: Analysis, folder: Path, zone: str | None, targets: LinkTargets | None, words: Words
) -> list[PlannedChart]:
    planned: list[PlannedChart] = []
    for instance, trends in _trends_by_instance(a.trends).items():
        relative = f"charts/memory_trend_{slug(instance)}.png"
        draw = partial(
            charts.draw_memory_trend_chart,
            a.frame,
            trends,
            a.milestones,
            path_under(folder, relative),
            zone,
        )
        links = _trend_links(trends, a.results, targets)
        title = words.say("chart_memory_trend", instance=instance)
        planned.append((_shown(title, relative, "memory", links), draw))
    return planned


def _metric_charts(
    a: Analysis, folder: Path, zone: str | None, targets: LinkTargets | None
) -> list[PlannedChart]:
    planned: list[PlannedChart] = []
    for summary, record in zip(a.summaries, a.results, strict=True):
        if summary.kind == "alerts" or not has_samples(a.frame, summary.name, a.window):
            continue  # no empty panels: the missing-data block names the query instead
        frame = a.frame
        if summary.kind == "availability" and summary.series_count > summary.shown:
            frame = count_series_up(a.frame, summary.name)
        relative = f"charts/{slug(summary.name, 'query')}.png"
        draw = partial(
            charts.draw_metric_chart,
            frame,
            summary,
            record.get("thresholds", ()),
            a.span,
            a.window,
            a.milestones,
            path_under(folder, relative),
            zone,
            baseline=a.baseline if record.get("baseline_result") else None,
        )
        links = _live_links(record, a.window, targets)
        planned.append((_shown(summary.title, relative, "impact", links), draw))
    return planned


def _shown(title: str, path: str, section: str, links: list[QueryLinks]) -> dict[str, Any]:
    return {"title": title, "path": path, "section": section, "links": links}


def link_targets(snapshot: Snapshot, config: Config) -> LinkTargets | None:
    """Where the report's live links point: the configured pages, else the queried Prometheus."""
    url = config.links.prometheus_url or snapshot.prometheus.get("url", "")
    if not url:
        return None
    return LinkTargets(
        prometheus_url=url,
        grafana_url=config.links.grafana_url,
        grafana_datasource=config.links.grafana_datasource,
        grafana_org_id=config.links.grafana_org_id,
    )


def _trend_links(
    trends: list[MemoryTrend], results: Sequence[RawResult], targets: LinkTargets | None
) -> list[QueryLinks]:
    """A memory trend chart's links: each of its queries over all that was fetched."""
    records = {r["name"]: r for r in results}
    names = dict.fromkeys(t.query for t in trends)
    return [link for name in names for link in _live_links(records.get(name), None, targets)]


def _live_links(
    record: RawResult | None,
    visible: tuple[datetime, datetime] | None,
    targets: LinkTargets | None,
) -> list[QueryLinks]:
    """The live links of one query over the range its chart shows (None: all it fetched)."""
    if targets is None or record is None or not record.get("start") or not record.get("end"):
        return []
    fetched = (parse_time(record["start"]), parse_time(record["end"]))
    step = int(record["step"])
    start, end = chart_range(visible or fetched, fetched, step)
    return [build_query_links(targets, record["title"], record["query"], start, end, step)]


def has_samples(frame: pd.DataFrame, query: str, window: tuple[datetime, datetime]) -> bool:
    """Whether the query has a finite sample inside the window (NaN is 0/0: no swap)."""
    data = frame.loc[frame["query"] == query]
    inside = (data["time"] >= pd.Timestamp(window[0])) & (data["time"] <= pd.Timestamp(window[1]))
    return bool(np.isfinite(data.loc[inside, "value"].to_numpy(dtype=float)).any())


def _trends_by_instance(trends: list[MemoryTrend]) -> dict[str, list[MemoryTrend]]:
    grouped: dict[str, list[MemoryTrend]] = {}
    for trend in sorted(trends, key=lambda t: (t.instance, t.kind != "memory")):
        grouped.setdefault(trend.instance, []).append(trend)
    return grouped


def _query_warnings(results: Sequence[RawResult]) -> list[str]:
    return [
        f"Prometheus warned about '{r['name']}': {warning}"
        for r in results
        for warning in dict.fromkeys(r.get("warnings") or ())
    ]


def chronology_sections(events: list[Event]) -> dict[str, list[EventGroup]]:
    """The template's three chronology sections, each in time order: communication joins
    escalation and resolution joins response, as in the team template."""
    sections = {
        "detection": ("detection",),
        "escalation": ("escalation", "communication"),
        "response": ("response", "resolution"),
    }
    return {
        name: group_repeats([e for e in events if e.phase in phases])
        for name, phases in sections.items()
    }


def _meta(snapshot: Snapshot, config: Config, now: datetime) -> dict[str, Any]:
    rng = snapshot.prometheus.get("range", {})
    folder = f"{snapshot.incident_id}/"
    return {
        "generated_at": now,
        "version": __version__,
        "collected_at": parse_time(snapshot.collected_at),
        "pagerduty_url": redact_url(snapshot.pagerduty.get("base_url", "")),
        "prometheus_url": redact_url(snapshot.prometheus.get("url", "")),
        "range_start": parse_time(rng["start"]) if rng.get("start") else None,
        "range_end": parse_time(rng["end"]) if rng.get("end") else None,
        "step": rng.get("step", "?"),
        "timezone": config.report.timezone,
        "report_path": folder + "report.md",
        "snapshot_path": folder + "snapshot.json",
        "timeline_path": folder + "timeline.csv",
        "charts_path": folder + "charts/",
    }


def timeline_csv(events: list[Event]) -> str:
    """One row per event: time in UTC, source, kind, phase, actor, summary, link, ref."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TIMELINE_COLUMNS)
    for e in events:
        writer.writerow(
            [iso_utc(e.time), e.source, e.kind, e.phase, e.actor, e.summary, e.link, e.ref]
        )
    return buffer.getvalue()
