"""From a snapshot to the report's files: analysis, then charts, then rendering. No network."""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from collector.analysis.incident import Analysis, analyse_incident
from collector.analysis.memory import MemoryTrend
from collector.analysis.metrics import QuerySummary, count_series_up
from collector.config import Config
from collector.parallel import Background, BackgroundEnded, run_jobs
from collector.paths import path_under, unique_slugs
from collector.records import Event
from collector.snapshot.incident import read_incident_data
from collector.snapshot.prometheus import QueryResult
from collector.snapshot.store import Snapshot
from collector.timeutil import iso_utc
from report.charts.picking import MAX_LEGEND_SERIES, in_window, pick_series
from report.charts.plan import (
    ChartJob,
    drawn_by,
    load_drawing,
    metric_figsize,
    pixel_size,
    timeline_figsize,
    trend_figsize,
)
from report.context_draft import (
    has_context,
    place_context,
    plan_context_charts,
    trend_chart_path,
)
from report.figures_json import build_figures_json
from report.links import LinkTargets, QueryLinks, build_query_links, chart_range
from report.model import TIMELINE_CHART, ChartRef, ReportModel, build_report_model
from report.pdf import PdfOutcome, learn_pdf_unavailable, pdf_outcome, start_pdf_writer
from report.render import inline_images, render_html, render_markdown
from report.spreadsheet import write_csv
from report.words import Words, event_line

TIMELINE_COLUMNS = ["time_utc", "source", "kind", "phase", "actor", "summary", "link", "ref"]


@dataclass(frozen=True)
class Draft:
    """The files of a draft (relative to its folder), the analysis and the report model."""

    files: list[Path]
    analysis: Analysis
    model: ReportModel


def build_draft(
    snapshot: Snapshot,
    config: Config,
    folder: Path,
    now: datetime | None = None,
    pdf_writer: Background[PdfOutcome] | None = None,
    chart_drawer: Background[list[Path]] | None = None,
) -> Draft:
    """Read the snapshot, analyse it, plan the charts, build the report model, then draw the
    charts while report.pdf is laid out beside them, and write the files.

    report.pdf is written by a process of its own (`pdf_writer`, started early by the caller,
    or here): it loads WeasyPrint while this one analyses, then lays the page out while the
    charts are drawn. Where no such process can run, it is written here, at the end. The
    charts likewise go to `chart_drawer` (`start_chart_drawer`), started early by the caller
    to load matplotlib meanwhile; without one they are drawn by workers forked here.
    """
    now = now or datetime.now(timezone.utc)
    pdf = pdf_writer or (start_pdf_writer() if config.report.pdf_for_drafts else None)
    try:
        pack = config.prometheus.queries
        data = read_incident_data(snapshot.pagerduty, snapshot.prometheus, pack)
        analysis = analyse_incident(data, config, now)
        charts = _plan_all_charts(analysis, snapshot, config, folder)
        model = build_report_model(
            analysis,
            snapshot,
            config,
            charts.shown,
            undrawn=undrawn_queries(analysis),
            no_memory_context=bool(analysis.trends) and not has_context(snapshot.prometheus),
            now=now,
        )
        texts = render_texts(model, config)
        if pdf is not None:
            try:
                pdf.send((texts.linked, folder, charts.pixels))
            except BackgroundEnded:  # killed: report.pdf is laid out here, at the end
                pdf = None
        niceness = CHART_NICENESS if pdf is not None else 0
        images = _draw_all(charts.jobs, chart_drawer, niceness)
        written = images + write_report_files(texts, model, analysis, folder, images)
        if config.report.pdf_for_drafts:
            written += finish_pdf(pdf, texts.linked, folder)
    finally:
        if pdf is not None:
            pdf.cancel()
        if chart_drawer is not None:
            chart_drawer.cancel()
    return Draft([p.relative_to(folder) for p in written], analysis, model)


# The most the chart jobs sent to the chart drawer may weigh, pickled: each carries what it
# draws (the demo's 11: 0.11 MB; a 2,000-series incident's 14: 0.85 MB, its memory chart
# picked down to six series and one band). Past this (a timeline of some 100,000 events: its
# 2,128 take 0.6 MB), the charts are drawn by workers forked here, which read them in place.
DRAWER_MAX_BYTES = 32 * 2**20


# How much the chart workers yield to report.pdf's process while it lays the pages out beside
# them (`os.nice`): three processes share two cores, and the charts, drawn by two workers,
# use both once the PDF is done, where a PDF left last runs on one.
CHART_NICENESS = 5


def _draw_all(
    jobs: list[ChartJob], drawer: Background[list[Path]] | None, niceness: int = 0
) -> list[Path]:
    """Every chart file, drawn by the chart drawer (`start_chart_drawer`) when one was started
    and the jobs are light, else by workers forked here (or here, where none can be), at this
    niceness (`collector.parallel.run_jobs`)."""
    if drawer is not None:
        payload = _pickled_up_to([job.draw for job in jobs], DRAWER_MAX_BYTES)
        if payload is not None:
            try:
                drawer.send((payload, niceness))
                return drawer.result()
            except BackgroundEnded:  # killed (out of memory...): the charts are drawn here
                pass
        drawer.cancel()  # it loaded matplotlib in vain: the workers forked here draw
    load_drawing()  # matplotlib: once the page is on its way to report.pdf
    return run_jobs([job.draw for job in jobs], niceness=niceness)


class _TooHeavy(Exception):
    pass


class _BoundedBuffer(io.BytesIO):
    """Bytes that refuse to grow past `most` (`_TooHeavy`)."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.most:
            raise _TooHeavy
        return super().write(data)


def _pickled_up_to(value: object, most: int) -> bytes | None:
    """`value` pickled, or None when that takes more than `most` bytes or cannot be done.

    Pickling stops at the bound: a huge incident's timeline (a million events) would otherwise
    be pickled whole, hundreds of MB, only to be found too heavy to send."""
    buffer = _BoundedBuffer(most)
    try:
        pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL).dump(value)
    except Exception:  # noqa: BLE001 - too heavy (_TooHeavy), or a job that cannot be pickled
        return None
    return buffer.getvalue()


@dataclass(frozen=True)
class ChartPlan:
    """The charts the report shows, in its order, and the jobs that draw their files."""

    shown: list[ChartRef]
    jobs: list[ChartJob]

    @property
    def pixels(self) -> dict[Path, tuple[int, int]]:
        """Each chart file's size in pixels, before any is drawn."""
        return {job.path: job.pixels for job in self.jobs}


def _plan_all_charts(
    analysis: Analysis, snapshot: Snapshot, config: Config, folder: Path
) -> ChartPlan:
    """The incident's charts, each host's 28-day context chart right after its trend chart."""
    words = Words(config.report.language, config.business.currency)
    incident = analysis.incident
    instances = {t.instance for t in analysis.trends}
    contexts = plan_context_charts(
        snapshot.prometheus,
        (incident.created_at, incident.resolved_at or analysis.window[1]),
        folder,
        words,
        instances,
    )
    targets = link_targets(snapshot, config)
    timeline, planned = plan_charts(analysis, folder, config.report.timezone, targets, words)
    placed = place_context(
        [shown for shown, _ in planned],
        {instance: entry for instance, (entry, _) in contexts.items()},
        instances,
    )
    jobs = [timeline, *(job for _, job in (*planned, *contexts.values()))]
    return ChartPlan(placed, jobs)


def undrawn_queries(analysis: Analysis) -> list[QuerySummary]:
    """The queries that answered but have no sample in the window: named, not drawn."""
    return [
        q
        for q, r in zip(analysis.summaries, analysis.queries, strict=True)
        if q.kind != "alerts" and not r.error and not has_samples(r.samples, analysis.window)
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
    # Row by row: a million events' text would be some 250 MB, and as much again encoded.
    with path_under(folder, "timeline.csv").open("w", encoding="utf-8") as out:
        write_timeline_csv(out, analysis.events)
    written.insert(2, folder / "timeline.csv")  # listed where it always was
    return written


def finish_pdf(started: Background[PdfOutcome] | None, html: str, folder: Path) -> list[Path]:
    """Write report.pdf: what the forked process laid out, or (none started, or it was
    killed) lay it out here."""
    try:
        reason, pdf = started.result() if started is not None else pdf_outcome(html, folder)
    except BackgroundEnded:
        reason, pdf = pdf_outcome(html, folder)
    learn_pdf_unavailable(reason)  # the CLI says it once, without importing WeasyPrint here
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
    draw = drawn_by(
        "report.charts.timeline",
        "draw_timeline_chart",
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


def draw_charts(
    analysis: Analysis,
    folder: Path,
    zone: str | None,
    targets: LinkTargets | None = None,
    words: Words | None = None,
) -> tuple[list[ChartRef], list[Path]]:
    """Draw every chart (in parallel, `collector.parallel`); return what the report shows
    (the timeline apart) and the files."""
    timeline, planned = plan_charts(analysis, folder, zone, targets, words)
    jobs = [timeline, *(job for _, job in planned)]
    return [shown for shown, _ in planned], _draw_all(jobs, None)


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
        draw = drawn_by(
            "report.charts.memory",
            "draw_memory_trend_chart",
            a.trend_rows,  # not the whole frame: 45 ms a search at 1.4 M rows, 4 a chart
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
        if summary.kind == "alerts" or not has_samples(query.samples, a.window):
            continue  # no empty panels: the missing-data block names the query instead
        # The query's own rows (a slice of the frame): the chart need not search the frame.
        frame = query.samples
        if summary.kind == "availability" and summary.series_count > summary.shown:
            frame = count_series_up(query.samples, summary.name)
        # What the chart draws, picked here: its job then carries a few series, not them all.
        everything = words.say("chart_all_series")
        shown = summary.shown or MAX_LEGEND_SERIES
        pick = pick_series(frame, a.window, shown, everything)
        relative = f"charts/{names[summary.name]}.png"
        path = path_under(folder, relative)
        baseline = in_window(a.baseline, summary.name, a.window) if query.has_baseline else None
        draw = drawn_by(
            "report.charts.metric",
            "draw_metric_chart",
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
