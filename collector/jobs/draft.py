"""One incident's draft, one path: the snapshot read once, the analysis asked for its facts,
the report model built, worded, drawn and rendered into a staged folder, then published.

`draft_incident` is the draft: (snapshot, settings, runner) -> the files of a staged folder.
`publish_incident` stages it under the incident's lock and hands it to `collector.output`,
which only publishes (edit and poorer-draft rules, atomic swap).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from collector.analysis.incident import Analysis, analyse_incident
from collector.analysis.memory_context import review_context
from collector.config import Config
from collector.config.stored import settings_record
from collector.errors import OutputError
from collector.files import read_regular_file
from collector.jobs.runner import Runner
from collector.output import (
    FIGURES,
    NEW_REPORT,
    STATE_FILE,
    HandOff,
    Published,
    discard_staging,
    lock_for,
    make_staging,
    publish,
    write_error,
)
from collector.parallel import Background
from collector.paths import path_under
from collector.snapshot.incident import read_incident_data
from collector.snapshot.prometheus import read_memory_context
from collector.snapshot.store import (
    Snapshot,
    log_entries_on_disk,
    lost_data,
    read_published,
    sample_count,
    save_snapshot,
)
from collector.timeutil import parse_time
from report.draft import (
    link_targets,
    plan_all_charts,
    render_texts,
    undrawn_queries,
    write_pdf,
    write_report_files,
)
from report.figures_json import uncomputed_figures
from report.model import Origin, ReportModel, build_report_model
from report.words import lost_line

SNAPSHOT = "snapshot.json"
# From this many samples on, snapshot.json is written by a process forked for it, while the
# draft is analysed on the other core; below, it is written here in less time than a fork costs.
WRITTEN_BESIDE_FROM = 200_000


@dataclass(frozen=True)
class Draft:
    """The files of a draft (relative to its folder), the analysis and the report model."""

    files: list[Path]
    analysis: Analysis
    model: ReportModel


# Called with the draft and its state file once a new report is in place; says what it did.
Announce = Callable[[Draft, Path], HandOff]


def draft_incident(
    snapshot: Snapshot, config: Config, runner: Runner, folder: Path, now: datetime | None = None
) -> Draft:
    """Read the snapshot, analyse it, plan the charts, build the report model, then draw the
    charts while report.pdf is laid out beside them, and write the files into `folder`."""
    now = now or datetime.now(timezone.utc)
    if config.report.pdf_for_drafts:
        runner.start_pdf_writer()  # unless the command line started it at once
    try:
        data = read_incident_data(
            snapshot.pagerduty, snapshot.prometheus, config.prometheus.queries
        )
        analysis = analyse_incident(data, config, now)
        targets = link_targets(config, snapshot.prometheus.get("url", ""))
        context = read_memory_context(snapshot.prometheus)
        instances = {t.instance for t in analysis.trends}
        reviewed = review_context(context or [], instances, analysis.incident.created_at)
        charts = plan_all_charts(analysis, reviewed, config, folder, targets)
        model = build_report_model(
            analysis,
            origin_of(snapshot),
            snapshot.gaps,
            config,
            charts.shown,
            undrawn=undrawn_queries(analysis),
            no_memory_context=bool(analysis.trends) and context is None,
            now=now,
        )
        texts = render_texts(model, config)
        if config.report.pdf_for_drafts:
            runner.lay_out_pdf(texts.linked, folder, charts.pixels)
        images = runner.draw(charts.jobs)
        written = images + write_report_files(texts, model, analysis, folder, images)
        if config.report.pdf_for_drafts:
            written += write_pdf(runner.finish_pdf(texts.linked, folder)[1], folder)
    finally:
        runner.stop_draft_workers()
    return Draft([p.relative_to(folder) for p in written], analysis, model)


def origin_of(snapshot: Snapshot) -> Origin:
    """Where the snapshot came from, for the report's provenance."""
    rng = snapshot.prometheus.get("range", {})
    return Origin(
        incident_id=snapshot.incident_id,
        collected_at=parse_time(snapshot.collected_at),
        pagerduty_url=snapshot.pagerduty.get("base_url", ""),
        prometheus_url=snapshot.prometheus.get("url", ""),
        range_start=parse_time(rng["start"]) if rng.get("start") else None,
        range_end=parse_time(rng["end"]) if rng.get("end") else None,
        step=rng.get("step", "?"),
    )


def publish_incident(
    snapshot: Snapshot,
    config: Config,
    runner: Runner,
    out_dir: Path,
    *,
    force: bool,
    announce: Announce | None = None,
    index: bool = True,
) -> Published:
    """Draft the snapshot's report in a staging folder, then publish it under the lock.

    With `announce` (`collector.jobs.handoff.announcer`), a new report in place is handed off
    (chat notice, PagerDuty note) before the lock is released. With `index` false, OUT/index.html
    is left to the caller (a batch rebuilds it once, at its end).
    """
    from collector.jobs.index import with_index

    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    incident_id = snapshot.incident_id
    # The snapshot beside the draft keeps the settings it was made with: a re-render uses them.
    snapshot = replace(snapshot, settings=settings_record(config, now))
    try:
        with lock_for(out_dir, incident_id):
            staging = make_staging(out_dir, incident_id)
            try:
                # Read before the draft is built: its text then comes and goes before the
                # analysis' peak, not on top of it.
                published = read_published(path_under(out_dir, incident_id) / SNAPSHOT)
                writer = _save_snapshot_beside(snapshot, staging / SNAPSHOT, runner)
                try:
                    draft = draft_incident(snapshot, config, runner, staging, now)
                    if writer is not None:
                        writer.result()  # its OSError (a full disk) is raised here
                finally:
                    if writer is not None:
                        writer.cancel()  # done, or stopped before the staging folder goes
                found = lost_data(snapshot, published) if published is not None else []
                lost = [lost_line(item) for item in found]
                lost += _lost_figures(path_under(out_dir, incident_id), staging)
                result = publish(staging, out_dir, incident_id, force=force, stamp=stamp, lost=lost)
                if announce is not None and result.status in NEW_REPORT:
                    handoff = announce(draft, result.folder / STATE_FILE)
                    result = replace(result, handoff=handoff)
                return with_index(result, out_dir, config) if index else result
            finally:
                discard_staging(staging)
    except OSError as exc:
        raise OutputError(
            f"cannot write the report for {incident_id} under {out_dir} ({write_error(exc)});"
            " nothing was changed there"
        ) from exc


def _save_snapshot_beside(
    snapshot: Snapshot, path: Path, runner: Runner
) -> Background[None] | None:
    """Write snapshot.json: a big one in a process forked for it, which the caller waits for
    (`Background.result`); a small one, or where no process can be forked, here and now."""
    # Log entries left on disk are read from the file again to be written: as long a job.
    if sample_count(snapshot) >= WRITTEN_BESIDE_FROM or log_entries_on_disk(snapshot):
        writer = runner.beside(lambda: save_snapshot(snapshot, path))
        if writer is not None:
            return writer
    save_snapshot(snapshot, path)
    return None


def _lost_figures(published: Path, staging: Path) -> list[str]:
    """The figures the published report computed and the staged draft does not, as one
    reason; [] when there is none, or no published figures.json to compare with."""
    old, new = _read_text(published / FIGURES), _read_text(staging / FIGURES)
    lacking = uncomputed_figures(old, new) if old is not None and new is not None else []
    return [f"figures it no longer computes: {', '.join(lacking)}"] if lacking else []


def _read_text(path: Path) -> str | None:
    try:
        return read_regular_file(path).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
