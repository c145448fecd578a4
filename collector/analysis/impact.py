"""Impact of an incident: durations, business, technical and team figures, recovery objectives.

Every figure carries its provenance (`source`) and says why it could not be computed when it
could not (`status`, `note`): a target or query not configured, a query that failed, a query that
returned nothing. None of these ever becomes a zero. Values stay numbers; templates format them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

import pandas as pd

from collector.analysis.facts import FigureStatus, Note, Verdict, note, source
from collector.analysis.figures import IncidentFigures
from collector.analysis.outage import (
    FAILED,
    NO_DATA,
    NOT_CONFIGURED,
    OK,
    Outage,
    OutageSignal,
    QueryData,
    find_outage,
    pick_outage_signal,
    pick_query,
)
from collector.config import Business, Targets

__all__ = ["FAILED", "NO_DATA", "NOT_CONFIGURED", "OK", "Figure", "Impact", "compute_impact"]

NO_END = note("no_end")  # the outage had not ended by the end of the data
SET_SLO = note("set", setting="targets.slo_percent")

Value: TypeAlias = "float | int | bool | timedelta | datetime | str | None"

# key: unit. Durations are timedelta values; "min" says how to show them. Labels and
# definitions are words: report/lang_xx.py has them (fig_<key>, def_<key>).
UNITS: dict[str, str] = {
    "detection_delay": "min",
    "time_to_acknowledge": "min",
    "time_to_mitigate": "min",
    "time_to_restore": "min",
    "duration": "min",
    "users_affected": "users",
    "revenue_impact": "",
    "downtime": "min",
    "error_budget": "min",
    "error_budget_used": "%",
    "error_budget_left": "min",
    "endpoints_down": "endpoints",
    "requests_failed": "requests",
    "traffic_lost": "requests",
    "connections_dropped": "connections",
    "data_loss_window": "min",
    "people_engaged": "people",
    "people_notified": "people",
    "engaged_hours": "h",
    "escalations": "escalations",
    "outside_working_hours": "",
    "minutes_outside_working_hours": "min",
}


@dataclass(frozen=True)
class Figure:
    """One computed figure, where it comes from, and whether it could be computed."""

    key: str
    value: Value
    unit: str
    source: Note | None  # where it comes from, worded by the report (`Words.source`)
    status: FigureStatus = OK
    note: Note | None = None
    total: float | int | None = None
    setting: str = ""  # the config key that would fill a figure "not configured"


@dataclass(frozen=True)
class Objective:
    """A recovery objective (RTO, RPO) or the SLA's error budget, against what happened."""

    name: str
    target: timedelta | None
    actual: timedelta | None
    verdict: Verdict
    source: Note | None
    note: Note | None = None
    share_used: float | None = None  # SLA only: downtime / error budget, in percent
    setting: str = ""  # the config key that would set a target "not configured"


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


@dataclass(frozen=True)
class _Window:
    """The impacted interval: the outage seen in the metrics, else the PagerDuty incident."""

    start: datetime
    end: datetime | None
    source: Note
    note: Note | None
    # The incident is still open and the outage not over: `end` is the last sample, and the
    # figures are "so far". A target not yet missed is not met either.
    ongoing: bool = False

    @property
    def minutes(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds() / 60


def compute_impact(
    frame: pd.DataFrame,
    baseline: pd.DataFrame,
    queries: Sequence[Mapping[str, Any]],
    figures: IncidentFigures,
    targets: Targets,
    business: Business,
    timezone: str | None,
    detection_delay: timedelta | None = None,
    detection_source: Note | None = None,
) -> Impact:
    """Compute every impact figure from the series, the PagerDuty figures and the settings."""
    availability, signal = pick_outage_signal(frame, queries)
    outage = find_outage(availability, figures.started_at, figures.resolved_at)
    window = _impact_window(outage, availability, figures)
    backup = _backup_age(pick_query(frame, queries, "backup_age"), window.start)
    budget = _error_budget(targets)
    return Impact(
        durations=_durations(figures, outage, availability, detection_delay, detection_source),
        business=(
            _users_affected(pick_query(frame, queries, "users"), window.start, business),
            _revenue(window, business),
            *_sla_figures(window, budget),
        ),
        technical=(
            _endpoints_down(outage, availability),
            _requests_failed(pick_query(frame, queries, "errors"), window),
            _traffic_lost(pick_query(frame, queries, "traffic"), baseline, window),
            _connections_dropped(pick_query(frame, queries, "connections"), window),
            backup,
        ),
        team=_team(figures, business, timezone),
        objectives=(_rto(window, targets), _rpo(backup, targets), _sla(window, budget)),
        outage_start=outage.start if outage else None,
        outage_end=outage.end if outage else None,
        signal=signal,
        so_far_until=window.end if window.ongoing else None,
    )


def _ok(
    key: str, value: Value, source: Note | None, note: Note | None = None, **extra: Any
) -> Figure:
    fields = {"unit": UNITS[key], **extra}
    return Figure(key, value, source=source, note=note, **fields)


def _missing(
    key: str, status: FigureStatus, note: Note | None, source: Note | None = None, **extra: Any
) -> Figure:
    return _ok(key, None, source, note, status=status, **extra)


def _query_problem(key: str, query: QueryData) -> Figure:
    return _missing(key, query.status, query.note, query.describe(), setting=query.setting)


def _impact_window(outage: Outage | None, query: QueryData, figures: IncidentFigures) -> _Window:
    if outage is not None and outage.end is None and figures.resolved_at is None:
        last = query.data["time"].max().to_pydatetime()
        return _Window(outage.start, last, outage.source, note("so_far", last=last), ongoing=True)
    if outage is not None:
        return _Window(outage.start, outage.end, outage.source, None)
    reason = query.note or note("none_down", query=query.name)
    return _Window(
        figures.started_at,
        figures.resolved_at,
        _pagerduty_span(figures),
        note("pagerduty_used", reason=reason),
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

    def duration(
        key: str, value: timedelta | None, source: Note | None, why: Note, status: FigureStatus
    ) -> Figure:
        if value is not None:
            return _ok(key, value, source)
        setting = query.setting if status == NOT_CONFIGURED else ""
        return _missing(key, status, why, source, setting=setting)

    # Without an outage in the metrics, the availability query's own fault is the reason.
    status = NO_DATA if outage or query.status == OK else query.status
    why = NO_END if outage else query.note or note("none_down", query=query.name)
    seen = outage.source if outage else query.describe()
    better = outage.first_better if outage else None
    restored = outage.end if outage else None
    start = outage.start if outage else figures.started_at
    resolve = _pagerduty_span(figures)
    return (
        duration(
            "detection_delay",
            detection_delay,
            detection_source,
            note("no_warning_sign"),
            NO_DATA,
        ),
        duration(
            "time_to_acknowledge",
            figures.time_to_acknowledge,
            figures.sources.get("acknowledged_at"),
            note("no_acknowledgement"),
            NO_DATA,
        ),
        duration("time_to_mitigate", better - start if better else None, seen, why, status),
        duration("time_to_restore", restored - start if restored else None, seen, why, status),
        duration("duration", figures.duration, resolve, note("not_resolved"), NO_DATA),
    )


def _value_before(
    series: pd.Series, at: datetime, inclusive: bool
) -> tuple[datetime, float] | None:
    """The last sample before `at` (or at it, if inclusive)."""
    stamp = pd.Timestamp(at)
    earlier = series[series.index <= stamp] if inclusive else series[series.index < stamp]
    if earlier.empty:
        return None
    return earlier.index[-1].to_pydatetime(), float(earlier.iloc[-1])


def _users_affected(query: QueryData, start: datetime, business: Business) -> Figure:
    """Active users just before the start, from the query, else from the config."""
    key, reason = "users_affected", query.note
    if query.status == OK:
        found = _value_before(query.totals(), start, inclusive=False)
        if found is not None:
            at, value = found
            return _ok(key, round(value), source("last_before", seen=query.describe(), at=at))
        reason = note("no_sample_before", query=query.name, at=start)
    if business.active_users is not None:
        used = note("config_used", reason=reason or note("no_samples", query=query.name))
        return _ok(
            key, business.active_users, source("setting", name="business.active_users"), used
        )
    status = NO_DATA if query.status == OK else query.status
    setting = "business.active_users" if status == NOT_CONFIGURED else ""
    why = note("or_set", reason=reason or NO_END, setting="business.active_users")
    return _missing(key, status, why, query.describe(), setting=setting)


def _revenue(window: _Window, business: Business) -> Figure:
    """The configured revenue per minute times the impacted minutes."""
    key, unit = "revenue_impact", business.currency
    rate, minutes = business.revenue_per_minute, window.minutes
    if rate is None:
        return _missing(
            key,
            NOT_CONFIGURED,
            note("set", setting="business.revenue_per_minute"),
            unit=unit,
            setting="business.revenue_per_minute",
        )
    if minutes is None:
        return _missing(key, NO_DATA, NO_END, window.source, unit=unit)
    how = source("revenue", rate=rate, unit=unit, minutes=minutes, window=window.source)
    return _ok(key, rate * minutes, how, window.note, unit=unit)


def _error_budget(targets: Targets) -> float | None:
    """Minutes of downtime the SLO allows over its period."""
    if targets.slo_percent is None:
        return None
    minutes = targets.slo_period.total_seconds() / 60 * (100 - targets.slo_percent) / 100
    return round(minutes, 9)  # 100 - 99.9 is 0.0999999...: keep 43.2 from reading 43.1999...


def _sla_figures(window: _Window, budget: float | None) -> tuple[Figure, ...]:
    """Downtime, the period's error budget, the share of it this incident used, what is left."""
    minutes = window.minutes
    if minutes is None:
        downtime = _missing("downtime", NO_DATA, NO_END, window.source)
    else:
        downtime = _ok("downtime", minutes, window.source, window.note)
    keys = ("error_budget", "error_budget_used", "error_budget_left")
    if budget is None:
        return downtime, *(
            _missing(k, NOT_CONFIGURED, SET_SLO, setting="targets.slo_percent") for k in keys
        )
    basis = source("slo")
    alone = note("incident_alone")
    if minutes is None:
        return (
            downtime,
            _ok(keys[0], budget, basis),
            *(_missing(k, NO_DATA, NO_END, window.source) for k in keys[1:]),
        )
    return (
        downtime,
        _ok(keys[0], budget, basis),
        _ok(keys[1], minutes / budget * 100, source("budget_used", basis=basis), alone),
        # None left is zero, not a negative budget; the share used says by how much it ran over.
        _ok(
            keys[2],
            max(round(budget - minutes, 9), 0.0),
            source("budget_left", basis=basis),
            alone,
        ),
    )


def _endpoints_down(outage: Outage | None, query: QueryData) -> Figure:
    """The most series down at once during the outage, out of all series."""
    if outage is not None:
        return _ok("endpoints_down", outage.worst_down, outage.source, total=outage.series)
    if query.status != OK:
        return _query_problem("endpoints_down", query)
    series = int(query.data["series"].nunique())
    why = note("none_down", query=query.name)
    return _ok("endpoints_down", 0, query.describe(), why, total=series)


def _between(series: pd.Series, start: datetime, end: datetime | None) -> pd.Series:
    after = series.index >= pd.Timestamp(start)
    return series[after & (series.index <= pd.Timestamp(end))] if end else series[after]


def _integrate(series: pd.Series, start: datetime, end: datetime) -> float:
    """Trapezoid integral of a per-second rate over the samples in [start, end], in events."""
    part = _between(series, start, end)
    seconds = [t.timestamp() for t in part.index]
    values = part.tolist()
    return float(
        sum(
            (values[i] + values[i + 1]) / 2 * (seconds[i + 1] - seconds[i])
            for i in range(len(values) - 1)
        )
    )


def _requests_failed(query: QueryData, window: _Window) -> Figure:
    """Error responses over the impacted window: the error rate integrated over time."""
    if query.status != OK:
        return _query_problem("requests_failed", query)
    if window.end is None:
        return _missing("requests_failed", NO_DATA, NO_END, window.source)
    value = _integrate(query.totals(), window.start, window.end)
    how = source("integrated", seen=query.describe(), start=window.start, end=window.end)
    return _ok("requests_failed", value, how, window.note)


def _traffic_lost(query: QueryData, baseline: pd.DataFrame, window: _Window) -> Figure:
    """Requests the baseline week served over the same window, minus those served this time."""
    key = "traffic_lost"
    if query.status != OK:
        return _query_problem(key, query)
    if window.end is None:
        return _missing(key, NO_DATA, NO_END, window.source)
    name = query.record.get("name") if query.record else None
    past = _between(
        baseline[baseline["query"] == name].groupby("time")["value"].sum(), window.start, window.end
    )
    if len(past) < 2:
        why = note("no_baseline", setting="prometheus.baseline_offset")
        return _missing(key, NO_DATA, why, query.describe())
    # Compare like with like: only where the baseline has samples.
    start, end = past.index[0].to_pydatetime(), past.index[-1].to_pydatetime()
    actual = _integrate(query.totals(), start, end)
    expected = _integrate(past, start, end)
    days = float((query.record or {}).get("baseline_offset_s", 0)) / 86400
    how = source(
        "baseline",
        seen=query.describe(),
        start=start,
        end=end,
        expected=round(expected),
        days=days,
        actual=round(actual),
    )
    more = note("more_than_baseline") if actual > expected else None
    return _ok(key, expected - actual, how, more or window.note)


def _connections_dropped(query: QueryData, window: _Window) -> Figure:
    """Connections open just before the start minus the lowest count during the outage."""
    key = "connections_dropped"
    if query.status != OK:
        return _query_problem(key, query)
    totals = query.totals()
    before = _value_before(totals, window.start, inclusive=False)
    during = _between(totals, window.start, window.end)
    if before is None or during.empty:
        why = note("no_sample_around", query=query.name, start=window.start)
        return _missing(key, NO_DATA, why, query.describe())
    at, value = before
    low, low_at = float(during.min()), pd.Timestamp(str(during.idxmin())).to_pydatetime()
    how = source(
        "connections",
        seen=query.describe(),
        before=value,
        before_at=at,
        low=low,
        low_at=low_at,
        start=window.start,
        end=window.end or "?",
    )
    return _ok(key, max(value - low, 0.0), how, window.note)


def _backup_age(query: QueryData, start: datetime) -> Figure:
    """Minutes since the last good backup when the outage began: the data a restore loses."""
    key = "data_loss_window"
    if query.status != OK:
        return _query_problem(key, query)
    found = _value_before(query.totals("max"), start, inclusive=True)
    if found is None:
        why = note("no_sample_before", query=query.name, at=start)
        return _missing(key, NO_DATA, why, query.describe())
    at, minutes = found
    return _ok(key, minutes, source("backup", seen=query.describe(), at=at, start=start))


def _team(
    figures: IncidentFigures, business: Business, zone_name: str | None
) -> tuple[Figure, ...]:
    """People engaged and notified, engaged hours, escalations, time outside working hours."""
    engaged = len(figures.people_engaged)
    if figures.duration is None:
        hours = _missing("engaged_hours", NO_DATA, note("not_resolved"))
    else:
        span = figures.duration.total_seconds() / 3600
        how = source("engaged_hours", people=engaged, hours=span)
        hours = _ok("engaged_hours", engaged * span, how, note("upper_bound"))
    who = source("people_engaged", who=", ".join(figures.people_engaged))
    entries = figures.sources.get("people_notified") or source("notify_entries", n=0)
    notified = source("people_notified", entries=entries, who=", ".join(figures.people_notified))
    return (
        _ok("people_engaged", engaged, who),
        _ok("people_notified", len(figures.people_notified), notified),
        hours,
        _ok("escalations", figures.escalations, figures.sources.get("escalations")),
        *_outside_hours(figures, business, zone_name),
    )


def _outside_hours(
    figures: IncidentFigures, business: Business, zone_name: str | None
) -> tuple[Figure, Figure]:
    """Whether, and for how many minutes, the incident ran outside working hours."""
    keys = ("outside_working_hours", "minutes_outside_working_hours")
    if zone_name is None:
        why = note("set_timezone", setting="report.timezone")
        missing = [_missing(k, NOT_CONFIGURED, why, setting="report.timezone") for k in keys]
        return missing[0], missing[1]
    zone = ZoneInfo(zone_name)
    start, end = figures.started_at, figures.resolved_at or figures.started_at
    total = (end - start).total_seconds() / 60
    outside = total - _working_minutes(start, end, business, zone)
    why = note("outside_hours", outside=timedelta(minutes=outside), total=timedelta(minutes=total))
    if figures.resolved_at is None:
        # Still open: judge by the moment it started.
        flag = not _working_minutes(start, start + timedelta(seconds=1), business, zone)
        why = note("judged_at_start")
    else:
        flag = outside > 0
    first, last = business.working_hours
    how = source(
        "working_hours",
        start=start,
        end=end,
        hours=f"{first:02d}:00–{last:02d}:00",
        weekdays="".join(str(d) for d in sorted(business.working_days)),
        zone=zone_name,
    )
    return _ok(keys[0], flag, how, why), _ok(keys[1], outside, how, why)


def _working_minutes(start: datetime, end: datetime, business: Business, zone: ZoneInfo) -> float:
    """Minutes of [start, end] inside working hours, day by day in local time."""
    inside = 0.0
    day = start.astimezone(zone).date()
    while day <= end.astimezone(zone).date():
        if day.weekday() in business.working_days:
            opens, closes = _working_day(day, business, zone)
            inside += max((min(end, closes) - max(start, opens)).total_seconds() / 60, 0.0)
        day += timedelta(days=1)
    return inside


def _working_day(day: date, business: Business, zone: ZoneInfo) -> tuple[datetime, datetime]:
    # Wall-clock hours of that date, each with its own UTC offset: a DST change moves them.
    # Both ends go to UTC so that subtracting them counts real, not wall-clock, minutes.
    midnight = datetime.combine(day, time())
    first, last = business.working_hours
    opens = (midnight + timedelta(hours=first)).replace(tzinfo=zone)
    closes = (midnight + timedelta(hours=last)).replace(tzinfo=zone)
    return opens.astimezone(timezone.utc), closes.astimezone(timezone.utc)


def _objective(
    name: str,
    target: tuple[timedelta | None, str],
    actual: timedelta | None,
    missing: FigureStatus,
    source: Note | None,
    met: Verdict = Verdict.MET,
    note: Note | None = None,
) -> Objective:
    """Compare an actual duration with its target (value, config key): met or missed."""
    value, config_key = target
    setting = config_key if value is None else ""
    if value is None:
        verdict = Verdict.NOT_CONFIGURED
    elif actual is None:
        verdict = Verdict(missing.value) if missing is not OK else Verdict.NO_DATA
    elif actual <= value:
        verdict = met
    else:
        verdict = Verdict.MISSED
    return Objective(name, value, actual, verdict, source, note, setting=setting)


def _as_delta(minutes: float | None) -> timedelta | None:
    # A value no timedelta can hold (a broken exporter's 1e300) is no figure at all.
    if minutes is None or not abs(minutes) < timedelta.max / timedelta(minutes=1):
        return None
    return timedelta(minutes=minutes)


def _rto(window: _Window, targets: Targets) -> Objective:
    """Time to restore the service, against targets.rto."""
    actual = _as_delta(window.minutes)
    objective = _objective(
        "RTO", (targets.rto, "targets.rto"), actual, NO_DATA, window.source, note=window.note
    )
    return _still_open(objective, window)


def _still_open(objective: Objective, window: _Window) -> Objective:
    """While the incident is open, a target not yet exceeded is undecided, not met."""
    if window.ongoing and objective.verdict.good:
        return replace(objective, verdict=Verdict.ONGOING)
    return objective


def _rpo(backup: Figure, targets: Targets) -> Objective:
    """Age of the last good backup when the outage began, against targets.rpo."""
    minutes = backup.value if isinstance(backup.value, float | int) else None
    return _objective(
        "RPO",
        (targets.rpo, "targets.rpo"),
        _as_delta(minutes),
        backup.status,
        backup.source,
        note=backup.note if backup.status is not OK else None,
    )


def _sla(window: _Window, budget: float | None) -> Objective:
    """This incident's downtime against the period's error budget."""
    objective = _objective(
        "SLA",
        (_as_delta(budget), "targets.slo_percent"),
        _as_delta(window.minutes),
        NO_DATA,
        window.source,
        met=Verdict.WITHIN_BUDGET,
    )
    if budget is None or window.minutes is None:
        return objective
    # A budget is spent, not missed: the share used says how badly ("463 %, none left").
    verdict = Verdict.OVER_BUDGET if objective.verdict is Verdict.MISSED else objective.verdict
    spent = replace(objective, verdict=verdict, share_used=window.minutes / budget * 100)
    return _still_open(spent, window)
