"""The review across incidents, as facts: per service and month, against the previous window,
what keeps paging, and the actions left open. Records in, numbers out; no words, no I/O.

Percentiles are numpy's linear interpolation between the closest ranks (the median of 4 values
is the mean of the middle two; p90 of 1..10 is 9.1). A share of fewer than `FEW` decided
incidents is marked `few`, for the words to say so rather than show a bare percentage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import TypeVar

import numpy as np

from collector.analysis.fleet_links import FleetIncident, link_incidents
from collector.snapshot.review import FleetHost, ReviewAction, ReviewIncident

FEW = 5  # fewer decided incidents than this: no bare percentage
REPEAT_WITHIN = timedelta(days=7)
TOP = 10
ALL_SERVICES = ""  # the group of every service together
WORRYING = ("leak", "growing")  # fleet review verdicts worth linking to pages
K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True)
class Spread:
    """A duration's median and 90th percentile over `count` incidents that have it (seconds)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Share:
    """How many of the `decided` incidents met their objective."""

    met: int
    decided: int

    @property
    def percent(self) -> float | None:
        """The share met, in percent; None with nothing decided."""
        return 100 * self.met / self.decided if self.decided else None

    @property
    def few(self) -> bool:
        """Too few decided incidents for a percentage to mean much."""
        return self.decided < FEW


@dataclass(frozen=True)
class GroupFigures:
    """The figures of one group of incidents (a service, a month, a window)."""

    service: str  # ALL_SERVICES for every service
    month: str  # YYYY-MM, or "" for the whole window
    count: int
    acknowledge: Spread
    restore: Spread
    resolve: Spread
    detection: Spread
    rto: Share
    budget_used: float | None  # percent of the error budget, summed over the group
    budget_count: int


@dataclass(frozen=True)
class Change:
    """A service's figures over the window against the previous window of the same length."""

    service: str
    current: GroupFigures
    previous: GroupFigures


@dataclass(frozen=True)
class RepeatRun:
    """Pages of one alert on one service, each within `REPEAT_WITHIN` of the one before."""

    alert: str
    service: str
    incidents: tuple[str, ...]
    first: datetime
    last: datetime
    typical_gap: timedelta  # the median time between two pages of the run


@dataclass(frozen=True)
class HostLink:
    """A host the fleet review found leaking or growing, and the pages linked to it."""

    host: FleetHost
    pages: int
    incidents: tuple[str, ...]
    restart_every: timedelta | None  # its fleet review's span over its restarts


@dataclass(frozen=True)
class ActionCount:
    """Actions of final reports for one owner or one service."""

    name: str
    total: int
    open: int
    overdue: int


def split_window(
    incidents: Sequence[ReviewIncident], until: datetime, window: timedelta
) -> tuple[list[ReviewIncident], list[ReviewIncident]]:
    """The incidents created in the window, and those of the window just before it."""
    start, before = until - window, until - 2 * window
    current = [i for i in incidents if start <= i.created_at < until]
    previous = [i for i in incidents if before <= i.created_at < start]
    return current, previous


def figures_of(incidents: Sequence[ReviewIncident], service: str, month: str) -> GroupFigures:
    """Count, spreads, RTO share and error budget of a group of incidents."""
    budgets = [i.error_budget_used for i in incidents if i.error_budget_used is not None]
    decided = [i for i in incidents if i.rto_verdict in ("met", "missed")]
    return GroupFigures(
        service=service,
        month=month,
        count=len(incidents),
        acknowledge=spread(i.time_to_acknowledge for i in incidents),
        restore=spread(i.time_to_restore for i in incidents),
        resolve=spread(i.time_to_resolve for i in incidents),
        detection=spread(i.detection_delay for i in incidents),
        rto=Share(sum(1 for i in decided if i.rto_verdict == "met"), len(decided)),
        budget_used=sum(budgets) if budgets else None,
        budget_count=len(budgets),
    )


def spread(values: Iterable[float | None]) -> Spread:
    """Median and 90th percentile of the known values."""
    known = [v for v in values if v is not None]
    if not known:
        return Spread(0, None, None)
    return Spread(len(known), float(median(known)), float(np.percentile(known, 90)))


def by_service_and_month(incidents: Sequence[ReviewIncident]) -> list[GroupFigures]:
    """The figures of each service in each month it paged, services by name, months in order."""
    groups = _group(incidents, lambda i: (i.service, i.month))
    return [figures_of(group, service, month) for (service, month), group in sorted(groups.items())]


def by_month(incidents: Sequence[ReviewIncident]) -> list[GroupFigures]:
    """The figures of every service together, month by month."""
    groups = _group(incidents, lambda i: i.month)
    return [figures_of(group, ALL_SERVICES, month) for month, group in sorted(groups.items())]


def changes(current: Sequence[ReviewIncident], previous: Sequence[ReviewIncident]) -> list[Change]:
    """Every service's window against the previous one, every service together first."""
    now, before = _group(current, lambda i: i.service), _group(previous, lambda i: i.service)
    out = [Change(ALL_SERVICES, figures_of(current, "", ""), figures_of(previous, "", ""))]
    for service in sorted(set(now) | set(before)):
        out.append(
            Change(
                service,
                figures_of(now.get(service, []), service, ""),
                figures_of(before.get(service, []), service, ""),
            )
        )
    return out


def most_pages(
    incidents: Sequence[ReviewIncident], key: Callable[[ReviewIncident], str], top: int = TOP
) -> list[tuple[str, int]]:
    """The names with the most pages, most first (ties by name)."""
    counts = Counter(key(i) for i in incidents if key(i))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


def repeat_runs(
    incidents: Sequence[ReviewIncident], within: timedelta = REPEAT_WITHIN
) -> list[RepeatRun]:
    """Runs of two or more pages of one alert on one service, each within `within` of the
    previous; the longest runs first."""
    runs: list[RepeatRun] = []
    groups = _group(incidents, lambda i: (i.alert, i.service))
    for (alert, service), group in groups.items():
        ordered = sorted(group, key=lambda i: i.created_at)
        run = [ordered[0]]
        for incident in ordered[1:]:
            if incident.created_at - run[-1].created_at <= within:
                run.append(incident)
                continue
            runs.extend(_run(alert, service, run))
            run = [incident]
        runs.extend(_run(alert, service, run))
    return sorted(runs, key=lambda r: (-len(r.incidents), r.first, r.alert))


def _run(alert: str, service: str, run: list[ReviewIncident]) -> list[RepeatRun]:
    if len(run) < 2:
        return []
    gaps = [
        (b.created_at - a.created_at).total_seconds() for a, b in zip(run, run[1:], strict=False)
    ]
    return [
        RepeatRun(
            alert,
            service,
            tuple(i.id for i in run),
            run[0].created_at,
            run[-1].created_at,
            timedelta(seconds=median(gaps)),
        )
    ]


def host_links(incidents: Sequence[ReviewIncident], hosts: Sequence[FleetHost]) -> list[HostLink]:
    """Hosts the fleet review found leaking or growing, with the pages that name them, the
    most paged first. Pages are linked as the fleet review links them: by the host's name."""
    records = [
        FleetIncident(i.id, i.number, i.title, i.service, i.created_at, "", i.texts)
        for i in incidents
    ]
    links = []
    for host in hosts:
        if host.verdict not in WORRYING:
            continue
        linked = link_incidents(records, {"instance": host.instance}, {})
        every = None
        if host.restarts and host.seen_days:
            every = timedelta(days=host.seen_days / host.restarts)
        ids = tuple(h.incident.id for h in linked)
        links.append(HostLink(host, len(ids), ids, every))
    return sorted(links, key=lambda link: (-link.pages, link.host.instance))


def actions_of(incidents: Sequence[ReviewIncident]) -> list[ReviewAction]:
    """The actions of the incidents' final reports."""
    return [a for i in incidents for a in i.actions or ()]


def is_overdue(action: ReviewAction, today: date) -> bool:
    """Open and past its due date."""
    return not action.done and action.due is not None and action.due < today


def action_counts(
    actions: Sequence[ReviewAction], today: date, key: Callable[[ReviewAction], str]
) -> list[ActionCount]:
    """Total, open and overdue actions per owner or service, the most overdue first."""
    counts = [count_actions(name, group, today) for name, group in _group(actions, key).items()]
    return sorted(counts, key=lambda c: (-c.overdue, -c.open, c.name))


def count_actions(name: str, actions: Sequence[ReviewAction], today: date) -> ActionCount:
    """Total, open and overdue among `actions`, under `name`."""
    return ActionCount(
        name,
        len(actions),
        sum(1 for a in actions if not a.done),
        sum(1 for a in actions if is_overdue(a, today)),
    )


def _group(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    groups: dict[K, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups
