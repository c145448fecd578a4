"""The analyst's memory-trend review of the fleet: collect a fleet snapshot, then publish it.

`collect_fleet_snapshot` screens every memory and swap series in the server, fetches the hosts
that need it in detail and lists the window's PagerDuty incidents (one list, not one request per
host); `publish_review` renders it into OUT/memory-trends-<until>/ atomically, never over a
report a person has edited (the same rules as an incident's folder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from collector import __version__
from collector import fleet_source as source
from collector import pagerduty as pd_source
from collector.analysis.fleet_series import choose_detail_hosts
from collector.config import Config, ConfigError, QuerySpec
from collector.errors import SourceError
from collector.output import Published, discard_staging, lock_for, make_staging, publish
from collector.snapshot import SnapshotError
from collector.snapshot import is_fleet_snapshot as is_fleet_snapshot
from collector.timeutil import iso_utc, parse_time

FLEET_KIND = "fleet"
SCHEMA_VERSION = 1


@dataclass
class FleetSnapshot:
    """Everything the fleet review fetched; `kind` tells it from an incident's snapshot."""

    collected_at: str
    tool_version: str
    until: str
    window_s: float
    prometheus: dict[str, Any]
    pagerduty: dict[str, Any]
    gaps: list[str] = field(default_factory=list)
    kind: str = FLEET_KIND
    schema_version: int = SCHEMA_VERSION

    @property
    def folder_name(self) -> str:
        """The report's folder: memory-trends-<until as YYYY-MM-DD>."""
        return f"memory-trends-{parse_time(self.until):%Y-%m-%d}"


def collect_fleet_snapshot(
    config: Config, window: timedelta, until: datetime | None = None
) -> FleetSnapshot:
    """Screen the fleet, fetch the hosts that need it in detail, list the window's incidents."""
    now = datetime.now(timezone.utc)
    end = source.align_until(until or now)
    specs = source.fleet_specs(config.prometheus.queries)
    if not specs:
        raise ConfigError(
            f"{config.source}: key 'prometheus.queries': no query of kind memory or swap;"
            " the memory-trend review has nothing to screen"
        )
    prometheus, gaps = _fetch_metrics(config, specs, end, window)
    pagerduty = _incidents(config, end - window, end, gaps)
    return FleetSnapshot(
        collected_at=iso_utc(now),
        tool_version=__version__,
        until=iso_utc(end),
        window_s=window.total_seconds(),
        prometheus=prometheus,
        pagerduty=pagerduty,
        gaps=gaps,
    )


def _fetch_metrics(
    config: Config, specs: list[QuerySpec], end: datetime, window: timedelta
) -> tuple[dict[str, Any], list[str]]:
    """The screen of every query, then the detail of the hosts that need it; and the gaps."""
    selector = config.fleet.selector
    fleet = source.open_connection(config.prometheus, _ca(config))
    try:
        screen = source.screen_fleet(fleet, specs, selector, end, window)
        detail: dict[str, Any] = {}
        for spec in specs:
            part = screen[spec.name]
            hosts = choose_detail_hosts(part["coarse"], part, config.fleet)
            detail[spec.name], errors = source.fetch_detail(
                fleet, spec, selector, hosts, end - window, end
            )
            part["errors"].extend(errors)
    finally:
        fleet.session.close()
    if not any(part["coarse"]["series"] for part in screen.values()):
        errors = [e.split(": ", 1)[-1] for part in screen.values() for e in part["errors"]]
        why = (
            errors[0]
            if errors
            else (
                f"no series between {iso_utc(end - window)} and {iso_utc(end)}"
                f" (fleet.selector {selector!r})"
            )
        )
        raise FleetReviewError(f"no memory data for the review: {why}")
    gaps = _screen_gaps(screen)
    gaps.extend(f"Prometheus warned: {warning}" for warning in fleet.warnings)
    queries = [{"name": s.name, "title": s.title, "kind": s.kind, "query": s.query} for s in specs]
    return {
        "url": config.prometheus.url,
        "selector": selector,
        "requests": fleet.requests_made,
        "queries": queries,
        "screen": screen,
        "detail": detail,
    }, gaps


class FleetReviewError(SourceError):
    """The review cannot be made at all (no data); the message says why."""


def _screen_gaps(screen: dict[str, Any]) -> list[str]:
    # One line per cause, naming every request it failed: a server that is down fails them all.
    causes: dict[str, list[str]] = {}
    for name, part in screen.items():
        for error in part["errors"]:
            request, _, cause = error.partition(": ")
            causes.setdefault(cause, []).append(f"{name} {request}")
    return [f"Prometheus ({', '.join(where)}): {cause}" for cause, where in causes.items()]


def _ca(config: Config) -> str | None:
    return str(config.ca_bundle) if config.ca_bundle else None


def _incidents(config: Config, start: datetime, end: datetime, gaps: list[str]) -> dict[str, Any]:
    base = {"base_url": config.pagerduty.base_url, "services": dict(config.prometheus.services)}
    if not config.pagerduty.token:
        gaps.append(
            "PagerDuty: no API token (PAGERDUTY_API_TOKEN), so incidents were not linked to hosts"
        )
        return {**base, "linked": False, "incidents": []}
    try:
        with pd_source.make_client(config.pagerduty, _ca(config)) as client:
            incidents, partial = pd_source.list_incidents(
                client, start, end, max_concurrency=config.pagerduty.max_concurrency
            )
    except pd_source.PagerDutyError as exc:
        gaps.append(f"PagerDuty: incidents were not linked to hosts: {exc}")
        return {**base, "linked": False, "incidents": []}
    gaps.extend(gap.text for gap in partial)
    return {**base, "linked": True, "incidents": incidents}


def save_fleet_snapshot(snapshot: FleetSnapshot, path: Path) -> None:
    """Write the snapshot as compact UTF-8 JSON, `kind` first (see `is_fleet_snapshot`)."""
    data = {"kind": snapshot.kind} | {f.name: getattr(snapshot, f.name) for f in fields(snapshot)}
    path.write_text(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )


def load_fleet_snapshot(path: Path) -> FleetSnapshot:
    """Read a snapshot written by `save_fleet_snapshot`, checking its shape."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path}: not a snapshot, invalid JSON at line {exc.lineno}") from exc
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise SnapshotError(
            f"{path}: not a fleet snapshot of version {SCHEMA_VERSION}; re-collect it with"
            " `collect --memory-trends 28d`"
        )
    try:
        snapshot = FleetSnapshot(**data)
        parse_time(snapshot.until)
        snapshot.prometheus["screen"].items()
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"{path}: snapshot is incomplete or damaged ({exc})") from exc
    return snapshot


def publish_review(
    snapshot: FleetSnapshot, config: Config, out_dir: Path, *, force: bool
) -> Published:
    """Render the review in a staging folder, then publish it under the folder's lock."""
    from collector.fleet_draft import build_fleet_draft  # matplotlib only when drawing

    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    name = snapshot.folder_name
    with lock_for(out_dir, name):
        staging = make_staging(out_dir, name)
        try:
            save_fleet_snapshot(snapshot, staging / "snapshot.json")
            build_fleet_draft(snapshot, config, staging, now)
            return publish(staging, out_dir, name, force=force, stamp=stamp)
        finally:
            discard_staging(staging)
