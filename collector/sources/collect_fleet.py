"""Collect the fleet review's snapshot: screen every memory and swap series, fetch the hosts
that need it in detail and list the window's PagerDuty incidents (one list, not one request per
host)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from collector import __version__
from collector.analysis.fleet_series import choose_detail_hosts
from collector.config import Config, ConfigError, QuerySpec
from collector.errors import SourceError
from collector.records import Gap, GapKind
from collector.snapshot.fleet import FleetSnapshot
from collector.sources import fleet as source
from collector.sources import pagerduty as pd_source
from collector.sources.pagerduty_lists import list_incidents
from collector.timeutil import iso_utc


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
) -> tuple[dict[str, Any], list[Gap]]:
    """The screen of every query, then the detail of the hosts that need it; and the gaps."""
    selector = config.fleet.selector
    fleet = source.open_connection(config.prometheus, config.ca_file)
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
    gaps.extend(Gap("Prometheus", "", GapKind.WARNED, warning) for warning in fleet.warnings)
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


def _screen_gaps(screen: dict[str, Any]) -> list[Gap]:
    # One gap per cause, naming every request it failed: a server that is down fails them all.
    causes: dict[str, list[str]] = {}
    for name, part in screen.items():
        for error in part["errors"]:
            request, _, cause = error.partition(": ")
            causes.setdefault(cause, []).append(f"{name} {request}")
    return [
        Gap("Prometheus", ", ".join(where), GapKind.UNFETCHED, cause)
        for cause, where in causes.items()
    ]


def _incidents(config: Config, start: datetime, end: datetime, gaps: list[Gap]) -> dict[str, Any]:
    base = {"base_url": config.pagerduty.base_url, "services": dict(config.prometheus.services)}
    if not config.pagerduty.token:
        why = "no API token (PAGERDUTY_API_TOKEN), so incidents were not linked to hosts"
        gaps.append(Gap("PagerDuty", "incidents", GapKind.UNFETCHED, why))
        return {**base, "linked": False, "incidents": []}
    try:
        with pd_source.make_client(config.pagerduty, config.ca_file) as client:
            incidents, partial = list_incidents(
                client, start, end, max_concurrency=config.pagerduty.max_concurrency
            )
    except pd_source.PagerDutyError as exc:
        why = f"incidents were not linked to hosts: {exc}"
        gaps.append(Gap("PagerDuty", "incidents", GapKind.UNFETCHED, why))
        return {**base, "linked": False, "incidents": []}
    gaps.extend(partial)
    return {**base, "linked": True, "incidents": incidents}
