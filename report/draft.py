"""The incident report's charts planned, its texts rendered and its files written, from the
analysis and the report model. No network, no analysis, no worker: `collector.jobs.draft`
runs the draft and hands the chart jobs to its runner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from collector.analysis.incident import Analysis
from collector.analysis.memory import MemoryTrend
from collector.analysis.memory_context import HostContext
from collector.analysis.metrics import QuerySummary
from collector.config import Config
from collector.paths import path_under, unique_slugs
from collector.records import Event, QueryKind
from collector.snapshot.prometheus import QueryResult
from collector.timeutil import iso_utc
from report.charts.drawing import draw_memory_trend, draw_metric, draw_timeline
from report.charts.picking import MAX_LEGEND_SERIES, in_window, pick_series
from report.charts.plan import (
    ChartJob,
    metric_figsize,
    pixel_size,
    timeline_figsize,
    trend_figsize,
)
from report.context_draft import place_context, plan_context_charts, trend_chart_path
from report.figures_json import build_figures_json
from report.links import LinkTargets, QueryLinks, build_query_links, chart_range
from report.model import TIMELINE_CHART, ChartRef, ReportModel
from report.render import inline_images, render_html, render_markdown
from report.spreadsheet import write_csv
from report.words import Words, event_line

TIMELINE_COLUMNS = ["time_utc", "source", "kind", "phase", "actor", "summary", "link", "ref"]


@dataclass(frozen=True)
class ChartPlan:
    """The charts the report shows, in its order, and the jobs that draw their files."""

    shown: list[ChartRef]
    jobs: list[ChartJob]

    @property
    def pixels(self) -> dict[Path, tuple[int, int]]:
        """Each chart file's size in pixels, before any is drawn."""
        return {job.path: job.pixels for job in self.jobs}


def plan_all_charts(
    analysis: Analysis,
    contexts: Sequence[HostContext],
    config: Config,
    folder: Path,
    targets: LinkTargets | None,
) -> ChartPlan:
    """The incident's charts, each host's 28-day context chart (`contexts`, reviewed by the
    analysis: `report.context_draft`) right after its trend chart."""
    words = Words(config.report.language, config.business.currency)
    incident = analysis.incident
    instances = {t.instance for t in analysis.trends}
    planned_contexts = plan_context_charts(
        contexts,
        (incident.created_at, incident.resolved_at or analysis.window[1]),
        folder,
        words,
        instances,
    )
    timeline, planned = plan_charts(analysis, folder, config.report.timezone, targets, words)
    placed = place_context(
        [shown for shown, _ in planned],
        {instance: entry for instance, (entry, _) in planned_contexts.items()},
        instances,
    )
    jobs = [timeline, *(job for _, job in (*planned, *planned_contexts.values()))]
    return ChartPlan(placed, jobs)


def undrawn_queries(analysis: Analysis) -> list[QuerySummary]:
    """The queries that answered but have no sample in the window: named, not drawn."""
    return [
        q
        for q, r in zip(analysis.summaries, analysis.queries, strict=True)
        if q.kind != QueryKind.ALERTS
        and not r.error
        and not has_samples(r.samples, analysis.window)
    ]


@dataclass(frozen=True)
class ReportTexts:
    """report.md, and the HTML page with its charts as links (report.pdf reads the files)."""

    markdown: str
    linked: str


def render_texts(model: ReportModel, config: Config) -> ReportTexts:
    """The report's Markdown and its HTML page, from the model (no chart file needed)."""
    words = Words(config.report.language, config.business.currency)
    language = config.report.language
    context = model.template_context() | {"W": words}
    markdown = render_markdown(context, language, config.report.template_dir)
    title = model.incident.title
    linked = render_html(markdown, title, {}, language, config.report.template_dir)
    return ReportTexts(markdown, linked)


def write_report_files(
    texts: ReportTexts, model: ReportModel, analysis: Analysis, folder: Path, images: list[Path]
) -> list[Path]:
    """report.md, report.html (charts inlined: the one file can be mailed), timeline.csv and
    figures.json."""
    inlined = {p.relative_to(folder).as_posix(): p.read_bytes() for p in images}
    written: list[Path] = []
    for name, text in (
        ("report.md", texts.markdown),
        ("report.html", inline_images(texts.linked, inlined)),
        ("figures.json", build_figures_json(model)),
    ):
        path_under(folder, name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    # Row by row: a million events' text, whole and then encoded, would not fit beside the rest.
    with path_under(folder, "timeline.csv").open("w", encoding="utf-8") as out:
        write_timeline_csv(out, analysis.events)
    written.insert(2, folder / "timeline.csv")  # listed where it always was
    return written


def write_pdf(pdf: bytes | None, folder: Path) -> list[Path]:
    """Write report.pdf, when there is one to write."""
    if pdf is None:
        return []
    path_under(folder, "report.pdf").write_bytes(pdf)
    return [folder / "report.pdf"]


def plan_charts(
    analysis: Analysis,
    folder: Path,
    zone: str | None,
    targets: LinkTargets | None = None,
    words: Words | None = None,
) -> tuple[ChartJob, list[PlannedChart]]:
    """The timeline chart's job (the report shows it apart), and each trend and metric chart:
    what the report shows (with live links) and the job that draws it."""
    a = analysis
    words = words or Words("en")
    path = path_under(folder, TIMELINE_CHART)
    draw = partial(
        draw_timeline,
        a.events,
        a.alerts,
        a.milestones,
        a.window,
        a.incident.title,
        path,
        words,
        zone,
    )
    timeline = ChartJob(path, pixel_size(timeline_figsize(a.alerts)), draw)
    planned = [
        *_trend_charts(a, folder, zone, targets, words),
        *_metric_charts(a, folder, zone, targets, words),
    ]
    return timeline, planned


# What the report shows of a chart, and the job that draws it.
PlannedChart = tuple[ChartRef, ChartJob]


def _trend_charts(
    a: Analysis, folder: Path, zone: str | None, targets: LinkTargets | None, words: Words
) -> list[PlannedChart]:
    planned: list[PlannedChart] = []
    names = unique_slugs(t.instance for t in a.trends)
    for instance, trends in _trends_by_instance(a.trends).items():
        relative = trend_chart_path(names[instance])
        path = path_under(folder, relative)
        draw = partial(
            draw_memory_trend,
            a.trend_rows,  # not the whole frame: searching it again for each chart is slow
            trends,
            a.milestones,
            path,
            words,
            zone,
        )
        job = ChartJob(path, pixel_size(trend_figsize(trends)), draw)
        links = _trend_links(trends, a.queries, targets)
        title = words.say("chart_memory_trend", instance=instance)
        planned.append((_shown(title, relative, "memory", links), job))
    return planned


def _metric_charts(
    a: Analysis, folder: Path, zone: str | None, targets: LinkTargets | None, words: Words
) -> list[PlannedChart]:
    planned: list[PlannedChart] = []
    names = unique_slugs((s.name for s in a.summaries), "query")  # 60 characters kept
    for summary, query in zip(a.summaries, a.queries, strict=True):
        if summary.kind == QueryKind.ALERTS or not has_samples(query.samples, a.window):
            continue  # no empty panels: the missing-data block names the query instead
        # The query's own rows (a slice of the frame): the chart need not search the frame.
        frame = a.counted_up.get(summary.name, query.samples)
        # What the chart draws, picked here: its job then carries a few series, not them all.
        everything = words.say("chart_all_series")
        shown = summary.shown or MAX_LEGEND_SERIES
        pick = pick_series(frame, a.window, shown, everything)
        relative = f"charts/{names[summary.name]}.png"
        path = path_under(folder, relative)
        baseline = in_window(a.baseline, summary.name, a.window) if query.has_baseline else None
        draw = partial(
            draw_metric,
            pick,
            summary,
            query.thresholds,
            a.span,
            a.window,
            a.milestones,
            path,
            words,
            zone,
            baseline=baseline,
            baseline_offset_s=query.baseline_offset_s,
        )
        links = _live_links(query, a.window, targets)
        job = ChartJob(path, pixel_size(metric_figsize()), draw)
        planned.append((_shown(summary.title, relative, "impact", links), job))
    return planned


def _shown(title: str, path: str, section: str, links: list[QueryLinks]) -> ChartRef:
    return ChartRef(title, path, section, tuple(links))


def link_targets(config: Config, queried_url: str) -> LinkTargets | None:
    """Where the report's live links point: the configured pages, else the queried Prometheus."""
    url = config.links.prometheus_url or queried_url
    if not url:
        return None
    return LinkTargets(
        prometheus_url=url,
        grafana_url=config.links.grafana_url,
        grafana_datasource=config.links.grafana_datasource,
        grafana_org_id=config.links.grafana_org_id,
    )


def _trend_links(
    trends: list[MemoryTrend], queries: Sequence[QueryResult], targets: LinkTargets | None
) -> list[QueryLinks]:
    """A memory trend chart's links: each of its queries over all that was fetched."""
    records = {q.name: q for q in queries}
    names = dict.fromkeys(t.query for t in trends)
    return [link for name in names for link in _live_links(records.get(name), None, targets)]


def _live_links(
    query: QueryResult | None,
    visible: tuple[datetime, datetime] | None,
    targets: LinkTargets | None,
) -> list[QueryLinks]:
    """The live links of one query over the range its chart shows (None: all it fetched)."""
    if targets is None or query is None or query.start is None or query.end is None:
        return []
    fetched = (query.start, query.end)
    step = int(query.step)
    start, end = chart_range(visible or fetched, fetched, step)
    return [build_query_links(targets, query.title, query.query, start, end, step)]


def has_samples(data: pd.DataFrame, window: tuple[datetime, datetime]) -> bool:
    """Whether a query's rows (`QueryResult.samples`) have a finite sample inside the window
    (NaN is 0/0: no swap)."""
    inside = (data["time"] >= pd.Timestamp(window[0])) & (data["time"] <= pd.Timestamp(window[1]))
    return bool(np.isfinite(data.loc[inside, "value"].to_numpy(dtype=float)).any())


def _trends_by_instance(trends: list[MemoryTrend]) -> dict[str, list[MemoryTrend]]:
    grouped: dict[str, list[MemoryTrend]] = {}
    for trend in sorted(trends, key=lambda t: (t.instance, t.kind != "memory")):
        grouped.setdefault(trend.instance, []).append(trend)
    return grouped


def write_timeline_csv(out: TextIO, events: list[Event]) -> None:
    """One row per event: time in UTC, source, kind, phase, actor, summary, link, ref."""
    write_csv(
        out,
        TIMELINE_COLUMNS,
        (
            [iso_utc(e.time), e.source, e.kind, e.phase, e.actor, event_line(e), e.link, e.ref]
            for e in events
        ),
    )
