"""The `collect` command: parse options, call one function per stage, print one line each.

Only click and a few small modules load at import: `collect --help` answers at once, and each
mode imports what it needs (pandas, matplotlib, Jinja2, the clients) when it runs.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar, cast

import click

from collector import __version__
from collector.demo import demo_dir
from collector.errors import EXIT_INTERRUPTED, INTERRUPTED, CollectorError, sentence
from collector.paths import incident_id_problem
from report.pdf import PdfOutcome, pdf_unavailable, start_pdf_writer

if TYPE_CHECKING:
    from collector.config import Config
    from collector.config.settings import Language
    from collector.parallel import Background
    from collector.snapshot.store import Snapshot

T = TypeVar("T")


class BadInput(click.ClickException):
    """A bad option value, said on one line (exit 2, as click's usage errors)."""

    exit_code = 2


# What each option's value is, for the line that says it is missing.
VALUE_WORDS = {
    "incident_id": "an incident ID or number",
    "snapshot_path": "a snapshot file",
    "resolved_since": "a duration (24h, 7d)",
    "webhook_address": "HOST:PORT",
    "memory_trends": "a duration (28d)",
    "review": "a duration (30d)",
    "until": "a time (ISO 8601)",
    "out_dir": "a folder",
    "metrics_file": "a file",
    "config_path": "a YAML file",
    "lang": "a language (fr or en)",
    "finalize_id": "an incident ID",
}


class _Collect(click.Command):
    """The command: each error is one line ending with one full stop; a missing value is named."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with _as_sentence():
            _check_values(self, args)
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        with _as_sentence():
            return super().invoke(ctx)


@contextmanager
def _as_sentence() -> Iterator[None]:
    # The one place every error of the command passes on its way out: click's, and ours.
    try:
        yield
    except click.ClickException as exc:
        # click types `message` Final, but it is a plain attribute that its `show` reads.
        exc.message = sentence(exc.message)  # type: ignore[misc]
        raise


def _check_values(command: click.Command, args: Sequence[str]) -> None:
    """An option given without its value: click would take the next option as the value."""
    takes_value = {
        opt: param
        for param in command.params
        if isinstance(param, click.Option) and not param.is_flag
        for opt in param.opts
    }
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for given, following in zip(args, args[1:], strict=False):
        if given == "--":
            return
        param = takes_value.get(given)
        if param is not None and following.split("=", 1)[0] in options | {"-h", "--help"}:
            needs = VALUE_WORDS.get(param.name or "", "a value")
            raise BadInput(f"{given} needs {needs}; got the option {following}")


@click.command(
    cls=_Collect,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--incident",
    "incident_id",
    metavar="ID",
    help="PagerDuty incident ID or number to draft a report for.",
)
@click.option(
    "--snapshot",
    "snapshot_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Re-render from a saved snapshot.json, offline.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Draft the bundled demo incident (no server, no token, no network).",
)
@click.option(
    "--finalize",
    "finalize_id",
    metavar="ID",
    help="Check OUT/<ID>/report.md as a person left it, then render and freeze the final.",
)
@click.option(
    "--allow-incomplete",
    is_flag=True,
    help="--finalize even with fill-in markers left (the final says so on its first lines).",
)
@click.option(
    "--accept-edits",
    is_flag=True,
    help="--finalize even with computed figures changed by hand (the final names each).",
)
@click.option(
    "--resolved-since",
    "resolved_since",
    metavar="DURATION",
    help="Batch: draft every incident resolved in the last DURATION (24h, 7d) not yet drafted.",
)
@click.option(
    "--webhook",
    "webhook_address",
    metavar="HOST:PORT",
    help="Serve PagerDuty v3 webhooks; draft on incident.resolved (PAGERDUTY_WEBHOOK_SECRET).",
)
@click.option(
    "--memory-trends",
    "memory_trends",
    metavar="DURATION",
    help="Review the fleet's memory trends over DURATION (28d): leaks, exhaustion, incidents.",
)
@click.option(
    "--review",
    "review",
    metavar="DURATION",
    help="The team's review across incidents over DURATION (30d): MTTA, restore, RTO, repeats,"
    " actions, against the DURATION before.",
)
@click.option(
    "--until",
    metavar="TIME",
    help="End of the --memory-trends or --review window, ISO 8601 (2026-03-29T00:00Z)."
    " [default: now]",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Folder that receives <INCIDENT_ID>/report.md and the other files.",
)
@click.option(
    "--metrics-file",
    "metrics_file",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="Batch: write the run's metrics for node_exporter's textfile collector (*.prom).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML settings (see config/collector.example.yaml).",
)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    help="Report language. [default: report.language from --config; fr when unset]",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a report a person has edited (the old folder is kept as a backup).",
)
@click.version_option(__version__, prog_name="collect")
def main(
    incident_id: str | None,
    snapshot_path: Path | None,
    demo: bool,
    finalize_id: str | None,
    allow_incomplete: bool,
    accept_edits: bool,
    resolved_since: str | None,
    webhook_address: str | None,
    memory_trends: str | None,
    review: str | None,
    until: str | None,
    out_dir: Path,
    metrics_file: Path | None,
    config_path: Path | None,
    lang: str | None,
    force: bool,
) -> None:
    """Draft a post-incident report from PagerDuty events and Prometheus metrics.

    Writes OUT/<INCIDENT_ID>/ with report.md, report.html, figures.json, charts/*.png,
    timeline.csv and snapshot.json. Once a person has filled report.md in, --finalize checks
    it (no fill-in marker left, no computed figure changed by hand) and writes the final's
    report.html and report.pdf from their text; a final is never replaced by a later run.
    Settings come from --config and the environment: PAGERDUTY_API_TOKEN, PAGERDUTY_BASE_URL,
    PROMETHEUS_URL, and SSL_CERT_FILE / REQUESTS_CA_BUNDLE for TLS trust; --snapshot without
    --config uses the settings the snapshot keeps (targets, business figures, time zone, query
    pack). A report.md that a person has edited, or that has figures the new draft lacks, is
    never overwritten: the new draft goes beside it.

    \b
    Examples:
      collect --demo --out reports
      PAGERDUTY_API_TOKEN=... collect --incident P7DBOOM --config config/collector.example.yaml
      collect --snapshot reports/P7DBOOM/snapshot.json --lang en
      collect --finalize P7DBOOM --out reports
      collect --resolved-since 24h --config /etc/collector.yaml --out /srv/postmortems \\
        --metrics-file /var/lib/node_exporter/textfile/collector.prom
      PAGERDUTY_WEBHOOK_SECRET=... collect --webhook 0.0.0.0:8080 --out /srv/postmortems
      collect --memory-trends 28d --config /etc/collector.yaml --out /srv/capacity
      collect --review 30d --until 2026-04-01 --config /etc/collector.yaml --out /srv/postmortems

    --review writes OUT/review-<until>/ (report.md, report.html, incidents.csv, charts/*.png,
    snapshot.json) from PagerDuty's incident list (filtered as `batch:` says) joined with the
    figures.json and actions.csv of the reports under OUT, and lists it in OUT/index.html.
    """
    modes = {
        "--incident": incident_id,
        "--snapshot": snapshot_path,
        "--demo": demo,
        "--finalize": finalize_id,
        "--resolved-since": resolved_since,
        "--webhook": webhook_address,
        "--memory-trends": memory_trends,
        "--review": review,
    }
    if sum(1 for value in modes.values() if value not in (None, False)) != 1:
        raise click.UsageError(f"give exactly one of {', '.join(modes)}")
    if metrics_file is not None and resolved_since is None:
        raise click.UsageError("--metrics-file goes with --resolved-since")
    if until is not None and memory_trends is None and review is None:
        raise click.UsageError("--until goes with --memory-trends or --review")
    if (allow_incomplete or accept_edits) and finalize_id is None:
        raise click.UsageError("--allow-incomplete and --accept-edits go with --finalize")
    try:
        if finalize_id is not None:
            _run_finalize(finalize_id, out_dir, config_path, allow_incomplete, accept_edits)
            return
        if review is not None:
            _run_review(review, until, out_dir, config_path, lang, force)
            return
        _run(modes, out_dir, config_path, lang, force, metrics_file, until)
    except KeyboardInterrupt:
        _interrupted()
    except CollectorError as exc:
        raise click.ClickException(_one_line(str(exc))) from exc
    except (click.ClickException, click.exceptions.Exit):
        raise
    except Exception as exc:  # a bug: one line that names it, never a traceback
        if _caused_by_interrupt(exc):
            _interrupted()
        raise click.ClickException(
            f"unexpected {type(exc).__name__}: {_one_line(str(exc))[:200]} (this is a bug in"
            " collect: please report it, with the command you ran)"
        ) from exc


@dataclass(frozen=True)
class _Mode:
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


def _run(
    modes: Mapping[str, object],
    out_dir: Path,
    config_path: Path | None,
    lang: str | None,
    force: bool,
    metrics_file: Path | None,
    until: str | None,
) -> None:
    """Check every input, then run the one mode asked for."""
    from collector.config import load_config

    incident_id, snapshot_path = modes["--incident"], modes["--snapshot"]
    if isinstance(incident_id, str) and (problem := incident_id_problem(incident_id)):
        raise BadInput(f"--incident: {problem}")
    given_config = config_path
    if modes["--demo"]:
        config_path = config_path or demo_dir() / "collector.yaml"
        snapshot_path = demo_dir() / "snapshot.json"
    mode = _Mode(
        incident_id if isinstance(incident_id, str) else None,
        snapshot_path if isinstance(snapshot_path, Path) else None,
        _window(modes["--resolved-since"]),
        _address(modes["--webhook"]),
        cast("str | None", modes["--memory-trends"]),
        given_config,
        lang,
        demo=bool(modes["--demo"]),
    )
    config = _with_language(load_config(config_path, os.environ), lang)
    # One report to draft: report.pdf's process starts now and loads WeasyPrint on the other
    # core while this one loads pandas and matplotlib.
    pdf_writer = start_pdf_writer() if mode.one_report and config.report.pdf_for_drafts else None
    try:
        _run_mode(mode, config, out_dir, force, metrics_file, until, pdf_writer)
    finally:
        if pdf_writer is not None:
            pdf_writer.cancel()


def _run_mode(
    mode: _Mode,
    config: Config,
    out_dir: Path,
    force: bool,
    metrics_file: Path | None,
    until: str | None,
    pdf_writer: Background[PdfOutcome] | None,
) -> None:
    """Run the mode asked for, with its settings loaded."""
    from collector.output import check_out_dir
    from collector.parallel import freeze_for_good
    from collector.snapshot.store import is_fleet_snapshot

    # The libraries' objects are loaded for good: the garbage collector need not walk them
    # again in every full collection (nor, in forked workers, copy their pages by doing so).
    # `collect` turned it off while they loaded (entry.py).
    freeze_for_good()
    gc.enable()

    check_out_dir(out_dir)  # before anything is fetched
    if mode.window is not None:
        _run_batch(config, mode.window, out_dir, metrics_file)
        return
    if mode.address is not None:
        from collector.jobs.webhook import serve_webhooks

        _warn_without_pdf(config)
        serve_webhooks(config, out_dir, *mode.address, log=_log)
        return
    snapshot_path = mode.snapshot_path
    if mode.memory_trends is not None or (
        snapshot_path is not None and is_fleet_snapshot(snapshot_path)
    ):
        if pdf_writer is not None:  # a fleet snapshot: the review writes no report.pdf
            pdf_writer.cancel()
        _run_fleet_review(config, mode.memory_trends, until, snapshot_path, out_dir, force)
        return
    _draft_one(mode, config, out_dir, force, pdf_writer)


def _draft_one(
    mode: _Mode,
    config: Config,
    out_dir: Path,
    force: bool,
    pdf_writer: Background[PdfOutcome] | None,
) -> None:
    """Collect the incident (or read its snapshot), draft and publish its report."""
    from collector.output import clean_leftovers, publish_draft
    from collector.parallel import loading_meanwhile
    from collector.snapshot.store import load_snapshot
    from report.charts.plan import start_chart_drawer

    for leftover in clean_leftovers(out_dir):
        _log(f"removed {leftover.name}, left by an interrupted run")
    # The report's modules and Jinja2 load here while the snapshot is read or the sources
    # answer; matplotlib (0.3 s) in the chart drawer, a process started once pandas has
    # loaded (it shares it), on the other core meanwhile. Loading matplotlib here, in a
    # thread beside the fetch, was 0.14 s slower at 0 ms a request (benchmarks/README.md).
    drawer = None
    try:
        if mode.snapshot_path is not None:
            with loading_meanwhile("report.draft"):
                snapshot = load_snapshot(mode.snapshot_path)
            if not mode.demo:
                config = _re_render_settings(snapshot, config, mode)
            drawer = start_chart_drawer()
        else:
            from collector.sources.collect import (
                collect_snapshot,  # the network clients, only to collect
            )

            drawer = start_chart_drawer()
            with loading_meanwhile("report.draft", "collector.jobs.handoff"):
                snapshot = collect_snapshot(config, str(mode.incident_id))
        # Only a fresh collection is announced: a re-render (--snapshot, --demo) stays offline.
        announce = None
        if mode.incident_id is not None:
            from collector.jobs.handoff import announcer

            announce = announcer(snapshot, config, out_dir)
        published = publish_draft(
            snapshot,
            config,
            out_dir,
            force=force,
            announce=announce,
            pdf_writer=pdf_writer,
            chart_drawer=drawer,
        )
    finally:
        if drawer is not None:  # the draft has stopped it, unless it failed before
            drawer.cancel()
    from report.words import gap_line

    handoff_warnings = published.handoff.warnings if published.handoff else ()
    gap_lines = [gap_line(gap) for gap in snapshot.gaps]
    for warning in [*gap_lines, *handoff_warnings, *published.warnings]:
        click.echo(f"warning: {_one_line(warning)}", err=True)
    _warn_without_pdf(config)
    click.echo(published.message)
    click.echo(_fields_left(published.folder / "report.md"))


def _fields_left(report: Path) -> str:
    """'12 fields left for people': the draft's fill-in markers (filled suggestions are not)."""
    from report.words.markers import count_markers

    try:
        count = count_markers(report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return f"cannot read {report} to count the fields left for people"
    return f"{count} field{'s' * (count != 1)} left for people"


def _run_finalize(
    incident_id: str,
    out_dir: Path,
    config_path: Path | None,
    allow_incomplete: bool,
    accept_edits: bool,
) -> None:
    """Finalize OUT/<ID>/report.md: print what was done, or why not (exit 1)."""
    from collector.config import load_config
    from collector.jobs.finalize import FinalizeOptions, finalize_report

    if problem := incident_id_problem(incident_id):
        raise BadInput(f"--finalize: {problem}")
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
            click.echo(line, err=True)
        raise SystemExit(1)
    handoff = done.handoff.warnings if done.handoff else ()
    for warning in [*done.warnings, *handoff, *index_warnings]:
        click.echo(f"warning: {_one_line(warning)}", err=True)
    for line in done.lines:
        click.echo(line)


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


def _re_render_settings(snapshot: Snapshot, config: Config, mode: _Mode) -> Config:
    """The settings a re-render uses, said on one line: --config's, else the snapshot's."""
    from collector.config.stored import describe_stored, with_stored_settings

    if mode.config_path is not None:
        _log(f"settings: from --config {mode.config_path}")
        return config
    if snapshot.settings is None:
        _log("settings: defaults; this snapshot stores none")
        return config
    _log(f"settings: those stored in the snapshot ({describe_stored(snapshot.settings)})")
    return _with_language(with_stored_settings(config, snapshot.settings), mode.lang)


def _interrupted() -> NoReturn:
    """Ctrl-C: one line, exit 130; publishing is atomic, so nothing is left half-written."""
    click.echo(INTERRUPTED, err=True)
    sys.exit(EXIT_INTERRUPTED)


def _caused_by_interrupt(exc: BaseException) -> bool:
    # A Ctrl-C while a class is being built arrives wrapped ("Error calling __set_name__").
    seen: BaseException | None = exc
    for _ in range(20):
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _window(text: object) -> timedelta | None:
    if not isinstance(text, str):
        return None
    from collector.config import parse_duration
    from collector.jobs.batch import MAX_WINDOW

    try:
        window = parse_duration(text)
    except ValueError as exc:
        raise BadInput(f"--resolved-since: {exc}") from exc
    if window > MAX_WINDOW:
        raise BadInput(
            f"--resolved-since: {text.strip()[:40]!r} is longer than the {MAX_WINDOW.days} days a"
            " batch run may look back; ask for a shorter window"
        )
    return window


def _run_batch(config: Config, window: timedelta, out_dir: Path, metrics_file: Path | None) -> None:
    from collector.jobs.batch import run_batch
    from collector.jobs.monitoring import write_batch_metrics

    started = time.time()
    bar = _progress_bar if sys.stderr.isatty() else None  # cron, systemd, pods: plain lines
    summary = run_batch(config, window, out_dir, progress=_log, bar=bar)
    _warn_without_pdf(config)
    for line in summary.report_lines():
        click.echo(line)
    click.echo(summary.summary_line())
    if metrics_file is not None:
        try:
            write_batch_metrics(metrics_file, summary.outcomes, summary.ok, started)
        except OSError as exc:
            _log(f"warning: cannot write the metrics file {metrics_file}: {exc.strerror or exc}")
    if not summary.ok:
        raise SystemExit(1)


def _run_fleet_review(
    config: Config,
    memory_trends: object,
    until: str | None,
    snapshot_path: Path | None,
    out_dir: Path,
    force: bool,
) -> None:
    from collector.config import parse_duration
    from collector.jobs.fleet_review import publish_review
    from collector.parallel import loading_meanwhile
    from collector.snapshot.fleet import load_fleet_snapshot
    from collector.sources.collect_fleet import collect_fleet_snapshot

    # The review's libraries (matplotlib, Jinja2) load while the snapshot is read or
    # Prometheus answers.
    with loading_meanwhile("report.fleet_draft"):
        if snapshot_path is not None:
            snapshot = load_fleet_snapshot(snapshot_path)
        else:
            window = _option(parse_duration, str(memory_trends), "--memory-trends")
            end = _option(_parse_until, until, "--until") if until else None
            snapshot = collect_fleet_snapshot(config, window, end)
    from report.fleet_draft import gap_line

    published = publish_review(snapshot, config, out_dir, force=force)
    for warning in [*(gap_line(gap) for gap in snapshot.gaps), *published.warnings]:
        click.echo(f"warning: {_one_line(warning)}", err=True)
    click.echo(
        f"{published.message} ({snapshot.prometheus.get('requests', 0)} Prometheus requests)"
    )


def _run_review(
    review: str,
    until: str | None,
    out_dir: Path,
    config_path: Path | None,
    lang: str | None,
    force: bool,
) -> None:
    from collector.config import load_config, parse_duration
    from collector.jobs.review import MAX_REVIEW, run_review
    from collector.output import check_out_dir

    window = _option(parse_duration, review, "--review")
    if window > MAX_REVIEW:
        raise BadInput(f"--review: {review.strip()[:40]!r} is longer than {MAX_REVIEW.days} days")
    end = _option(_parse_until, until, "--until") if until else None
    config = _with_language(load_config(config_path, os.environ), lang)
    check_out_dir(out_dir)
    snapshot, published = run_review(config, window, end, out_dir, force=force)
    from report.words import gap_line

    for warning in [*(gap_line(gap) for gap in snapshot.gaps), *published.warnings]:
        click.echo(f"warning: {_one_line(warning)}", err=True)
    count = len(snapshot.pagerduty.get("incidents", []))
    click.echo(f"{published.message} ({count} incidents listed, with the previous window)")


def _parse_until(text: str) -> datetime:
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
        raise BadInput(f"{hint}: {_one_line(str(exc))[:200]}") from exc


def _address(text: object) -> tuple[str, int] | None:
    if not isinstance(text, str):
        return None
    host, _, port = text.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise BadInput(f"--webhook: expected HOST:PORT, got {text[:40]!r}")
    return host or "127.0.0.1", int(port)


def _warn_without_pdf(config: Config) -> None:
    """One line when report.pdf is on but this machine cannot write PDFs."""
    reason = pdf_unavailable() if config.report.pdf_for_drafts else None
    if reason:
        click.echo(f"warning: {reason}", err=True)


def _log(message: str) -> None:
    click.echo(message, err=True)


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[str], None]]:
    """A bar on the terminal while a batch drafts: one step per incident."""
    with click.progressbar(length=total, label="drafting", file=sys.stderr, show_pos=True) as bar:
        yield lambda _message: bar.update(1)


def _with_language(config: Config, lang: str | None) -> Config:
    if lang is None:
        return config
    from dataclasses import replace

    # click has checked the choice; the settings check it again.
    return replace(config, report=replace(config.report, language=cast("Language", lang)))
