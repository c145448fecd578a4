"""From a snapshot to the report's files: analysis, then charts, then rendering. No network."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from collector import __version__, charts
from collector import pagerduty as pd_source
from collector import prometheus as prom_source
from collector.analysis.figures import IncidentFigures, compute_incident_figures
from collector.analysis.metrics import detect_threshold_crossings, summarize_queries
from collector.analysis.timeline import build_timeline
from collector.config import Config
from collector.records import Event
from collector.snapshot import Snapshot
from collector.timeutil import iso_utc, parse_time
from report.render import render_html, render_markdown

TIMELINE_CHART = "charts/timeline.png"
TIMELINE_COLUMNS = ["time_utc", "source", "kind", "phase", "actor", "summary", "link", "ref"]


def build_draft(
    snapshot: Snapshot, config: Config, folder: Path, now: datetime | None = None
) -> list[Path]:
    """Analyse the snapshot, draw the charts and render the report into `folder`.

    Returns the files written, relative to the folder.
    """
    now = now or datetime.now(timezone.utc)
    incident = pd_source.read_incident(snapshot.pagerduty["incident"])
    entries = pd_source.read_log_entries(snapshot.pagerduty.get("log_entries", []))
    results = snapshot.prometheus.get("results", [])
    alerts = prom_source.read_alert_intervals(results)
    events = build_timeline(entries, alerts)
    figures = compute_incident_figures(incident, entries, config.report.severity_by_priority)
    frame = prom_source.read_series(results)
    summaries = summarize_queries(results, frame)
    crossings = [
        c
        for r in results
        if r.get("thresholds")
        for c in detect_threshold_crossings(frame, r["name"], r["thresholds"])
    ]
    window = _display_window(snapshot, figures, now)
    tz_note = f"; {config.report.timezone} shown in the report" if config.report.timezone else ""
    milestones = _milestones(figures)
    span = (figures.started_at, figures.resolved_at or now)
    written = [
        charts.draw_timeline_chart(
            events, alerts, milestones, window, incident.title, folder / TIMELINE_CHART, tz_note
        )
    ]
    metric_charts = []
    for summary, record in zip(summaries, results, strict=False):
        if summary.kind == "alerts":
            continue
        relative = f"charts/{summary.name}.png"
        written.append(
            charts.draw_metric_chart(
                frame,
                summary,
                record.get("thresholds", ()),
                span,
                window,
                milestones,
                folder / relative,
                tz_note,
            )
        )
        metric_charts.append({"title": summary.title, "path": relative})
    context = {
        "incident": incident,
        "fig": figures,
        "events": events,
        "chronology": chronology_sections(events),
        "queries": summaries,
        "crossings": crossings,
        "charts": metric_charts,
        "timeline_chart": TIMELINE_CHART,
        "gaps": snapshot.gaps,
        "why1": _first_why(incident.title, figures, crossings),
        "meta": _meta(snapshot, config, now),
    }
    language = config.report.language
    markdown = render_markdown(context, language, config.report.template_dir)
    images = {p.relative_to(folder).as_posix(): p.read_bytes() for p in written}
    html = render_html(markdown, incident.title, images, language, config.report.template_dir)
    for name, text in (
        ("report.md", markdown),
        ("report.html", html),
        ("timeline.csv", timeline_csv(events)),
    ):
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return [p.relative_to(folder) for p in written]


def _display_window(
    snapshot: Snapshot, figures: IncidentFigures, now: datetime
) -> tuple[datetime, datetime]:
    before = timedelta(seconds=float(snapshot.prometheus.get("padding_before_s", 1800)))
    after = timedelta(seconds=float(snapshot.prometheus.get("padding_after_s", 1800)))
    return figures.started_at - before, (figures.resolved_at or now) + after


def _milestones(figures: IncidentFigures) -> dict[str, datetime]:
    points = {"detected": figures.detected_at}
    if figures.acknowledged_at:
        points["acknowledged"] = figures.acknowledged_at
    if figures.resolved_at:
        points["resolved"] = figures.resolved_at
    return points


def chronology_sections(events: list[Event]) -> dict[str, list[Event]]:
    """The template's three chronology sections; communication joins escalation, resolution
    joins response (as in the team template), each in time order."""
    sections = {
        "detection": ("detection",),
        "escalation": ("escalation", "communication"),
        "response": ("response", "resolution"),
    }
    return {name: [e for e in events if e.phase in phases] for name, phases in sections.items()}


def _first_why(title: str, figures: IncidentFigures, crossings: list[Any]) -> str:
    text = f"{title} (paged at {figures.started_at:%H:%M} UTC)."
    before = [c for c in crossings if c.time <= figures.started_at]
    if before:
        first = before[0]
        text += (
            f" Just before, {first.query} on {first.series} had crossed"
            f" {first.threshold:g} at {first.time:%H:%M} UTC."
        )
    return text


def _meta(snapshot: Snapshot, config: Config, now: datetime) -> dict[str, Any]:
    rng = snapshot.prometheus.get("range", {})
    folder = f"{snapshot.incident_id}/"
    return {
        "generated_at": now,
        "version": __version__,
        "collected_at": parse_time(snapshot.collected_at),
        "pagerduty_url": snapshot.pagerduty.get("base_url", ""),
        "prometheus_url": snapshot.prometheus.get("url", ""),
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
