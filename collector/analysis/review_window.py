"""The team's review across incidents, as facts: the window against the one before, what
pages, the actions, asked of `collector.analysis.review` from the review snapshot's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from collector.analysis import review as facts
from collector.snapshot.review import (
    ReviewAction,
    ReviewIncident,
    ReviewSnapshot,
    read_fleet_hosts,
    read_review_incidents,
)
from collector.timeutil import parse_time


@dataclass(frozen=True)
class ReviewAnalysis:
    """Every fact the review shows, computed once from the snapshot."""

    start: datetime
    until: datetime
    window: timedelta
    current: list[ReviewIncident]
    previous: list[ReviewIncident]
    services: list[facts.GroupFigures]
    months: list[facts.GroupFigures]
    changes: list[facts.Change]
    alerts: list[tuple[str, int]]
    top_services: list[tuple[str, int]]
    repeats: list[facts.RepeatRun]
    hosts: list[facts.HostLink] | None  # None: no fleet review to link with
    today: date
    actions: ActionFacts


@dataclass(frozen=True)
class ActionFacts:
    """The actions of the window's final reports, as of `today`."""

    today: date
    finals: int  # final reports in the window (with their action lists)
    overdue: list[ReviewAction]  # open and past due, the earliest due first
    owners: list[facts.ActionCount]  # per owner, the most overdue first
    services: list[facts.ActionCount]  # per service
    by_incident: dict[str, facts.ActionCount]  # per incident id, for incidents.csv


def analyse_review(snapshot: ReviewSnapshot) -> ReviewAnalysis:
    """The review's facts: the window against the one before, what pages, the actions."""
    until = parse_time(snapshot.until)
    window = timedelta(seconds=snapshot.window_s)
    current, previous = facts.split_window(read_review_incidents(snapshot), until, window)
    fleet = read_fleet_hosts(snapshot) if snapshot.fleet else None
    return ReviewAnalysis(
        start=until - window,
        until=until,
        window=window,
        current=current,
        previous=previous,
        services=facts.by_service_and_month(current),
        months=facts.by_month(current),
        changes=facts.changes(current, previous),
        alerts=facts.most_pages(current, lambda i: i.alert),
        top_services=facts.most_pages(current, lambda i: i.service),
        repeats=facts.repeat_runs(current),
        hosts=facts.host_links(current, fleet) if fleet is not None else None,
        today=until.date(),
        actions=action_facts(current, until.date()),
    )


def action_facts(incidents: list[ReviewIncident], today: date) -> ActionFacts:
    """What the review says of the incidents' actions."""
    actions = facts.actions_of(incidents)
    return ActionFacts(
        today=today,
        finals=sum(1 for i in incidents if i.actions is not None),
        overdue=sorted(
            (a for a in actions if facts.is_overdue(a, today)), key=lambda a: (a.due, a.owner)
        ),
        owners=facts.action_counts(actions, today, lambda a: a.owner),
        services=facts.action_counts(actions, today, lambda a: a.service),
        by_incident={
            i.id: facts.count_actions(i.id, i.actions, today)
            for i in incidents
            if i.actions is not None
        },
    )
