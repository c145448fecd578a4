"""Recovery objectives (RTO, RPO) and the SLA's error budget, against what happened.

A target not set is `not_configured`, an actual not known is `no_data` (or the status of the
figure it comes from); a budget is spent, not missed: within or over budget. While the incident
is open, a target not yet exceeded is undecided (`ongoing`), not met.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from collector.analysis.facts import FigureStatus, Note, Verdict, note, source
from collector.analysis.impact_figure import Figure, ImpactWindow, known, unknown
from collector.analysis.outage import NO_DATA, NOT_CONFIGURED, OK
from collector.config import Targets

SET_SLO = note("set", setting="targets.slo_percent")
_BUDGET_KEYS = ("error_budget", "error_budget_used", "error_budget_left")


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


def error_budget(targets: Targets) -> float | None:
    """Minutes of downtime the SLO allows over its period."""
    if targets.slo_percent is None:
        return None
    minutes = targets.slo_period.total_seconds() / 60 * (100 - targets.slo_percent) / 100
    return round(minutes, 9)  # 100 - 99.9 is 0.0999999...: keep 43.2 from reading 43.1999...


def sla_figures(window: ImpactWindow, budget: float | None) -> tuple[Figure, ...]:
    """Downtime, the period's error budget, the share of it this incident used, what is left."""
    minutes = window.down_minutes
    if minutes is None:
        downtime = unknown("downtime", NO_DATA, window.why_no_downtime, window.source)
    else:
        downtime = known("downtime", minutes, window.source, window.note)
    if budget is None:
        return downtime, *(
            unknown(k, NOT_CONFIGURED, SET_SLO, setting="targets.slo_percent") for k in _BUDGET_KEYS
        )
    basis = source("slo")
    if minutes is None:
        return (
            downtime,
            known(_BUDGET_KEYS[0], budget, basis),
            *(unknown(k, NO_DATA, window.why_no_downtime, window.source) for k in _BUDGET_KEYS[1:]),
        )
    return downtime, known(_BUDGET_KEYS[0], budget, basis), *_budget_spent(minutes, budget, basis)


def _budget_spent(minutes: float, budget: float, basis: Note) -> tuple[Figure, Figure]:
    """The share of the budget this downtime used, and what is left of it."""
    alone = note("incident_alone")
    used = known(_BUDGET_KEYS[1], minutes / budget * 100, source("budget_used", basis=basis), alone)
    # None left is zero, not a negative budget; the share used says by how much it ran over.
    left = known(
        _BUDGET_KEYS[2],
        max(round(budget - minutes, 9), 0.0),
        source("budget_left", basis=basis),
        alone,
    )
    return used, left


def objectives(
    window: ImpactWindow, backup: Figure, targets: Targets, budget: float | None
) -> tuple[Objective, Objective, Objective]:
    """RTO, RPO and SLA, in the order the report lists them."""
    return _rto(window, targets), _rpo(backup, targets), _sla(window, budget)


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


def _rto(window: ImpactWindow, targets: Targets) -> Objective:
    """Time to restore the service, against targets.rto."""
    actual = _as_delta(window.down_minutes)
    objective = _objective(
        "RTO",
        (targets.rto, "targets.rto"),
        actual,
        NO_DATA,
        window.source,
        note=window.nothing_down or window.note,
    )
    return _still_open(objective, window)


def _still_open(objective: Objective, window: ImpactWindow) -> Objective:
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


def _sla(window: ImpactWindow, budget: float | None) -> Objective:
    """This incident's downtime against the period's error budget."""
    objective = _objective(
        "SLA",
        (_as_delta(budget), "targets.slo_percent"),
        _as_delta(window.down_minutes),
        NO_DATA,
        window.source,
        met=Verdict.WITHIN_BUDGET,
        note=window.nothing_down,
    )
    if budget is None or window.down_minutes is None:
        return objective
    # A budget is spent, not missed: the share used says how badly ("463 %, none left").
    verdict = Verdict.OVER_BUDGET if objective.verdict is Verdict.MISSED else objective.verdict
    spent = replace(objective, verdict=verdict, share_used=window.down_minutes / budget * 100)
    return _still_open(spent, window)
