"""The `collect` command: parse the options, call one function per mode, print what it says.

Only click and a few small modules load at import: `collect --help` answers at once, and each
mode imports what it needs (pandas, matplotlib, Jinja2, the clients) when it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import NoReturn, cast

import click

from collector import __version__
from collector.demo import demo_dir
from collector.errors import EXIT_INTERRUPTED, INTERRUPTED, CollectorError, sentence
from collector.jobs.modes import (
    BadValue,
    Console,
    Mode,
    one_line,
    run_collect,
    run_finalize,
    run_review_mode,
)
from collector.paths import incident_id_problem


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
    help="Re-render from a saved snapshot.json (an incident's, a memory review's or a review's),"
    " offline.",
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
            options = (allow_incomplete, accept_edits)
            code = run_finalize(finalize_id, out_dir, config_path, *options, _console())
        elif review is not None:
            run_review_mode(review, until, out_dir, config_path, lang, force, _console())
            code = 0
        else:
            code = _run(modes, out_dir, config_path, lang, force, metrics_file, until)
    except BadValue as exc:
        raise BadInput(str(exc)) from exc
    except KeyboardInterrupt:
        _interrupted()
    except CollectorError as exc:
        raise click.ClickException(one_line(str(exc))) from exc
    except (click.ClickException, click.exceptions.Exit):
        raise
    except Exception as exc:  # a bug: one line that names it, never a traceback
        if _caused_by_interrupt(exc):
            _interrupted()
        raise click.ClickException(
            f"unexpected {type(exc).__name__}: {one_line(str(exc))[:200]} (this is a bug in"
            " collect: please report it, with the command you ran)"
        ) from exc
    if code:
        raise SystemExit(code)


def _run(
    modes: Mapping[str, object],
    out_dir: Path,
    config_path: Path | None,
    lang: str | None,
    force: bool,
    metrics_file: Path | None,
    until: str | None,
) -> int:
    """Check every input, then run the one mode asked for; the exit code."""
    incident_id, snapshot_path = modes["--incident"], modes["--snapshot"]
    if isinstance(incident_id, str) and (problem := incident_id_problem(incident_id)):
        raise BadInput(f"--incident: {problem}")
    given_config = config_path
    if modes["--demo"]:
        config_path = config_path or demo_dir() / "collector.yaml"
        snapshot_path = demo_dir() / "snapshot.json"
    mode = Mode(
        incident_id if isinstance(incident_id, str) else None,
        snapshot_path if isinstance(snapshot_path, Path) else None,
        _window(modes["--resolved-since"]),
        _address(modes["--webhook"]),
        cast("str | None", modes["--memory-trends"]),
        given_config,
        lang,
        demo=bool(modes["--demo"]),
    )
    return run_collect(mode, config_path, out_dir, force, metrics_file, until, _console())


def _console() -> Console:
    """The terminal: results on stdout, the rest on stderr (a bar there, on a terminal)."""
    bar = _progress_bar if sys.stderr.isatty() else None  # cron, systemd, pods: plain lines
    return Console(click.echo, _log, bar)


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


def _address(text: object) -> tuple[str, int] | None:
    if not isinstance(text, str):
        return None
    host, _, port = text.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise BadInput(f"--webhook: expected HOST:PORT, got {text[:40]!r}")
    return host or "127.0.0.1", int(port)


def _log(message: str) -> None:
    click.echo(message, err=True)


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[str], None]]:
    """A bar on the terminal while a batch drafts: one step per incident."""
    with click.progressbar(length=total, label="drafting", file=sys.stderr, show_pos=True) as bar:
        yield lambda _message: bar.update(1)
