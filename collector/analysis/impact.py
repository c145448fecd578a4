"""Impact of an incident: durations, business, technical and team figures, recovery objectives.

This module puts the groups together over one impacted window; the figures themselves come from
`impact_series` (read from the series), `objectives` (RTO, RPO, SLA and the error budget) and
`working_hours` (the calendar). See `impact_figure` for what a figure carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from collector.analysis.facts import FigureStatus, Note, note, source
from collector.analysis.figures import IncidentFigures, incident_span
from collector.analysis.impact_figure import NO_END, Figure, ImpactWindow, known, unknown
from collector.analysis.impact_series import (
    backup_age,
    connections_dropped,
    endpoints_down,
    requests_failed,
    revenue_impact,
    traffic_lost,
    users_affected,
)
from collector.analysis.objectives import Objective, error_budget, objectives, sla_figures
from collector.analysis.outage import (
    FAILED,
    NO_DATA,
    NOT_CONFIGURED,
    OK,
    Outage,
    OutageBasis,
    OutageSignal,
    QueryData,
    find_outage,
    pick_outage_signal,
    pick_query,
)
from collector.analysis.working_hours import working_minutes, working_week
from collector.config import Business, Targets
from collector.records import QueryKind
from collector.snapshot.prometheus import QueryResult

__all__ = [
    "FAILED",
    "NO_DATA",
    "NOT_CONFIGURED",
    "OK",
    "Figure",
    "Impact",
    "Objective",
    "compute_impact",
]


@dataclass(frozen=True)
class Impact:
    """All impact figures of an incident, grouped as the report presents them."""

    durations: tuple[Figure, ...]
    business: tuple[Figure, ...]
    technical: tuple[Figure, ...]
    team: tuple[Figure, ...]
    objectives: tuple[Objective, ...]
    outage_start: datetime | None
    outage_end: datetime | None
    signal: OutageSignal | None = None
    so_far_until: datetime | None = None  # open incident: downtime, SLA, revenue up to here

    def figure(self, key: str) -> Figure:
        """The figure with this key, from any group."""
        for figure in self.durations + self.business + self.technical + self.team:
            if figure.key == key:
                return figure
        raise KeyError(key)

    def objective(self, name: str) -> Objective:
        """The objective with this name: RTO, RPO or SLA."""
        return next(o for o in self.objectives if o.name == name)

    def missing_settings(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each config key not set, once, with the keys of the figures and objectives it fills."""
        found: dict[str, list[str]] = {}
        for figure in self.durations + self.business + self.technical + self.team:
            if figure.status == NOT_CONFIGURED and figure.setting:
                found.setdefault(figure.setting, []).append(figure.key)
        for objective in self.objectives:
            if objective.setting:
                found.setdefault(objective.setting, []).append(objective.name)
        return [(key, tuple(labels)) for key, labels in found.items()]


def compute_impact(
    frame: pd.DataFrame,
    baseline: pd.DataFrame,
    queries: Sequence[QueryResult],
    figures: IncidentFigures,
    targets: Targets,
    business: Business,
    timezone: str | None,
    detection_delay: timedelta | None = None,
    detection_source: Note | None = None,
) -> Impact:
    """Compute every impact figure from the series, the PagerDuty figures and the settings."""
    availability, signal = pick_outage_signal(frame, queries)
    outage = find_outage(availability, *incident_span(figures))
    window = _impact_window(outage, availability, signal, figures)
    backup = backup_age(pick_query(frame, queries, QueryKind.BACKUP_AGE), window.start)
    budget = error_budget(targets)
    return Impact(
        durations=_durations(figures, outage, availability, detection_delay, detection_source),
        business=(
            users_affected(pick_query(frame, queries, QueryKind.USERS), window.start, business),
            revenue_impact(window, business),
            *sla_figures(window, budget),
        ),
        technical=(
            endpoints_down(outage, availability, signal),
            requests_failed(pick_query(frame, queries, QueryKind.ERRORS), window),
            traffic_lost(pick_query(frame, queries, QueryKind.TRAFFIC), baseline, window),
            connections_dropped(pick_query(frame, queries, QueryKind.CONNECTIONS), window),
            backup,
        ),
        team=_team(figures, business, timezone),
        objectives=objectives(window, backup, targets, budget),
        outage_start=outage.start if outage else None,
        outage_end=outage.end if outage else None,
        signal=signal,
        so_far_until=window.end if window.ongoing else None,
    )


def _impact_window(
    outage: Outage | None, query: QueryData, signal: OutageSignal, figures: IncidentFigures
) -> ImpactWindow:
    if outage is not None and outage.end is None and figures.resolved_at is None:
        last = query.data["time"].max().to_pydatetime()
        return ImpactWindow(outage.start, last, outage.source, note("so_far", last=last), True)
    if outage is not None:
        return ImpactWindow(outage.start, outage.end, outage.source, None)
    reason = query.note or note("none_down", query=query.name)
    # What users see answered and nothing was down: the series are read over PagerDuty's span,
    # but no downtime is counted (PagerDuty's duration is not an outage).
    seen = query.status == OK and signal.basis is OutageBasis.USER_FACING
    # A resolve dated before the trigger ends nothing: no span to count as downtime.
    return ImpactWindow(
        figures.started_at,
        None if figures.resolved_before_start else figures.resolved_at,
        _pagerduty_span(figures),
        note("pagerduty_used", reason=reason),
        nothing_down=reason if seen else None,
    )


def _pagerduty_span(figures: IncidentFigures) -> Note:
    """The incident in PagerDuty, from its first trigger to its resolve."""
    sources = figures.sources
    return source(
        "pagerduty_span",
        start=sources.get("started_at") or source("created_at"),
        end=sources.get("resolved_at") or source("resolved_at"),
    )


def _durations(
    figures: IncidentFigures,
    outage: Outage | None,
    query: QueryData,
    detection_delay: timedelta | None,
    detection_source: Note | None,
) -> tuple[Figure, ...]:
    """Detection, acknowledgement, mitigation, restoration and resolution times."""
    # Without an outage in the metrics, the availability query's own fault is the reason.
    status = NO_DATA if outage or query.status == OK else query.status
    why = NO_END if outage else query.note or note("none_down", query=query.name)
    seen = outage.source if outage else query.describe()
    start = outage.start if outage else figures.started_at
    mitigated = outage.first_better - start if outage and outage.first_better else None
    restored = outage.end - start if outage and outage.end else None
    resolve = _pagerduty_span(figures)
    acknowledged = figures.sources.get("acknowledged_at")
    return (
        _duration("detection_delay", detection_delay, detection_source, note("no_warning_sign")),
        _duration(
            "time_to_acknowledge",
            figures.time_to_acknowledge,
            acknowledged,
            note("no_acknowledgement"),
        ),
        _duration("time_to_mitigate", mitigated, seen, why, status, query),
        _duration("time_to_restore", restored, seen, why, status, query),
        _duration("duration", figures.duration, resolve, _no_duration(figures)),
    )


def _no_duration(figures: IncidentFigures) -> Note:
    """Why PagerDuty gives no duration: still open, or its resolve dated before its trigger."""
    if figures.resolved_before_start and figures.resolved_at is not None:
        resolved, started = figures.resolved_at, figures.started_at
        return note("resolve_before_trigger", resolved=resolved, started=started)
    return note("not_resolved")


def _duration(
    key: str,
    value: timedelta | None,
    source: Note | None,
    why: Note,
    status: FigureStatus = NO_DATA,
    query: QueryData | None = None,
) -> Figure:
    """A duration, or why there is none; a query not configured names its setting."""
    if value is not None:
        return known(key, value, source)
    setting = query.setting if query is not None and status == NOT_CONFIGURED else ""
    return unknown(key, status, why, source, setting=setting)


def _team(
    figures: IncidentFigures, business: Business, zone_name: str | None
) -> tuple[Figure, ...]:
    """People engaged and notified, engaged hours, escalations, time outside working hours."""
    engaged = len(figures.people_engaged)
    if figures.duration is None:
        hours = unknown("engaged_hours", NO_DATA, _no_duration(figures))
    elif not engaged:  # paged, resolved by the integration: no one acted in PagerDuty
        hours = unknown("engaged_hours", NO_DATA, note("nobody_engaged"))
    else:
        span = figures.duration.total_seconds() / 3600
        how = source("engaged_hours", people=engaged, hours=span)
        hours = known("engaged_hours", engaged * span, how, note("upper_bound"))
    who = source("people_engaged", who=", ".join(figures.people_engaged))
    entries = figures.sources.get("people_notified") or source("notify_entries", n=0)
    notified = source("people_notified", entries=entries, who=", ".join(figures.people_notified))
    return (
        known("people_engaged", engaged, who),
        known("people_notified", len(figures.people_notified), notified),
        hours,
        known("escalations", figures.escalations, figures.sources.get("escalations")),
        *_outside_hours(figures, business, zone_name),
    )


def _outside_hours(
    figures: IncidentFigures, business: Business, zone_name: str | None
) -> tuple[Figure, Figure]:
    """Whether, and for how many minutes, the incident ran outside working hours."""
    keys = ("outside_working_hours", "minutes_outside_working_hours")
    if zone_name is None:
        why = note("set_timezone", setting="report.timezone")
        missing = [unknown(k, NOT_CONFIGURED, why, setting="report.timezone") for k in keys]
        return missing[0], missing[1]
    zone = ZoneInfo(zone_name)
    start, resolved = incident_span(figures)
    end = resolved or start
    total = (end - start).total_seconds() / 60
    outside = total - working_minutes(start, end, business, zone)
    why = note("outside_hours", outside=timedelta(minutes=outside), total=timedelta(minutes=total))
    if figures.resolved_at is None:
        # Still open: judge by the moment it started.
        flag = not working_minutes(start, start + timedelta(seconds=1), business, zone)
        why = note("judged_at_start")
    else:
        flag = outside > 0
    how = source("working_hours", start=start, end=end, **working_week(business), zone=zone_name)
    return known(keys[0], flag, how, why), known(keys[1], outside, how, why)
