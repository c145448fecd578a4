"""From a snapshot to the report's files: analysis, then charts, then rendering. No network."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from collector import __version__, charts
from collector.analysis.incident import (
    Analysis,
    analyse_snapshot,
    first_why,
    suggested_lessons,
)
from collector.analysis.memory import MemoryTrend
from collector.analysis.metrics import count_series_up
from collector.config import Config
from collector.paths import path_under, slug
from collector.records import Event
from collector.redact import redact_url
from collector.snapshot import Snapshot
from collector.timeutil import iso_utc, parse_time
from report.render import render_html, render_markdown

TIMELINE_CHART = "charts/timeline.png"
MAX_ALERTS_LISTED = 10
TIMELINE_COLUMNS = ["time_utc", "source", "kind", "phase", "actor", "summary", "link", "ref"]


def build_draft(
    snapshot: Snapshot, config: Config, folder: Path, now: datetime | None = None
) -> list[Path]:
    """Analyse the snapshot, draw the charts and render the report into `folder`.

    Returns the files written, relative to the folder.
    """
    now = now or datetime.now(timezone.utc)
    analysis = analyse_snapshot(snapshot.pagerduty, snapshot.prometheus, config, now)
    tz_note = f"; {config.report.timezone} shown in the report" if config.report.timezone else ""
    chart_list, written = draw_charts(analysis, folder, tz_note)
    context = {
        "incident": analysis.incident,
        "fig": analysis.figures,
        "impact": analysis.impact,
        "events": analysis.events,
        "pd_alerts": analysis.pd_alerts[:MAX_ALERTS_LISTED],
        "pd_alert_count": len(analysis.pd_alerts),
        "chronology": chronology_sections(analysis.events),
        "queries": analysis.summaries,
        "crossings": analysis.crossings,
        "trends": analysis.trends,
        "trends_left_out": analysis.trends_left_out,
        "delay": analysis.delay,
        "backtests": analysis.backtests,
        "findings": analysis.findings,
        "lessons": suggested_lessons(analysis, config.targets.alert_to_responder),
        "charts": chart_list,
        "timeline_chart": TIMELINE_CHART,
        "gaps": snapshot.gaps + _query_warnings(analysis.results),
        "why1": first_why(analysis),
        "business": config.business,
        "targets": config.targets,
        "meta": _meta(snapshot, config, now),
    }
    language = config.report.language
    markdown = render_markdown(context, language, config.report.template_dir)
    images = {p.relative_to(folder).as_posix(): p.read_bytes() for p in written}
    title = analysis.incident.title
    html = render_html(markdown, title, images, language, config.report.template_dir)
    for name, text in (
        ("report.md", markdown),
        ("report.html", html),
        ("timeline.csv", timeline_csv(analysis.events)),
    ):
        path_under(folder, name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return [p.relative_to(folder) for p in written]


def draw_charts(
    analysis: Analysis, folder: Path, tz_note: str
) -> tuple[list[dict[str, str]], list[Path]]:
    """Draw every chart; return what the report shows (title, path, section) and the files."""
    a = analysis
    written = [
        charts.draw_timeline_chart(
            a.events,
            a.alerts,
            a.milestones,
            a.window,
            a.incident.title,
            path_under(folder, TIMELINE_CHART),
            tz_note,
        )
    ]
    shown: list[dict[str, str]] = []
    for instance, trends in _trends_by_instance(a.trends).items():
        relative = f"charts/memory_trend_{slug(instance)}.png"
        written.append(
            charts.draw_memory_trend_chart(
                a.frame, trends, a.milestones, path_under(folder, relative), tz_note
            )
        )
        shown.append({"title": f"Memory trend: {instance}", "path": relative, "section": "memory"})
    for summary, record in zip(a.summaries, a.results, strict=True):
        if summary.kind == "alerts":
            continue
        frame = a.frame
        if summary.kind == "availability" and summary.series_count > summary.shown:
            frame = count_series_up(a.frame, summary.name)
        relative = f"charts/{slug(summary.name, 'query')}.png"
        written.append(
            charts.draw_metric_chart(
                frame,
                summary,
                record.get("thresholds", ()),
                a.span,
                a.window,
                a.milestones,
                path_under(folder, relative),
                tz_note,
                baseline=a.baseline if record.get("baseline_result") else None,
            )
        )
        shown.append({"title": summary.title, "path": relative, "section": "impact"})
    return shown, written


def _trends_by_instance(trends: list[MemoryTrend]) -> dict[str, list[MemoryTrend]]:
    grouped: dict[str, list[MemoryTrend]] = {}
    for trend in sorted(trends, key=lambda t: (t.instance, t.kind != "memory")):
        grouped.setdefault(trend.instance, []).append(trend)
    return grouped


def _query_warnings(results: list[dict[str, Any]]) -> list[str]:
    return [
        f"Prometheus warned about '{r['name']}': {warning}"
        for r in results
        for warning in dict.fromkeys(r.get("warnings") or ())
    ]


def chronology_sections(events: list[Event]) -> dict[str, list[Event]]:
    """The template's three chronology sections, each in time order: communication joins
    escalation and resolution joins response, as in the team template."""
    sections = {
        "detection": ("detection",),
        "escalation": ("escalation", "communication"),
        "response": ("response", "resolution"),
    }
    return {name: [e for e in events if e.phase in phases] for name, phases in sections.items()}


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
