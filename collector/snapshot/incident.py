"""An incident's snapshot read once: the typed records and tidy frames the analysis takes.

The one place that turns an incident snapshot's raw JSON into what `collector.analysis`
computes from (`analysis.incident.analyse_incident`); no network, no figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from collector.config import QuerySpec
from collector.records import Alert, AlertInterval, Incident, LogEntry
from collector.snapshot import pagerduty as pd_reader
from collector.snapshot import prometheus as prom_reader
from collector.snapshot.prometheus import QueryResult
from collector.snapshot.rules import AlertRule, read_alerting_rules, rule_held_times

DEFAULT_PADDING_S = 1800.0  # snapshots from before the padding was recorded


@dataclass(frozen=True)
class IncidentData:
    """One incident's snapshot as records: PagerDuty's incident, log entries and alerts;
    Prometheus's query results, alert intervals, series frames and rules."""

    incident: Incident
    entries: list[LogEntry]
    pd_alerts: list[Alert]
    queries: list[QueryResult]
    alerts: list[AlertInterval]
    frame: pd.DataFrame
    baseline: pd.DataFrame
    rules: list[AlertRule]
    rule_held: tuple[dict[str, list[datetime]], timedelta]
    padding: tuple[timedelta, timedelta]


def read_incident_data(
    pagerduty: Mapping[str, Any], prometheus: Mapping[str, Any], pack: Sequence[QuerySpec]
) -> IncidentData:
    """Read the snapshot's two parts. A snapshot made before queries recorded `user_facing`
    takes the flag from the config's query pack."""
    flags = {spec.name: spec.user_facing for spec in pack}
    results = _with_user_facing(prometheus.get("results", []), flags)
    frame = prom_reader.read_series(results)
    raw_rules = prometheus.get("alerting_rules") or {}
    return IncidentData(
        incident=pd_reader.read_incident(pagerduty["incident"]),
        entries=pd_reader.read_log_entries(pagerduty.get("log_entries", [])),
        pd_alerts=pd_reader.read_alerts(pagerduty.get("alerts", [])),
        queries=prom_reader.read_query_results(results, frame),
        alerts=prom_reader.read_alert_intervals(results),
        frame=frame,
        baseline=prom_reader.read_series(results, baseline=True),
        rules=read_alerting_rules(raw_rules),
        rule_held=rule_held_times(raw_rules),
        padding=(
            timedelta(seconds=float(prometheus.get("padding_before_s", DEFAULT_PADDING_S))),
            timedelta(seconds=float(prometheus.get("padding_after_s", DEFAULT_PADDING_S))),
        ),
    )


def _with_user_facing(
    results: list[dict[str, Any]], flags: Mapping[str, bool]
) -> list[dict[str, Any]]:
    return [
        r if "user_facing" in r else {**r, "user_facing": flags.get(str(r.get("name")), False)}
        for r in results
    ]
