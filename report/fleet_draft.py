"""The memory-trend review of the fleet worded, drawn and rendered: its chart jobs, report.md,
report.html and hosts.csv, from the analysis (`collector.analysis.fleet_review`). No network."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from collector import __version__
from collector.analysis.fleet import Verdict
from collector.analysis.fleet_review import FleetAnalysis
from collector.analysis.fleet_series import ReviewedSeries
from collector.config import Config, FleetSettings
from collector.records import Gap, GapKind
from collector.snapshot.fleet import FleetSource
from collector.snapshot.prometheus import label_text
from collector.timeutil import iso_utc
from report.charts import fleet as fleet_charts
from report.render import render_html, render_markdown
from report.spreadsheet import csv_text
from report.words import Words
from report.words import gap_line as words_gap_line
from report.words.fleet import FLEET_LABELS

CSV_COLUMNS = [
    "instance",
    "current_percent",
    "peak_percent",
    "growth_percent_per_day",
    "growth_low",
    "growth_high",
    "exhaustion_at_utc",
    "restarts",
    "incidents",
    "verdict",
    # Beyond the columns the review promises: which query, when seen, the weekly change.
    "kind",
    "query",
    "week_over_week_change",
    "first_seen_utc",
    "last_seen_utc",
    "labels",
]
TEMPLATE = "memory_trends.md.j2"
TABLE_ROWS = 40  # ranked rows shown in the report; hosts.csv has them all
WOW_ROWS = 15


def plan_fleet_charts(
    analysis: FleetAnalysis, source: FleetSource, config: Config, folder: Path
) -> list[Callable[[], Path | None]]:
    """The review's chart jobs: the most urgent hosts, then a heatmap per query with data."""
    words = FLEET_LABELS[config.report.language]
    (folder / "charts").mkdir(exist_ok=True)
    top = analysis.series[: config.fleet.top_n]
    jobs: list[Callable[[], Path | None]] = [
        partial(
            fleet_charts.draw_small_multiples,
            top,
            analysis.incidents_of,
            analysis.start,
            analysis.until,
            config.fleet,
            words,
            folder / "charts" / "top_hosts.png",
        )
    ]
    for name, title in source.queries:
        frame = analysis.heatmaps[name]
        if not frame.empty:
            path = folder / "charts" / f"heatmap_{name}.png"
            jobs.append(partial(fleet_charts.draw_heatmap, frame, title, words, path))
    return jobs


def write_fleet_review(
    analysis: FleetAnalysis,
    source: FleetSource,
    config: Config,
    now: datetime,
    charts: list[Path],
    folder: Path,
) -> list[Path]:
    """Word and render the review with its drawn charts: report.md, report.html, hosts.csv."""
    language = config.report.language
    words = FLEET_LABELS[language]
    written = list(charts)
    context = _context(analysis, source, config, now, written, folder)
    markdown = render_markdown(context, language, config.report.template_dir, template=TEMPLATE)
    images = {p.relative_to(folder).as_posix(): p.read_bytes() for p in written}
    html = render_html(markdown, words["title"], images, language, config.report.template_dir)
    for name, text in (
        ("report.md", markdown),
        ("report.html", html),
        ("hosts.csv", hosts_csv(analysis)),
    ):
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return [p.relative_to(folder) for p in written]


def _context(
    analysis: FleetAnalysis,
    source: FleetSource,
    config: Config,
    now: datetime,
    charts: list[Path],
    folder: Path,
) -> dict[str, Any]:
    wow = [s for s in analysis.series if s.review.week_over_week_change is not None]
    wow.sort(key=lambda s: -abs(s.review.week_over_week_change or 0.0))
    paths = [p.relative_to(folder).as_posix() for p in charts]
    rows = analysis.series[:TABLE_ROWS]
    numbers = Words(config.report.language)
    return {
        "W": FLEET_LABELS[config.report.language],
        "N": numbers,
        "a": analysis,
        "rows": rows,
        "incident_counts": [len(analysis.incidents_of(s)) for s in rows],
        "summary": summarise(analysis, config.fleet),
        "actions": suggested_actions(analysis, config.fleet, numbers),
        "top_n": config.fleet.top_n,
        "wow": wow[:WOW_ROWS],
        "top_chart": next((p for p in paths if p.endswith("top_hosts.png")), None),
        "heatmap_charts": [p for p in paths if "heatmap_" in p],
        "gaps": [gap_line(gap) for gap in source.gaps],
        "meta": {
            "generated_at": now,
            "version": __version__,
            "prometheus_url": source.prometheus_url,
            "selector": source.selector,
            "requests": source.requests,
            "days": round(source.window_s / 86400),
        },
    }


def summarise(analysis: FleetAnalysis, settings: FleetSettings) -> dict[str, Any]:
    """The figures of the summary: hosts, series, leaking or growing, soonest exhaustion."""
    soonest = analysis.soonest
    exhaustion = soonest.review.exhaustion_at if soonest else None
    linked = {h.incident.id for hosts in analysis.incidents.values() for h in hosts}
    return {
        "hosts": analysis.hosts,
        "series": len(analysis.series),
        "worrying": len({s.review.instance for s in analysis.worrying}),
        "soonest": soonest.review if soonest else None,
        "soonest_days": round((exhaustion - analysis.until) / timedelta(days=1), 1)
        if exhaustion
        else None,
        "horizon_days": round(settings.horizon / timedelta(days=1)),
        "incidents": len(linked),
    }


def suggested_actions(
    analysis: FleetAnalysis, settings: FleetSettings, words: Words
) -> list[tuple[str, dict[str, Any]]]:
    """One suggestion per series that leaks, grows, runs hot or caused incidents (top_n at most).

    `kind_key` is a word key ("memory", "swap") that the template translates; the numbers are
    formatted in `words`' language.
    """
    actions: list[tuple[str, dict[str, Any]]] = []
    for s in analysis.series:
        r = s.review
        growth = r.growth_percent_per_day
        rate = words.number(growth, 1) if growth is not None else "?"
        about = {"instance": r.instance, "kind_key": r.kind}
        if r.verdict is Verdict.LEAK:
            restarts = words.number(r.restarts)
            actions.append(("action_leak", about | {"rate": rate, "restarts": restarts}))
        elif r.verdict is Verdict.GROWING:
            actions.append(("action_growing", about | {"rate": rate}))
        elif r.verdict is Verdict.HIGH:
            actions.append(("action_high", about | {"level": words.short(settings.high_level)}))
        elif count := len(analysis.incidents_of(s)):
            actions.append(("action_incidents", about | {"count": words.number(count)}))
    return actions[: settings.top_n]


def hosts_csv(analysis: FleetAnalysis) -> str:
    """One row per series, most urgent first (soonest exhaustion, then the rest)."""
    return csv_text(CSV_COLUMNS, (_host_row(analysis, s) for s in analysis.series))


def _host_row(analysis: FleetAnalysis, s: ReviewedSeries) -> list[object]:
    r = s.review
    return [
        r.instance,
        _num(r.current_percent),
        _num(r.peak_percent),
        _num(r.growth_percent_per_day),
        _num(r.growth_low),
        _num(r.growth_high),
        iso_utc(r.exhaustion_at) if r.exhaustion_at else "",
        r.restarts,
        len(analysis.incidents_of(s)),
        r.verdict.value,
        r.kind,
        s.query,
        _num(r.week_over_week_change),
        iso_utc(r.first_seen) if r.first_seen else "",
        iso_utc(r.last_seen) if r.last_seen else "",
        label_text(dict(s.labels)),
    ]


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def gap_line(gap: Gap) -> str:
    """A fleet gap as the review says it (in the sources' own words, as the incident report)."""
    if gap.source == "Prometheus" and gap.kind is GapKind.WARNED:
        return f"Prometheus warned: {gap.detail}"
    if gap.source == "Prometheus":  # the requests that failed, for one cause
        return f"Prometheus ({gap.subject}): {gap.detail}"
    if gap.source == "PagerDuty" and gap.kind is GapKind.UNFETCHED:
        return f"PagerDuty: {gap.detail}"
    return words_gap_line(gap)  # a list fetched in part, or a line of an older snapshot
