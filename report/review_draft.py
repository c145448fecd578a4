"""From a review snapshot to the review's files: facts asked of analysis, worded, drawn and
rendered into report.md, report.html, incidents.csv and charts/*.png. No network."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from collector import __version__
from collector.analysis import review as facts
from collector.config import Config
from collector.parallel import run_jobs
from collector.snapshot.review import (
    ReviewIncident,
    ReviewSnapshot,
    read_fleet_hosts,
    read_review_incidents,
)
from collector.timeutil import iso_utc, parse_time
from report.charts import review as charts
from report.render import render_html, render_markdown
from report.review_words import review_context
from report.spreadsheet import csv_text
from report.words import Words

TEMPLATE = "review.md.j2"
CSV_COLUMNS = [
    "incident_id",
    "number",
    "service",
    "priority",
    "urgency",
    "created_at_utc",
    "resolved_at_utc",
    "time_to_acknowledge_s",
    "time_to_resolve_s",
    "detection_delay_s",
    "outage_s",
    "rto_verdict",
    "error_budget_used_percent",
    "report_status",
    "actions_total",
    "actions_open",
    "actions_overdue",
]


@dataclass(frozen=True)
class ReviewAnalysis:
    """Every fact the review shows, computed once from the snapshot."""

    start: datetime
    until: datetime
    window: timedelta
    current: list[ReviewIncident]
    previous: list[ReviewIncident]
    services: list[facts.GroupFigures]
    months: list[facts.GroupFigures]
    changes: list[facts.Change]
    alerts: list[tuple[str, int]]
    top_services: list[tuple[str, int]]
    repeats: list[facts.RepeatRun]
    hosts: list[facts.HostLink] | None  # None: no fleet review to link with
    today: date


def analyse_review(snapshot: ReviewSnapshot) -> ReviewAnalysis:
    """The review's facts: the window against the one before, what pages, the actions."""
    until = parse_time(snapshot.until)
    window = timedelta(seconds=snapshot.window_s)
    current, previous = facts.split_window(read_review_incidents(snapshot), until, window)
    fleet = read_fleet_hosts(snapshot) if snapshot.fleet else None
    return ReviewAnalysis(
        start=until - window,
        until=until,
        window=window,
        current=current,
        previous=previous,
        services=facts.by_service_and_month(current),
        months=facts.by_month(current),
        changes=facts.changes(current, previous),
        alerts=facts.most_pages(current, lambda i: i.alert),
        top_services=facts.most_pages(current, lambda i: i.service),
        repeats=facts.repeat_runs(current),
        hosts=facts.host_links(current, fleet) if fleet is not None else None,
        today=until.date(),
    )


def build_review_draft(
    snapshot: ReviewSnapshot, config: Config, folder: Path, now: datetime
) -> None:
    """Analyse the snapshot, draw the charts and write the review's files into `folder`."""
    language = config.report.language
    words = Words(language)
    analysis = analyse_review(snapshot)
    (folder / "charts").mkdir(exist_ok=True)
    chart = folder / "charts"
    jobs: list[Callable[[], Path | None]] = [
        partial(
            charts.draw_monthly_spread,
            analysis.services,
            "acknowledge",
            words.say("review_chart_acknowledge"),
            words,
            chart / "time_to_acknowledge.png",
        ),
        partial(
            charts.draw_monthly_spread,
            analysis.services,
            "restore",
            words.say("review_chart_restore"),
            words,
            chart / "time_to_restore.png",
        ),
        partial(charts.draw_rto_months, analysis.months, words, chart / "rto_by_month.png"),
        partial(charts.draw_alert_pages, analysis.alerts, words, chart / "pages_per_alert.png"),
    ]
    written = [path for path in run_jobs(jobs) if path is not None]
    paths = [p.relative_to(folder).as_posix() for p in written]
    context = review_context(analysis, snapshot, words, paths) | {
        "meta": {"generated_at": now, "version": __version__}
    }
    markdown = render_markdown(context, language, config.report.template_dir, template=TEMPLATE)
    images = {p.relative_to(folder).as_posix(): p.read_bytes() for p in written}
    title = f"{words.say('review_title')} — {analysis.until:%Y-%m-%d}"
    html = render_html(markdown, title, images, language, config.report.template_dir)
    for name, text in (
        ("report.md", markdown),
        ("report.html", html),
        ("incidents.csv", incidents_csv(analysis.current, analysis.today)),
    ):
        (folder / name).write_text(text, encoding="utf-8")


def incidents_csv(incidents: Sequence[ReviewIncident], today: date) -> str:
    """One row per incident of the window; a cell is empty where the figure is unknown."""
    return csv_text(CSV_COLUMNS, [_csv_row(i, today) for i in incidents])


def _csv_row(incident: ReviewIncident, today: date) -> list[Any]:
    actions = incident.actions
    counts: list[Any] = ["", "", ""]
    if actions is not None:
        counts = [
            len(actions),
            sum(1 for a in actions if not a.done),
            sum(1 for a in actions if facts.is_overdue(a, today)),
        ]
    return [
        incident.id,
        "" if incident.number is None else incident.number,
        incident.service,
        incident.priority,
        incident.urgency,
        iso_utc(incident.created_at),
        iso_utc(incident.resolved_at) if incident.resolved_at else "",
        *(
            _cell(value)
            for value in (
                incident.time_to_acknowledge,
                incident.time_to_resolve,
                incident.detection_delay,
                incident.outage,
            )
        ),
        incident.rto_verdict,
        _cell(incident.error_budget_used),
        incident.report_status,
        *counts,
    ]


def _cell(value: float | None) -> Any:
    """A figure as CSV shows it: whole numbers without a decimal point, unknown empty."""
    if value is None:
        return ""
    rounded = round(value, 3)
    return int(rounded) if rounded.is_integer() else rounded
