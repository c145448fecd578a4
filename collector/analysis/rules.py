"""Alerting rules: the rule that fired, and when its own condition first held.

When no configured threshold was crossed before the page, the rule Prometheus evaluated is the
earliest sign there is: its `ALERTS{alertstate="pending"}` series starts when the condition first
held (`for` later it fires). The rule itself (expression, `for`, labels) comes from
`/api/v1/rules`, kept in the snapshot under `prometheus.alerting_rules`; without it (a backend
with no rules API) the alert's name and ALERTS intervals still tell the times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from collector.records import AlertInterval
from collector.series import find_breaks, split_runs
from collector.snapshot.rules import AlertRule

# Alertmanager groups and waits before it notifies: a page up to this long after the alert
# fired still belongs to it.
NOTIFY_SLACK = timedelta(minutes=10)
# Two intervals of one alert this close are one episode (pending, then firing).
EPISODE_GAP = timedelta(minutes=2)


class RuleBasis(Enum):
    """Where the time the condition first held comes from."""

    ALERTS = "alerts"  # Prometheus's own ALERTS series (pending, then firing)
    EXPRESSION = "expression"  # the rule's expression evaluated over the window


@dataclass(frozen=True)
class RuleCondition:
    """When the condition of the alert that fired first held, and when it fired."""

    alertname: str
    rule: AlertRule | None  # None: the server's rules were not readable
    held_from: datetime  # start of the episode: pending, or firing when `for` is 0
    fired_at: datetime
    page_time: datetime
    pending_seen: bool  # the episode began with a pending interval
    basis: RuleBasis = RuleBasis.ALERTS

    @property
    def lead(self) -> timedelta:
        """From the condition first holding to the page."""
        return self.page_time - self.held_from

    @property
    def fire_lead(self) -> timedelta:
        """From the rule firing to the page."""
        return self.page_time - self.fired_at


def find_rule_condition(
    alerts: Sequence[AlertInterval],
    rules: Sequence[AlertRule],
    page: datetime,
    held: Mapping[str, Sequence[datetime]] | None = None,
    step: timedelta = timedelta(minutes=1),
) -> RuleCondition | None:
    """The alert that fired before the page (within NOTIFY_SLACK) whose condition held first.

    From ALERTS when it tells; else from `held`, the times each paged rule's expression
    returned samples over the window (the condition held there).
    """
    return _from_alerts(alerts, rules, page) or _from_expressions(held or {}, rules, page, step)


def _from_expressions(
    held: Mapping[str, Sequence[datetime]],
    rules: Sequence[AlertRule],
    page: datetime,
    step: timedelta,
) -> RuleCondition | None:
    found: list[RuleCondition] = []
    for rule in rules:
        times = sorted(held.get(rule.name, ()))
        breaks = find_breaks([t.timestamp() for t in times], step.total_seconds(), missing=1)
        runs = split_runs(times, breaks)
        before = [(a, b) for a, b in runs if a <= page]
        if not before:
            continue
        start, end = before[-1]
        fired = start + rule.for_duration
        if fired <= end and fired <= page + NOTIFY_SLACK:
            found.append(
                RuleCondition(rule.name, rule, start, fired, page, False, RuleBasis.EXPRESSION)
            )
    return min(found, key=lambda c: (c.held_from, c.alertname), default=None)


def _from_alerts(
    alerts: Sequence[AlertInterval], rules: Sequence[AlertRule], page: datetime
) -> RuleCondition | None:
    found: list[RuleCondition] = []
    for name in dict.fromkeys(a.alertname for a in alerts):
        episode = _episode_that_fired([a for a in alerts if a.alertname == name], page)
        if episode is None:
            continue
        fired = next(a.start for a in episode if a.state == "firing")
        rule = next((r for r in rules if r.name == name), None)
        pending = episode[0].state == "pending"
        found.append(RuleCondition(name, rule, episode[0].start, fired, page, pending))
    return min(found, key=lambda c: (c.held_from, c.alertname), default=None)


def _episode_that_fired(
    intervals: Sequence[AlertInterval], page: datetime
) -> list[AlertInterval] | None:
    """The last chain of touching intervals that reached firing no later than the page allows."""
    episodes: list[list[AlertInterval]] = []
    for interval in sorted(intervals, key=lambda a: a.start):
        if episodes and interval.start - max(a.end for a in episodes[-1]) <= EPISODE_GAP:
            episodes[-1].append(interval)
        else:
            episodes.append([interval])
    fired = [
        e
        for e in episodes
        if any(a.state == "firing" and a.start <= page + NOTIFY_SLACK for a in e)
        and e[0].start <= page
    ]
    return fired[-1] if fired else None
