"""The `collect` command: parse options, call one function per stage, print one line each."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click

from collector import __version__
from collector.batch import run_batch
from collector.config import Config, ConfigError, load_config, parse_duration
from collector.demo import demo_dir
from collector.fleet_review import (
    FleetReviewError,
    collect_fleet_snapshot,
    is_fleet_snapshot,
    load_fleet_snapshot,
    publish_review,
)
from collector.output import publish_draft
from collector.pagerduty import PagerDutyError
from collector.snapshot import (
    SnapshotError,
    collect_snapshot,
    load_snapshot,
)
from collector.timeutil import parse_time
from collector.webhook import serve_webhooks
from report.render import TemplateError

T = TypeVar("T")
FAILURES = (ConfigError, PagerDutyError, SnapshotError, TemplateError, FleetReviewError)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    "--until",
    metavar="TIME",
    help="End of the --memory-trends window, ISO 8601 (2026-03-29T00:00Z). [default: now]",
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
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML settings (see config/collector.example.yaml).",
)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    help="Report language; overrides report.language. [default: fr]",
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
    resolved_since: str | None,
    webhook_address: str | None,
    memory_trends: str | None,
    until: str | None,
    out_dir: Path,
    config_path: Path | None,
    lang: str | None,
    force: bool,
) -> None:
    """Draft a post-incident report from PagerDuty events and Prometheus metrics.

    Writes OUT/<INCIDENT_ID>/ with report.md, report.html, charts/*.png, timeline.csv and
    snapshot.json. Settings come from --config and the environment: PAGERDUTY_API_TOKEN,
    PAGERDUTY_BASE_URL, PROMETHEUS_URL, and SSL_CERT_FILE / REQUESTS_CA_BUNDLE for TLS trust.
    A report.md that a person has edited is never overwritten: the new draft goes beside it.

    \b
    Examples:
      collect --demo --out reports
      PAGERDUTY_API_TOKEN=... collect --incident P7DBOOM --config config/collector.example.yaml
      collect --snapshot reports/P7DBOOM/snapshot.json --lang en
      collect --resolved-since 24h --config /etc/collector.yaml --out /srv/postmortems
      PAGERDUTY_WEBHOOK_SECRET=... collect --webhook 0.0.0.0:8080 --out /srv/postmortems
      collect --memory-trends 28d --config /etc/collector.yaml --out /srv/capacity
    """
    modes = {
        "--incident": incident_id,
        "--snapshot": snapshot_path,
        "--demo": demo,
        "--resolved-since": resolved_since,
        "--webhook": webhook_address,
        "--memory-trends": memory_trends,
    }
    if sum(1 for value in modes.values() if value) != 1:
        raise click.UsageError(f"give exactly one of {', '.join(modes)}")
    if until is not None and memory_trends is None:
        raise click.UsageError("--until goes with --memory-trends")
    try:
        if demo:
            config_path = config_path or demo_dir() / "collector.yaml"
            snapshot_path = demo_dir() / "snapshot.json"
        config = _with_language(load_config(config_path, os.environ), lang)
        if resolved_since is not None:
            _run_batch(config, resolved_since, out_dir)
            return
        if webhook_address is not None:
            host, port = _address(webhook_address)
            serve_webhooks(config, out_dir, host, port, log=_log)
            return
        if memory_trends is not None or (
            snapshot_path is not None and is_fleet_snapshot(snapshot_path)
        ):
            _run_fleet_review(config, memory_trends, until, snapshot_path, out_dir, force)
            return
        if snapshot_path is not None:
            snapshot = load_snapshot(snapshot_path)
        else:
            snapshot = collect_snapshot(config, str(incident_id))
        message = publish_draft(snapshot, config, out_dir, force=force).message
    except FAILURES as exc:
        raise click.ClickException(str(exc)) from exc
    for gap in snapshot.gaps:
        click.echo(f"warning: {gap}", err=True)
    click.echo(message)


def _run_batch(config: Config, resolved_since: str, out_dir: Path) -> None:
    try:
        window = parse_duration(resolved_since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--resolved-since") from exc
    summary = run_batch(config, window, out_dir, progress=_log)
    for line in summary.report_lines():
        click.echo(line)
    click.echo(summary.summary_line())
    if not summary.ok:
        raise SystemExit(1)


def _run_fleet_review(
    config: Config,
    memory_trends: str | None,
    until: str | None,
    snapshot_path: Path | None,
    out_dir: Path,
    force: bool,
) -> None:
    if snapshot_path is not None:
        snapshot = load_fleet_snapshot(snapshot_path)
    else:
        window = _option(parse_duration, str(memory_trends), "--memory-trends")
        end = _option(_parse_until, until, "--until") if until else None
        snapshot = collect_fleet_snapshot(config, window, end)
    published = publish_review(snapshot, config, out_dir, force=force)
    for gap in snapshot.gaps:
        click.echo(f"warning: {gap}", err=True)
    click.echo(
        f"{published.message} ({snapshot.prometheus.get('requests', 0)} Prometheus requests)"
    )


def _parse_until(text: str) -> datetime:
    # A bare ISO 8601 date means its midnight, UTC.
    return parse_time(f"{text}T00:00:00Z" if len(text.strip()) == 10 else text)


def _option(parse: Callable[[str], T], text: str, hint: str) -> T:
    try:
        return parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from exc


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        raise click.BadParameter(f"expected HOST:PORT, got {text!r}", param_hint="--webhook")
    return host or "127.0.0.1", int(port)


def _log(message: str) -> None:
    click.echo(message, err=True)


def _with_language(config: Config, lang: str | None) -> Config:
    if lang is None:
        return config
    from dataclasses import replace

    return replace(config, report=replace(config.report, language=lang))
