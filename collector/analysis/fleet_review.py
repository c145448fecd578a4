"""The memory-trend review of the fleet, as the analyst reads it: facts asked of analysis,
grouped by series, ranked and linked to incidents. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from collector.analysis.fleet import Verdict, rank_reviews
from collector.analysis.fleet_links import HostIncident, link_incidents, read_fleet_incidents
from collector.analysis.fleet_series import ReviewedSeries, daily_matrix, review_grid
from collector.config import FleetSettings
from collector.snapshot.fleet import FleetSnapshot
from collector.snapshot.prometheus import label_text
from collector.timeutil import parse_time

WORRYING = (Verdict.LEAK, Verdict.GROWING)


@dataclass(frozen=True)
class FleetAnalysis:
    """The whole review, ranked most urgent first."""

    start: datetime
    until: datetime
    series: list[ReviewedSeries]
    incidents: dict[str, list[HostIncident]]  # by series key (query + labels)
    heatmaps: dict[str, pd.DataFrame]  # by query name
    linked: bool
    detailed: int

    def key(self, series: ReviewedSeries) -> str:
        """The series' identity: its query and label set."""
        return series.query + label_text(dict(series.labels))

    def incidents_of(self, series: ReviewedSeries) -> list[HostIncident]:
        """The incidents linked to a series."""
        return self.incidents.get(self.key(series), [])

    @property
    def hosts(self) -> int:
        """Distinct instances reviewed (memory and swap of one host count once)."""
        return len({s.review.instance for s in self.series})

    @property
    def worrying(self) -> list[ReviewedSeries]:
        """Series that leak or grow."""
        return [s for s in self.series if s.review.verdict in WORRYING]

    @property
    def soonest(self) -> ReviewedSeries | None:
        """The series that runs out first within the horizon, if any."""
        dated = [s for s in self.series if s.review.exhaustion_at is not None]
        return min(dated, key=lambda s: s.review.exhaustion_at or self.until, default=None)


def analyse_fleet(snapshot: FleetSnapshot, settings: FleetSettings) -> FleetAnalysis:
    """Review every series (detailed where fetched), rank them and link the incidents."""
    until = parse_time(snapshot.until)
    prom = snapshot.prometheus
    everything: list[ReviewedSeries] = []
    heatmaps: dict[str, pd.DataFrame] = {}
    detailed = 0
    for query in prom["queries"]:
        name, kind = query["name"], query["kind"]
        part = prom["screen"].get(name, {})
        grid = prom.get("detail", {}).get(name) or {}
        fine = review_grid(name, kind, grid, settings, until, detailed=True)
        seen = {label_text(dict(s.labels)) for s in fine}
        coarse = review_grid(name, kind, part.get("coarse", {}), settings, until, skip=seen)
        detailed += len(fine)
        reviewed = coarse + fine
        everything.extend(reviewed)
        order = [s.review.instance for s in _ranked(reviewed)]
        heatmaps[name] = daily_matrix(part.get("coarse", {}), order, until)
    ranked = _ranked(everything)
    incidents = read_fleet_incidents(snapshot.pagerduty.get("incidents", []))
    services = snapshot.pagerduty.get("services", {})
    links = {
        s.query + label_text(dict(s.labels)): link_incidents(incidents, s.labels, services)
        for s in ranked
    }
    return FleetAnalysis(
        start=until - timedelta(seconds=snapshot.window_s),
        until=until,
        series=ranked,
        incidents={k: v for k, v in links.items() if v},
        heatmaps=heatmaps,
        linked=bool(snapshot.pagerduty.get("linked")),
        detailed=detailed,
    )


def _ranked(series: Sequence[ReviewedSeries]) -> list[ReviewedSeries]:
    by_review = {id(s.review): s for s in series}
    return [by_review[id(r)] for r in rank_reviews([s.review for s in series])]
