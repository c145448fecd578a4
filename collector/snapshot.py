"""The snapshot: everything fetched for one incident, enough to re-render with no network.

`collect_snapshot` asks the sources; `save_snapshot` / `load_snapshot` move it to and from disk.
Everything after the snapshot is pure and can be re-run offline from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from collector import __version__
from collector import pagerduty as pd_source
from collector import prometheus as prom_source
from collector.config import Config
from collector.timeutil import iso_utc, parse_time

SCHEMA_VERSION = 1


class SnapshotError(Exception):
    """A snapshot file cannot be read; the message says which and why."""


@dataclass
class Snapshot:
    """Raw data from every source, with what could not be gathered stated in `gaps`."""

    incident_id: str
    collected_at: str
    tool_version: str
    pagerduty: dict[str, Any]
    prometheus: dict[str, Any]
    gaps: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION


def collect_snapshot(config: Config, incident_id: str, now: datetime | None = None) -> Snapshot:
    """Fetch the incident from PagerDuty, then its metrics from Prometheus."""
    now = now or datetime.now(timezone.utc)
    ca = str(config.ca_bundle) if config.ca_bundle else None
    with pd_source.make_client(config.pagerduty, ca) as client:
        pd_data = pd_source.fetch_incident_data(
            client, incident_id, config.pagerduty.max_concurrency
        )
    gaps = [f"PagerDuty {message}" for message in pd_data.pop("errors", [])]
    incident = pd_source.read_incident(pd_data["incident"])
    start = incident.created_at
    end = incident.resolved_at or now
    settings = config.prometheus
    qrange = prom_source.choose_range(
        start - max(settings.lookback, settings.padding_before),
        min(end + settings.padding_after, now),
        settings.chart_points,
    )
    selector = settings.services.get(incident.service, "")
    results = prom_source.fetch_query_results(settings, ca, settings.queries, qrange, selector)
    gaps.extend(f"Prometheus query '{r['name']}': {r['error']}" for r in results if r["error"])
    rules = prom_source.fetch_alerting_rules(settings, ca)
    rules["evaluations"] = prom_source.evaluate_rules(
        settings, ca, rules["rules"], pd_source.read_paged_alertnames(pd_data), qrange
    )
    return Snapshot(
        incident_id=incident.id,
        collected_at=iso_utc(now),
        tool_version=__version__,
        pagerduty={"base_url": config.pagerduty.base_url, **pd_data},
        prometheus={
            "url": settings.url,
            "selector": selector,
            "range": {
                "start": iso_utc(qrange.start),
                "end": iso_utc(qrange.end),
                "step": qrange.step,
            },
            "padding_before_s": settings.padding_before.total_seconds(),
            "padding_after_s": settings.padding_after.total_seconds(),
            "results": results,
            "alerting_rules": rules,
        },
        gaps=gaps,
    )


def save_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write the snapshot as compact UTF-8 JSON."""
    # A shallow dict and no indent: asdict() would deep-copy every sample and `indent` forces
    # the pure-Python encoder; on a big incident that was a fifth of the run.
    data = {f.name: getattr(snapshot, f.name) for f in fields(snapshot)}
    path.write_text(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )


def load_snapshot(path: Path) -> Snapshot:
    """Read a snapshot written by `save_snapshot`, checking its shape."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path}: not a snapshot, invalid JSON at line {exc.lineno}") from exc
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise SnapshotError(
            f"{path}: not a snapshot of version {SCHEMA_VERSION}; re-collect it with"
            " `collect --incident ID`"
        )
    try:
        snapshot = Snapshot(**data)
        parse_time(snapshot.collected_at)
        snapshot.pagerduty["incident"]["id"]  # noqa: B018 - the one field nothing works without
    except (TypeError, KeyError, ValueError) as exc:
        raise SnapshotError(f"{path}: snapshot is incomplete or damaged ({exc})") from exc
    return snapshot
