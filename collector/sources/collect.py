"""Gather: ask every source once for one incident, and keep what they answer as a snapshot.

The clients (`sources.pagerduty`, `sources.prometheus`) are the only network code; this is the
one place that calls them for a report. What could not be gathered is stated as `Gap`
records, never raised, unless the incident itself cannot be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from collector import __version__
from collector.config import Config
from collector.records import Gap, GapKind, Incident
from collector.redact import redact_url
from collector.snapshot.prometheus import RawResult
from collector.snapshot.schema import check_pagerduty
from collector.snapshot.store import DROPPED_SAMPLES, Snapshot
from collector.sources import pagerduty as pd_source
from collector.sources import pagerduty_incident, prometheus_rules
from collector.sources import prometheus as prom_source
from collector.sources.fleet import fleet_specs
from collector.timeutil import iso_utc

CONTEXT_DAYS = prom_source.CONTEXT_SPAN.days


def collect_snapshot(config: Config, incident_id: str, now: datetime | None = None) -> Snapshot:
    """Fetch the incident from PagerDuty, then its metrics from Prometheus."""
    now = now or datetime.now(timezone.utc)
    with pd_source.make_client(config.pagerduty, config.ca_file) as client:
        pd_data = pagerduty_incident.fetch_incident_data(
            client, incident_id, config.pagerduty.max_concurrency
        )
    gaps: list[Gap] = pd_data.pop("errors", [])
    problem = check_pagerduty(pd_data)
    if problem is not None:  # the readers below would trip on it
        raise pd_source.PagerDutyError(f"PagerDuty answered malformed data: {problem}")
    incident = pd_source.read_incident(pd_data["incident"])
    alertnames = pd_source.read_paged_alertnames(pd_data)
    return Snapshot(
        incident_id=incident.id,
        collected_at=iso_utc(now),
        tool_version=__version__,
        pagerduty={"base_url": redact_url(config.pagerduty.base_url), **pd_data},
        prometheus=_fetch_metrics(config, incident, alertnames, now, gaps),
        gaps=gaps,
    )


def _fetch_metrics(
    config: Config, incident: Incident, alertnames: Sequence[str], now: datetime, gaps: list[Gap]
) -> dict[str, Any]:
    """The query pack over the incident, the memory context, the alerting rules; what could
    not be fetched is added to `gaps`."""
    settings, ca = config.prometheus, config.ca_file
    end = incident.resolved_at or now
    qrange = prom_source.choose_range(
        incident.created_at - max(settings.lookback, settings.padding_before),
        min(end + settings.padding_after, now),
        settings.chart_points,
    )
    selector = settings.services.get(incident.service, "")
    results = prom_source.fetch_query_results(settings, ca, settings.queries, qrange, selector)
    gaps.extend(query_gaps(results))
    # The 28-day context of the memory queries that answered (a failed one would fail again).
    answered = {r["name"] for r in results if not r["error"]}
    specs = [spec for spec in fleet_specs(settings.queries) if spec.name in answered]
    context = prom_source.fetch_memory_context(settings, ca, specs, end, selector)
    gaps.extend(
        Gap("Prometheus", str(r["name"]), GapKind.UNFETCHED, str(r["error"]), days=CONTEXT_DAYS)
        for r in context
        if r["error"]
    )
    rules = prometheus_rules.fetch_alerting_rules(settings, ca)
    rules["evaluations"] = prometheus_rules.evaluate_rules(
        settings, ca, rules["rules"], alertnames, qrange
    )
    return {
        "url": redact_url(settings.url),
        "selector": selector,
        "range": {"start": iso_utc(qrange.start), "end": iso_utc(qrange.end), "step": qrange.step},
        "padding_before_s": settings.padding_before.total_seconds(),
        "padding_after_s": settings.padding_after.total_seconds(),
        "results": results,
        "memory_context": context,
        "alerting_rules": rules,
    }


def query_gaps(results: Sequence[RawResult]) -> list[Gap]:
    """The queries that failed, and those whose answer had samples left out."""
    failed = [
        Gap("Prometheus", str(r["name"]), GapKind.UNFETCHED, str(r["error"]))
        for r in results
        if r["error"]
    ]
    dropped = [
        Gap(
            "Prometheus",
            str(r["name"]),
            GapKind.DROPPED,
            f"{r['dropped']} {DROPPED_SAMPLES}",
            count=int(r["dropped"]),
        )
        for r in results
        if r.get("dropped")
    ]
    return failed + dropped
