"""From a fleet snapshot to the review's files: analysis, charts, report, hosts.csv. No network."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from collector import __version__
from collector.analysis.fleet import Verdict, rank_reviews
from collector.analysis.fleet_links import HostIncident, link_incidents, read_fleet_incidents
from collector.analysis.fleet_series import (
    ReviewedSeries,
    daily_matrix,
    review_grid,
)
from collector.config import Config, FleetSettings
from collector.parallel import run_jobs
from collector.records import Gap, GapKind
from collector.snapshot.fleet import FleetSnapshot
from collector.snapshot.prometheus import label_text
from collector.timeutil import iso_utc, parse_time
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
WORRYING = (Verdict.LEAK, Verdict.GROWING)


@dataclass(frozen=True)
class FleetAnalysis:
    """The whole review, ranked most urgent first."""

    start: datetime
    until: datetime
    series: list[ReviewedSeries]
    incidents: dict[str, list[HostIncident]]  # by series key (query + labels)
    heatmaps: dict[str, pd.DataFrame]  # by query name
    linked: bool
    detailed: int

    def key(self, series: ReviewedSeries) -> str:
        """The series' identity: its query and label set."""
        return series.query + label_text(dict(series.labels))

    def incidents_of(self, series: ReviewedSeries) -> list[HostIncident]:
        """The incidents linked to a series."""
        return self.incidents.get(self.key(series), [])

    @property
    def hosts(self) -> int:
        """Distinct instances reviewed (memory and swap of one host count once)."""
        return len({s.review.instance for s in self.series})

    @property
    def worrying(self) -> list[ReviewedSeries]:
        """Series that leak or grow."""
        return [s for s in self.series if s.review.verdict in WORRYING]

    @property
    def soonest(self) -> ReviewedSeries | None:
        """The series that runs out first within the horizon, if any."""
        dated = [s for s in self.series if s.review.exhaustion_at is not None]
        return min(dated, key=lambda s: s.review.exhaustion_at or self.until, default=None)


def analyse_fleet(snapshot: FleetSnapshot, settings: FleetSettings) -> FleetAnalysis:
    """Review every series (detailed where fetched), rank them and link the incidents."""
    until = parse_time(snapshot.until)
    prom = snapshot.prometheus
    everything: list[ReviewedSeries] = []
    heatmaps: dict[str, pd.DataFrame] = {}
    detailed = 0
    for query in prom["queries"]:
        name, kind = query["name"], query["kind"]
        part = prom["screen"].get(name, {})
        grid = prom.get("detail", {}).get(name) or {}
        fine = review_grid(name, kind, grid, settings, until, detailed=True)
        seen = {label_text(dict(s.labels)) for s in fine}
        coarse = review_grid(name, kind, part.get("coarse", {}), settings, until, skip=seen)
        detailed += len(fine)
        reviewed = coarse + fine
        everything.extend(reviewed)
        order = [s.review.instance for s in _ranked(reviewed)]
        heatmaps[name] = daily_matrix(part.get("coarse", {}), order, until)
    ranked = _ranked(everything)
    incidents = read_fleet_incidents(snapshot.pagerduty.get("incidents", []))
    services = snapshot.pagerduty.get("services", {})
    links = {
        s.query + label_text(dict(s.labels)): link_incidents(incidents, s.labels, services)
        for s in ranked
    }
    return FleetAnalysis(
        start=until - timedelta(seconds=snapshot.window_s),
        until=until,
        series=ranked,
        incidents={k: v for k, v in links.items() if v},
        heatmaps=heatmaps,
        linked=bool(snapshot.pagerduty.get("linked")),
        detailed=detailed,
    )


def _ranked(series: Sequence[ReviewedSeries]) -> list[ReviewedSeries]:
    by_review = {id(s.review): s for s in series}
    return [by_review[id(r)] for r in rank_reviews([s.review for s in series])]


def build_fleet_draft(
    snapshot: FleetSnapshot, config: Config, folder: Path, now: datetime | None = None
) -> list[Path]:
    """Analyse the snapshot, draw the charts and write the review into `folder`."""
    now = now or datetime.now(timezone.utc)
    language = config.report.language
    words = FLEET_LABELS[language]
    analysis = analyse_fleet(snapshot, config.fleet)
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
    for query in snapshot.prometheus["queries"]:
        frame = analysis.heatmaps[query["name"]]
        if not frame.empty:
            path = folder / "charts" / f"heatmap_{query['name']}.png"
            jobs.append(partial(fleet_charts.draw_heatmap, frame, query["title"], words, path))
    # The charts are independent: drawn in forked workers (`collector.parallel`).
    written = [path for path in run_jobs(jobs) if path is not None]
    context = _context(analysis, snapshot, config, now, written, folder)
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
    snapshot: FleetSnapshot,
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
        "gaps": [gap_line(gap) for gap in snapshot.gaps],
        "meta": {
            "generated_at": now,
            "version": __version__,
            "prometheus_url": snapshot.prometheus.get("url", ""),
            "selector": snapshot.prometheus.get("selector", ""),
            "requests": snapshot.prometheus.get("requests", 0),
            "days": round(snapshot.window_s / 86400),
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
