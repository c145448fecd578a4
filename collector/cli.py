"""The `collect` command: parse options, call one function per stage, print one line each."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import click

from collector import __version__
from collector.config import Config, ConfigError, load_config
from collector.demo import demo_dir
from collector.draft import build_draft
from collector.output import discard_staging, lock_for, make_staging, publish
from collector.pagerduty import PagerDutyError
from collector.snapshot import (
    Snapshot,
    SnapshotError,
    collect_snapshot,
    load_snapshot,
    save_snapshot,
)
from report.render import TemplateError

FAILURES = (ConfigError, PagerDutyError, SnapshotError, TemplateError)


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
    """
    chosen = [
        name
        for name, value in (
            ("--incident", incident_id),
            ("--snapshot", snapshot_path),
            ("--demo", demo),
        )
        if value
    ]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --incident, --snapshot or --demo")
    try:
        if demo:
            config_path = config_path or demo_dir() / "collector.yaml"
            snapshot_path = demo_dir() / "snapshot.json"
        config = _with_language(load_config(config_path, os.environ), lang)
        if snapshot_path is not None:
            snapshot = load_snapshot(snapshot_path)
        else:
            snapshot = collect_snapshot(config, str(incident_id))
        message = draft_and_publish(snapshot, config, out_dir, force)
    except FAILURES as exc:
        raise click.ClickException(str(exc)) from exc
    for gap in snapshot.gaps:
        click.echo(f"warning: {gap}", err=True)
    click.echo(message)


def draft_and_publish(snapshot: Snapshot, config: Config, out_dir: Path, force: bool) -> str:
    """Render the snapshot's report in a staging folder and publish it; return what happened."""
    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    with lock_for(out_dir, snapshot.incident_id):
        staging = make_staging(out_dir, snapshot.incident_id)
        try:
            save_snapshot(snapshot, staging / "snapshot.json")
            build_draft(snapshot, config, staging, now)
            return publish(staging, out_dir, snapshot.incident_id, force=force, stamp=stamp).message
        finally:
            discard_staging(staging)


def _with_language(config: Config, lang: str | None) -> Config:
    if lang is None:
        return config
    from dataclasses import replace

    return replace(config, report=replace(config.report, language=lang))
