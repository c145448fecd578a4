"""One impact figure, its unit and provenance, and the impacted window the figures cover.

Every figure carries its provenance (`source`) and says why it could not be computed when it
could not (`status`, `note`): a target or query not configured, a query that failed, a query that
returned nothing. None of these ever becomes a zero. Values stay numbers; templates format them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from collector.analysis.facts import FigureStatus, Note, note
from collector.analysis.outage import OK, QueryData

NO_END = note("no_end")  # the outage had not ended by the end of the data

Value: TypeAlias = "float | int | bool | timedelta | datetime | str | None"

# key: unit. Durations are timedelta values; "min" says how to show them. Labels and
# definitions are words: report/words/catalogues/<language>.toml has them (fig_<key>, def_<key>).
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
class ImpactWindow:
    """The impacted interval: the outage seen in the metrics, else the PagerDuty incident."""

    start: datetime
    end: datetime | None
    source: Note
    note: Note | None
    # The incident is still open and the outage not over: `end` is the last sample, and the
    # figures are "so far". A target not yet missed is not met either.
    ongoing: bool = False
    # The user-facing signal answered and showed nothing down: the window is PagerDuty's, for
    # the series read over it, but there is no downtime to count against a target or revenue.
    nothing_down: Note | None = None

    @property
    def minutes(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds() / 60

    @property
    def down_minutes(self) -> float | None:
        """Minutes of downtime: none when nothing was down, or when the outage had no end."""
        return None if self.nothing_down else self.minutes

    @property
    def why_no_downtime(self) -> Note:
        return self.nothing_down or NO_END


def known(
    key: str, value: Value, source: Note | None, note: Note | None = None, **extra: Any
) -> Figure:
    """A figure with its value, in the unit of its key."""
    fields = {"unit": UNITS[key], **extra}
    return Figure(key, value, source=source, note=note, **fields)


def unknown(
    key: str, status: FigureStatus, note: Note | None, source: Note | None = None, **extra: Any
) -> Figure:
    """A figure without a value, and why (status, note)."""
    return known(key, None, source, note, status=status, **extra)


def query_problem(key: str, query: QueryData) -> Figure:
    """A figure its query could not feed: not configured, failed or empty."""
    return unknown(key, query.status, query.note, query.describe(), setting=query.setting)
