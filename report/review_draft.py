"""The team's review across incidents worded, drawn and rendered: its chart jobs, report.md,
report.html and incidents.csv, from the facts (`collector.analysis.review_window`). No network."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from collector import __version__
from collector.analysis import review as facts
from collector.analysis.review_window import ReviewAnalysis
from collector.config import Config
from collector.config.settings import Language
from collector.snapshot.review import ReviewIncident, ReviewOrigin
from collector.timeutil import iso_utc
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


def plan_review_charts(
    analysis: ReviewAnalysis, language: Language, folder: Path
) -> list[Callable[[], Path | None]]:
    """The review's chart jobs: time to acknowledge and to restore, RTO, pages per alert."""
    words = Words(language)
    (folder / "charts").mkdir(exist_ok=True)
    chart = folder / "charts"
    return [
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


def write_review(
    analysis: ReviewAnalysis,
    origin: ReviewOrigin,
    config: Config,
    now: datetime,
    written: list[Path],
    folder: Path,
) -> None:
    """Word and render the review with its drawn charts: report.md, report.html, incidents.csv
    (`origin`: its sources and gaps, as `report.review_words` says them)."""
    language = config.report.language
    words = Words(language)
    paths = [p.relative_to(folder).as_posix() for p in written]
    context = review_context(analysis, origin, words, paths) | {
        "meta": {"generated_at": now, "version": __version__}
    }
    markdown = render_markdown(context, language, config.report.template_dir, template=TEMPLATE)
    images = {p.relative_to(folder).as_posix(): p.read_bytes() for p in written}
    title = f"{words.say('review_title')} — {analysis.until:%Y-%m-%d}"
    html = render_html(markdown, title, images, language, config.report.template_dir)
    for name, text in (
        ("report.md", markdown),
        ("report.html", html),
        ("incidents.csv", incidents_csv(analysis.current, analysis.actions.by_incident)),
    ):
        (folder / name).write_text(text, encoding="utf-8")


def incidents_csv(
    incidents: Sequence[ReviewIncident], actions: Mapping[str, facts.ActionCount]
) -> str:
    """One row per incident of the window; a cell is empty where the figure is unknown."""
    return csv_text(CSV_COLUMNS, [_csv_row(i, actions.get(i.id)) for i in incidents])


def _csv_row(incident: ReviewIncident, actions: facts.ActionCount | None) -> list[Any]:
    counts: list[Any] = ["", "", ""]  # no final report: its actions are not known
    if incident.actions is not None:
        counts = [actions.total, actions.open, actions.overdue] if actions else [0, 0, 0]
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
