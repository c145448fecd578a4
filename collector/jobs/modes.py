"""The modes of `collect`, one function each: the command line parses the options, builds the
mode and calls one of these, which says what happened through the console it is given.

Only small modules load with this one: each mode imports what it needs (pandas, matplotlib,
Jinja2, the clients) when it runs, so that `collect --help` answers at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from collector.errors import CollectorError
from collector.paths import incident_id_problem
from report.pdf import pdf_unavailable

if TYPE_CHECKING:
    from collector.config import Config
    from collector.config.settings import Language
    from collector.jobs.runner import Runner
    from collector.output import Published
    from collector.snapshot.review import ReviewSnapshot
    from collector.snapshot.store import Snapshot

T = TypeVar("T")
# Given the number of incidents, a context that yields the step to call once per incident.
ProgressBar = Callable[[int], AbstractContextManager[Callable[[str], None]]]


class BadValue(CollectorError, ValueError):
    """An option's value that does not parse: the command line says it as a usage error
    (exit 2, with the usage line), where other CollectorErrors exit 1."""


@dataclass(frozen=True)
class Console:
    """Where a mode says what happened: its results (`out`), its progress and warnings (`err`),
    and the bar a batch shows on a terminal (None: plain lines)."""

    out: Callable[[str], None]
    err: Callable[[str], None]
    bar: ProgressBar | None = None

    def warn(self, text: str) -> None:
        """One warning line."""
        self.err(f"warning: {one_line(text)}")


@dataclass(frozen=True)
class Mode:
    """The one mode asked for, its inputs checked."""

    incident_id: str | None
    snapshot_path: Path | None
    window: timedelta | None  # --resolved-since
    address: tuple[str, int] | None  # --webhook
    memory_trends: str | None
    config_path: Path | None = None  # --config, as given
    lang: str | None = None  # --lang
    demo: bool = False

    @property
    def one_report(self) -> bool:
        """Whether this run drafts one incident's report (report.pdf among its files)."""
        return self.window is None and self.address is None and self.memory_trends is None


def run_collect(
    mode: Mode,
    config_path: Path | None,
    out_dir: Path,
    force: bool,
    metrics_file: Path | None,
    until: str | None,
    console: Console,
) -> int:
    """Load the settings, build the runner, run the mode; the exit code."""
    from collector.config import load_config
    from collector.jobs.runner import Runner

    config = with_language(load_config(config_path, os.environ), mode.lang)
    with Runner() as runner:
        if mode.one_report and config.report.pdf_for_drafts:
            # One report to draft: report.pdf's process starts now and loads WeasyPrint on
            # the other core while this one loads pandas and matplotlib.
            runner.start_pdf_writer()
        return run_mode(mode, config, out_dir, force, metrics_file, until, runner, console)


def run_mode(
    mode: Mode,
    config: Config,
    out_dir: Path,
    force: bool,
    metrics_file: Path | None,
    until: str | None,
    runner: Runner,
    console: Console,
) -> int:
    """Run the mode asked for, with its settings loaded; the exit code."""
    from collector.output import check_out_dir
    from collector.snapshot.store import snapshot_kind

    runner.settle()  # `collect` kept the garbage collector off while its libraries loaded

    check_out_dir(out_dir)  # before anything is fetched
    if mode.window is not None:
        return _run_batch(config, mode.window, out_dir, metrics_file, runner, console)
    if mode.address is not None:
        from collector.jobs.webhook import serve_webhooks

        _warn_without_pdf(config, console)
        serve_webhooks(config, out_dir, *mode.address, log=console.err, runner=runner)
        return 0
    path = mode.snapshot_path
    kind = snapshot_kind(path) if path is not None else None
    if mode.memory_trends is not None or kind == "fleet":
        runner.stop_draft_workers()  # a fleet snapshot: the review writes no report.pdf
        _run_fleet_review(config, mode, until, out_dir, force, runner, console)
        return 0
    if kind == "review" and path is not None:
        from collector.jobs.review import rerender_review

        runner.stop_draft_workers()  # nor does the review across incidents
        say_review(*rerender_review(path, config, out_dir, force, runner), console)
        return 0
    draft_one(mode, config, out_dir, force, runner, console)
    return 0


def draft_one(
    mode: Mode, config: Config, out_dir: Path, force: bool, runner: Runner, console: Console
) -> None:
    """Collect the incident (or read its snapshot), draft and publish its report."""
    from collector.output import clean_leftovers
    from collector.snapshot.store import load_snapshot

    for leftover in clean_leftovers(out_dir):
        console.err(f"removed {leftover.name}, left by an interrupted run")
    # matplotlib loads in the chart drawer, started once pandas has loaded, on the other core
    # (here, in a thread, was slower: benchmarks/README.md); the draft's modules and Jinja2
    # load here meanwhile, while the snapshot is read or the sources answer.
    import pandas  # noqa: F401 - the drawer is forked with it

    runner.start_chart_drawer()
    if mode.snapshot_path is not None:
        with runner.loading("collector.jobs.draft"):
            snapshot = load_snapshot(mode.snapshot_path, shipped=is_shipped_demo(mode))
        if not mode.demo:
            config = _re_render_settings(snapshot, config, mode, console)
    else:
        from collector.sources.collect import collect_snapshot  # the clients: only to collect

        with runner.loading("collector.jobs.draft", "collector.jobs.handoff"):
            snapshot = collect_snapshot(config, str(mode.incident_id))
    from collector.jobs.draft import publish_incident

    # Only a fresh collection is announced: a re-render (--snapshot, --demo) stays offline.
    announce = None
    if mode.incident_id is not None:
        from collector.jobs.handoff import announcer

        announce = announcer(snapshot, config, out_dir)
    published = publish_incident(snapshot, config, runner, out_dir, force=force, announce=announce)
    handoff_warnings = published.handoff.warnings if published.handoff else ()
    from report.words import gap_line

    for warning in [*map(gap_line, snapshot.gaps), *handoff_warnings, *published.warnings]:
        console.warn(warning)
    _warn_without_pdf(config, console)
    console.out(published.message)
    console.out(fields_left(published.folder / "report.md"))


def is_shipped_demo(mode: Mode) -> bool:
    """Whether the snapshot is the one installed with this code (`--demo`), never a user's."""
    from collector.demo import SNAPSHOT, demo_dir

    return mode.demo and mode.snapshot_path == demo_dir() / SNAPSHOT


def fields_left(report: Path) -> str:
    """'12 fields left for people': the draft's fill-in markers (filled suggestions are not)."""
    from report.words.markers import count_markers

    try:
        count = count_markers(report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return f"cannot read {report} to count the fields left for people"
    return f"{count} field{'s' * (count != 1)} left for people"


def run_finalize(
    incident_id: str,
    out_dir: Path,
    config_path: Path | None,
    allow_incomplete: bool,
    accept_edits: bool,
    console: Console,
) -> int:
    """Finalize OUT/<ID>/report.md: say what was done, or why not (exit code 1)."""
    from collector.config import load_config
    from collector.jobs.finalize import FinalizeOptions, finalize_report

    if problem := incident_id_problem(incident_id):
        raise BadValue(f"--finalize: {problem}")
    config = load_config(config_path, os.environ)
    if config_path is None:
        config = _draft_settings(out_dir, incident_id, config)
    options = FinalizeOptions(allow_incomplete, accept_edits)
    index_warnings: list[str] = []

    def rebuild(out: Path) -> None:  # the team's list shows the report as final at once
        from collector.jobs.index import refresh_index

        index_warnings.extend(w for w in [refresh_index(out, config)] if w)

    done = finalize_report(config, out_dir, incident_id, options, after=rebuild)
    if not done.ok:
        for line in done.lines:
            console.err(line)
        return 1
    handoff = done.handoff.warnings if done.handoff else ()
    for warning in [*done.warnings, *handoff, *index_warnings]:
        console.warn(warning)
    for line in done.lines:
        console.out(line)
    return 0


def _draft_settings(out_dir: Path, incident_id: str, config: Config) -> Config:
    """Without --config, the settings the draft was made with (its snapshot keeps them): the
    final and the index keep its time zone, targets and language."""
    from collector.config.stored import stored_settings_problem, with_stored_settings
    from collector.paths import path_under
    from collector.snapshot.store import read_published

    data = read_published(path_under(out_dir, incident_id) / "snapshot.json")
    record = data.get("settings") if data else None
    if not isinstance(record, dict) or stored_settings_problem(record):
        return config
    return with_stored_settings(config, record)


def _re_render_settings(snapshot: Snapshot, config: Config, mode: Mode, console: Console) -> Config:
    """The settings a re-render uses, said on one line: --config's, else the snapshot's."""
    from collector.config.stored import describe_stored, with_stored_settings

    if mode.config_path is not None:
        console.err(f"settings: from --config {mode.config_path}")
        return config
    if snapshot.settings is None:
        console.err("settings: defaults; this snapshot stores none")
        return config
    console.err(f"settings: those stored in the snapshot ({describe_stored(snapshot.settings)})")
    return with_language(with_stored_settings(config, snapshot.settings), mode.lang)


def _run_batch(
    config: Config,
    window: timedelta,
    out_dir: Path,
    metrics_file: Path | None,
    runner: Runner,
    console: Console,
) -> int:
    from collector.jobs.batch import run_batch
    from collector.jobs.monitoring import write_batch_metrics

    started = time.time()
    summary = run_batch(
        config, window, out_dir, progress=console.err, bar=console.bar, runner=runner
    )
    _warn_without_pdf(config, console)
    for line in summary.report_lines():
        console.out(line)
    console.out(summary.summary_line())
    if metrics_file is not None:
        try:
            write_batch_metrics(metrics_file, summary.outcomes, summary.ok, started)
        except OSError as exc:
            reason = exc.strerror or exc
            console.err(f"warning: cannot write the metrics file {metrics_file}: {reason}")
    return 0 if summary.ok else 1


def _run_fleet_review(
    config: Config,
    mode: Mode,
    until: str | None,
    out_dir: Path,
    force: bool,
    runner: Runner,
    console: Console,
) -> None:
    from collector.config import parse_duration
    from collector.jobs.fleet_review import publish_review
    from collector.snapshot.fleet import load_fleet_snapshot
    from collector.sources.collect_fleet import collect_fleet_snapshot

    # The review's libraries (matplotlib, Jinja2) load while the snapshot is read or
    # Prometheus answers.
    with runner.loading("report.fleet_draft"):
        if mode.snapshot_path is not None:
            snapshot = load_fleet_snapshot(mode.snapshot_path)
        else:
            window = _option(parse_duration, str(mode.memory_trends), "--memory-trends")
            end = _option(parse_until, until, "--until") if until else None
            snapshot = collect_fleet_snapshot(config, window, end)
    from report.fleet_draft import gap_line

    published = publish_review(snapshot, config, out_dir, force=force, runner=runner)
    for warning in [*(gap_line(gap) for gap in snapshot.gaps), *published.warnings]:
        console.warn(warning)
    console.out(
        f"{published.message} ({snapshot.prometheus.get('requests', 0)} Prometheus requests)"
    )


def run_review_mode(
    review: str,
    until: str | None,
    out_dir: Path,
    config_path: Path | None,
    lang: str | None,
    force: bool,
    console: Console,
) -> None:
    """The team's review across incidents: list, join, draft and publish it."""
    from collector.config import load_config, parse_duration
    from collector.jobs.review import MAX_REVIEW, run_review
    from collector.jobs.runner import Runner
    from collector.output import check_out_dir

    window = _option(parse_duration, review, "--review")
    if window > MAX_REVIEW:
        raise BadValue(f"--review: {review.strip()[:40]!r} is longer than {MAX_REVIEW.days} days")
    end = _option(parse_until, until, "--until") if until else None
    config = with_language(load_config(config_path, os.environ), lang)
    check_out_dir(out_dir)
    with Runner() as runner:
        runner.settle()
        say_review(*run_review(config, window, end, out_dir, force=force, runner=runner), console)


def say_review(snapshot: ReviewSnapshot, published: Published, console: Console) -> None:
    """The review's gaps and warnings on stderr, what was published on stdout."""
    from report.words import gap_line

    for warning in [*map(gap_line, snapshot.gaps), *published.warnings]:
        console.warn(warning)
    count = len(snapshot.pagerduty.get("incidents", []))
    console.out(f"{published.message} ({count} incidents listed, with the previous window)")


def parse_until(text: str) -> datetime:
    """--until's time; a bare ISO 8601 date is its midnight, UTC."""
    from collector.timeutil import in_bounds, parse_time

    # A bare ISO 8601 date means its midnight, UTC.
    value = parse_time(f"{text}T00:00:00Z" if len(text.strip()) == 10 else text)
    if not in_bounds(value):
        raise ValueError(f"expected a time from 1970 to 2261, got {text.strip()[:40]!r}")
    return value


def _option(parse: Callable[[str], T], text: str, hint: str) -> T:
    try:
        return parse(text)
    except (ValueError, OverflowError) as exc:
        raise BadValue(f"{hint}: {one_line(str(exc))[:200]}") from exc


def _warn_without_pdf(config: Config, console: Console) -> None:
    """One line when report.pdf is on but this machine cannot write PDFs."""
    reason = pdf_unavailable() if config.report.pdf_for_drafts else None
    if reason:
        console.err(f"warning: {reason}")


def with_language(config: Config, lang: str | None) -> Config:
    """The settings with --lang's language, when given."""
    if lang is None:
        return config
    from dataclasses import replace

    # click has checked the choice; the settings check it again.
    return replace(config, report=replace(config.report, language=cast("Language", lang)))


def one_line(text: str) -> str:
    """The text on one line."""
    return " ".join(text.split())
