"""The snapshot: everything fetched for one incident, enough to re-render with no network.

`collect_snapshot` asks the sources; `save_snapshot` / `load_snapshot` move it to and from disk.
Everything after the snapshot is pure and can be re-run offline from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from collector import __version__
from collector import pagerduty as pd_source
from collector import prometheus as prom_source
from collector.config import Config
from collector.errors import SnapshotError as SnapshotError
from collector.fleet_source import fleet_specs
from collector.redact import redact_url
from collector.snapshot_schema import SCHEMA_VERSION, check_pagerduty, check_snapshot
from collector.timeutil import iso_utc

# How `collect_snapshot` states that the incident's PagerDuty log could not be fetched.
NO_LOG = "PagerDuty log_entries:"


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
    problem = check_pagerduty(pd_data)
    if problem is not None:  # the readers below would trip on it
        raise pd_source.PagerDutyError(f"PagerDuty answered malformed data: {problem}")
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
    gaps.extend(
        f"Prometheus query '{r['name']}': {r['dropped']} samples that are not finite numbers"
        " (NaN, ±Inf) were left out"
        for r in results
        if r.get("dropped")
    )
    # The 28-day context of the memory queries that answered (a failed one would fail again).
    answered = {r["name"] for r in results if not r["error"]}
    specs = [spec for spec in fleet_specs(settings.queries) if spec.name in answered]
    context = prom_source.fetch_memory_context(settings, ca, specs, end, selector)
    gaps.extend(
        f"Prometheus 28-day context '{r['name']}': {r['error']}" for r in context if r["error"]
    )
    rules = prom_source.fetch_alerting_rules(settings, ca)
    rules["evaluations"] = prom_source.evaluate_rules(
        settings, ca, rules["rules"], pd_source.read_paged_alertnames(pd_data), qrange
    )
    return Snapshot(
        incident_id=incident.id,
        collected_at=iso_utc(now),
        tool_version=__version__,
        pagerduty={"base_url": redact_url(config.pagerduty.base_url), **pd_data},
        prometheus={
            "url": redact_url(settings.url),
            "selector": selector,
            "range": {
                "start": iso_utc(qrange.start),
                "end": iso_utc(qrange.end),
                "step": qrange.step,
            },
            "padding_before_s": settings.padding_before.total_seconds(),
            "padding_after_s": settings.padding_after.total_seconds(),
            "results": results,
            "memory_context": context,
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
    """Read a snapshot written by `save_snapshot`, checking it against its schema."""
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise SnapshotError(
            f"{path}: not a snapshot of version {SCHEMA_VERSION}; re-collect it with"
            " `collect --incident ID`"
        )
    problem = check_snapshot(data)
    if problem is not None:
        raise SnapshotError(f"{path}: snapshot is incomplete or damaged: {problem}")
    return Snapshot(**data)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path}: not a snapshot, invalid JSON at line {exc.lineno}") from exc
    except (ValueError, RecursionError) as exc:  # not UTF-8, 5,000-digit numbers, deep nesting
        raise SnapshotError(f"{path}: not a snapshot ({type(exc).__name__})") from exc


def read_published(path: Path) -> dict[str, Any] | None:
    """The snapshot of a published report as raw JSON, or None if there is none to read."""
    try:
        data = _read_json(path)
    except SnapshotError:
        return None
    return data if isinstance(data, dict) else None


def lost_data(new: Snapshot, published: Mapping[str, Any] | None) -> list[str]:
    """What the new snapshot lacks that the published one has, one reason each; [] if nothing.

    With nothing published, a snapshot whose PagerDuty log could not be fetched counts as
    poorer: the log is the timeline. Otherwise: fewer log entries, fewer series for a query,
    or a source that failed where it had not.
    """
    if published is None:
        return [gap for gap in new.gaps if gap.startswith(NO_LOG)]
    old_pd, old_prom = _mapping(published.get("pagerduty")), _mapping(published.get("prometheus"))
    lost: list[str] = []
    old_count, new_count = (
        _count(old_pd.get("log_entries")),
        _count(new.pagerduty.get("log_entries")),
    )
    if new_count < old_count:
        lost.append(f"{new_count} PagerDuty log entries instead of {old_count}")
    new_series = _series_counts(new.prometheus)
    for name, count in _series_counts(old_prom).items():
        if new_series.get(name, 0) < count:
            lost.append(f"query '{name}': {new_series.get(name, 0)} series instead of {count}")
    old_failed = _failures(published.get("gaps"), old_prom)
    lost.extend(
        why
        for source, why in _failures(new.gaps, new.prometheus).items()
        if source not in old_failed
    )
    return lost


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _series_counts(prometheus: Mapping[str, Any]) -> dict[str, int]:
    results = prometheus.get("results")
    return {
        str(r.get("name")): _count(r.get("result"))
        for r in (results if isinstance(results, list) else ())
        if isinstance(r, Mapping)
    }


def _failures(gaps: Any, prometheus: Mapping[str, Any]) -> dict[str, str]:
    # Source -> why it failed: the PagerDuty lists that could not be fetched, the failed queries.
    failed = {
        gap.split(":", 1)[0]: gap
        for gap in (gaps if isinstance(gaps, list) else ())
        if isinstance(gap, str) and gap.startswith("PagerDuty ")
    }
    results = prometheus.get("results")
    for r in results if isinstance(results, list) else ():
        if isinstance(r, Mapping) and r.get("error"):
            failed[f"query {r.get('name')}"] = f"Prometheus query '{r.get('name')}': {r['error']}"
    return failed
