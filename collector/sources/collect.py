"""Gather: ask every source once for one incident, and keep what they answer as a snapshot.

The clients (`sources.pagerduty`, `sources.prometheus`) are the only network code; this is the
one place that calls them for a report. What could not be gathered is stated as `Gap`
records, never raised, unless the incident itself cannot be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from collector import __version__
from collector.config import Config
from collector.records import Gap, GapKind, Incident
from collector.redact import redact_url
from collector.snapshot.pagerduty import read_incident, read_paged_alertnames
from collector.snapshot.prometheus import RawResult
from collector.snapshot.schema import check_pagerduty
from collector.snapshot.store import Snapshot
from collector.sources import pagerduty as pd_source
from collector.sources import pagerduty_incident, prometheus_rules
from collector.sources import prometheus as prom_source
from collector.sources.fleet import fleet_specs
from collector.timeutil import iso_utc

CONTEXT_DAYS = prom_source.CONTEXT_SPAN.days


def collect_snapshot(config: Config, incident_id: str, now: datetime | None = None) -> Snapshot:
    """Fetch the incident from PagerDuty; then its lists (log entries, alerts, notes) and its
    metrics from Prometheus side by side, for both need only the incident: a collection waits
    for the longer of the two, not their sum. The alerting rules the incident was paged for
    are evaluated as soon as the lists and the rules are in, beside the query pack."""
    now = now or datetime.now(timezone.utc)
    settings, ca = config.prometheus, config.ca_file
    with pd_source.make_client(config.pagerduty, ca) as client:
        raw = pagerduty_incident.fetch_incident(client, incident_id)
        incident = _read_checked(raw)
        qrange = _query_range(config, incident, now)
        # The rules, then their evaluation, on one connection beside the pack's.
        with ThreadPoolExecutor(max_workers=2) as pool:
            rules = pool.submit(prometheus_rules.fetch_alerting_rules, settings, ca)
            metrics = pool.submit(_fetch_metrics, config, incident, qrange, now)
            pd_data = pagerduty_incident.fetch_incident_lists(
                client, raw, config.pagerduty.max_concurrency
            )
            pd_errors = pd_data.pop("errors", [])
            problem = check_pagerduty(pd_data)
            if problem is not None:  # the readers below would trip on it
                raise pd_source.PagerDutyError(f"PagerDuty answered malformed data: {problem}")
            paged = read_paged_alertnames(pd_data)
            one = replace(settings, max_concurrency=1)
            evaluations = pool.submit(
                lambda: prometheus_rules.evaluate_rules(
                    one, ca, rules.result()["rules"], paged, qrange
                )
            )
            prometheus, metric_gaps = metrics.result()
            prometheus["alerting_rules"] = rules.result()
            prometheus["alerting_rules"]["evaluations"] = evaluations.result()
    gaps: list[Gap] = [*pd_errors, *metric_gaps]
    return Snapshot(
        incident_id=incident.id,
        collected_at=iso_utc(now),
        tool_version=__version__,
        pagerduty={"base_url": redact_url(config.pagerduty.base_url), **pd_data},
        prometheus=prometheus,
        gaps=gaps,
    )


def _read_checked(raw: dict[str, Any]) -> Incident:
    """The incident record, once its raw JSON has been checked against the snapshot schema."""
    problem = check_pagerduty({"incident": raw})
    if problem is not None:
        raise pd_source.PagerDutyError(f"PagerDuty answered malformed data: {problem}")
    return read_incident(raw)


def _query_range(config: Config, incident: Incident, now: datetime) -> prom_source.QueryRange:
    """The incident's window with its padding, on a grid of at most `chart_points` steps."""
    settings = config.prometheus
    end = incident.resolved_at or now
    return prom_source.choose_range(
        incident.created_at - max(settings.lookback, settings.padding_before),
        min(end + settings.padding_after, now),
        settings.chart_points,
    )


def _fetch_metrics(
    config: Config, incident: Incident, qrange: prom_source.QueryRange, now: datetime
) -> tuple[dict[str, Any], list[Gap]]:
    """The query pack over the range and the memory context (the alerting rules are added by
    the caller), and what could not be fetched."""
    settings, ca = config.prometheus, config.ca_file
    selector = settings.services.get(incident.service, "")
    end = incident.resolved_at or now
    # The 28-day context of the memory queries, asked beside the pack: the server evaluates
    # one while the other's answer is read here. Kept for the queries that answered (one that
    # failed in the pack is named once, for the pack).
    with ThreadPoolExecutor(max_workers=1) as pool:
        asked = pool.submit(
            prom_source.fetch_memory_context,
            settings,
            ca,
            fleet_specs(settings.queries),
            end,
            selector,
        )
        results = prom_source.fetch_query_results(settings, ca, settings.queries, qrange, selector)
        gaps = query_gaps(results)
        answered = {r["name"] for r in results if not r["error"]}
        context = [r for r in asked.result() if r["name"] in answered]
    gaps.extend(
        Gap("Prometheus", str(r["name"]), GapKind.UNFETCHED, str(r["error"]), days=CONTEXT_DAYS)
        for r in context
        if r["error"]
    )
    metrics = {
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
    }
    return metrics, gaps


def query_gaps(results: Sequence[RawResult]) -> list[Gap]:
    """The queries that failed, and those whose answer had samples left out."""
    failed = [
        Gap("Prometheus", str(r["name"]), GapKind.UNFETCHED, str(r["error"]))
        for r in results
        if r["error"]
    ]
    dropped = [
        Gap("Prometheus", str(r["name"]), GapKind.DROPPED, "", count=int(r["dropped"]))
        for r in results
        if r.get("dropped")
    ]
    return failed + dropped
