"""The review across incidents: its snapshot (save, load) and the reader of its parts.

`collector.sources.collect_review` gathers what the review needs into one file: the window's
incidents as PagerDuty listed them, the figures and actions of the reports under --out, and
the hosts of the last published fleet review. Everything after is read from this snapshot.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from collector.errors import SnapshotError
from collector.records import Gap
from collector.snapshot.fleet import check_span, save_kinded_snapshot
from collector.snapshot.migrate import read_gaps
from collector.timeutil import parse_time

REVIEW_KIND = "review"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ReviewOrigin:
    """Where a review's data came from, as its report names it, and what could not be had."""

    pagerduty_url: str
    fleet_folder: str  # the fleet review read back ("" when none)
    gaps: tuple[Gap, ...]


@dataclass
class ReviewSnapshot:
    """Everything the review gathered: `incidents` cover the window and the one before it."""

    collected_at: str
    tool_version: str
    until: str
    window_s: float
    pagerduty: dict[str, Any]
    reports: dict[str, Any]  # by incident ID: status, figures, objectives, actions
    fleet: dict[str, Any]  # the fleet review read back: its folder and hosts ({} when none)
    gaps: list[Gap] = field(default_factory=list)
    kind: str = REVIEW_KIND
    schema_version: int = SCHEMA_VERSION

    def origin(self) -> ReviewOrigin:
        """Its sources and gaps, read once for the report."""
        folder = self.fleet.get("folder", "") if isinstance(self.fleet, dict) else ""
        base_url = self.pagerduty.get("base_url", "") if isinstance(self.pagerduty, dict) else ""
        return ReviewOrigin(str(base_url), str(folder), tuple(self.gaps))

    @property
    def folder_name(self) -> str:
        """The review's folder: review-<until as YYYY-MM-DD>."""
        return f"review-{parse_time(self.until):%Y-%m-%d}"


def save_review_snapshot(snapshot: ReviewSnapshot, path: Path) -> None:
    """Write the snapshot as compact UTF-8 JSON, `kind` first."""
    save_kinded_snapshot(snapshot, path)


def load_review_snapshot(path: Path) -> ReviewSnapshot:
    """Read a snapshot written by `save_review_snapshot`, checking its shape."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{path}: cannot read the review's snapshot ({exc})") from exc
    if not isinstance(data, dict) or data.get("kind") != REVIEW_KIND:
        raise SnapshotError(f"{path}: not a review snapshot")
    try:
        snapshot = ReviewSnapshot(**{**data, "gaps": read_gaps(data.get("gaps"))})
        check_span(snapshot.until, snapshot.window_s)
        for name in ("pagerduty", "reports", "fleet"):
            if not isinstance(getattr(snapshot, name), dict):
                raise ValueError(f"{name}: expected an object")
        if not isinstance(snapshot.pagerduty.get("incidents", []), list):
            raise ValueError("pagerduty.incidents: expected a list")
    except (TypeError, ValueError, OverflowError) as exc:
        raise SnapshotError(f"{path}: snapshot is incomplete or damaged ({exc})") from exc
    return snapshot


@dataclass(frozen=True)
class ReviewAction:
    """One line of a final report's actions.csv."""

    incident_id: str
    service: str
    action: str
    owner: str
    due: date | None
    status: str
    tracker_key: str
    tracker_url: str
    done: bool


@dataclass(frozen=True)
class ReviewIncident:
    """One incident of the review: what PagerDuty listed, and its report's figures if any.

    Durations are seconds; None where unknown (no report, or the report could not compute it).
    """

    id: str
    number: int | None
    title: str
    service: str
    priority: str
    urgency: str
    created_at: datetime
    resolved_at: datetime | None
    alert: str  # what paged: the trigger's alertname, else the incident's title
    texts: tuple[str, ...]  # where a host's name may appear (as the fleet review links them)
    report_status: str = ""  # "final" | "draft" | "" (no report)
    time_to_acknowledge: float | None = None
    time_to_resolve: float | None = None
    time_to_restore: float | None = None
    detection_delay: float | None = None
    outage: float | None = None
    rto_verdict: str = ""
    error_budget_used: float | None = None
    actions: tuple[ReviewAction, ...] | None = None  # None: no actions.csv

    @property
    def month(self) -> str:
        """The incident's month, YYYY-MM (UTC)."""
        return f"{self.created_at:%Y-%m}"


@dataclass(frozen=True)
class FleetHost:
    """A host of the last fleet review (its hosts.csv), as the review links pages to it."""

    instance: str
    verdict: str
    growth_percent_per_day: float | None
    restarts: int | None
    seen_days: float | None  # from its first to its last sample in the fleet review


def read_review_incidents(snapshot: ReviewSnapshot) -> list[ReviewIncident]:
    """The snapshot's incidents as records, oldest first, each joined with its report."""
    reports = snapshot.reports
    incidents = [
        read_incident(raw, reports.get(str(raw.get("id"))))
        for raw in snapshot.pagerduty.get("incidents", [])
        if isinstance(raw, dict) and raw.get("id") and _time(raw.get("created_at"))
    ]
    return sorted(incidents, key=lambda i: (i.created_at, i.id))


def read_fleet_hosts(snapshot: ReviewSnapshot) -> list[FleetHost]:
    """The fleet review's hosts kept in the snapshot."""
    return [read_host(row) for row in snapshot.fleet.get("hosts", []) if isinstance(row, dict)]


def read_incident(raw: dict[str, Any], report: Any) -> ReviewIncident:
    """One listed incident, joined with what its report's figures.json and actions.csv say."""
    created = parse_time(str(raw["created_at"]))
    resolved = _time(raw.get("resolved_at"))
    trigger = _mapping(raw.get("first_trigger_log_entry"))
    channel = _mapping(trigger.get("channel"))
    details = _mapping(channel.get("details"))
    title = _text(raw.get("title")) or _text(raw.get("summary")) or str(raw["id"])
    texts = (title, _text(raw.get("description")), _text(channel.get("summary")))
    number = raw.get("incident_number")
    incident = ReviewIncident(
        id=str(raw["id"]),
        number=number if isinstance(number, int) and not isinstance(number, bool) else None,
        title=title,
        service=_text(_mapping(raw.get("service")).get("summary")),
        priority=_text(_mapping(raw.get("priority")).get("summary")),
        urgency=_text(raw.get("urgency")),
        created_at=created,
        resolved_at=resolved,
        alert=_text(details.get("alertname")) or title,
        texts=tuple(t for t in texts if t),
        time_to_resolve=(resolved - created).total_seconds()
        if resolved and resolved >= created
        else None,
    )
    return _with_report(incident, _mapping(report)) if isinstance(report, dict) else incident


def _with_report(incident: ReviewIncident, report: dict[str, Any]) -> ReviewIncident:
    figures = _mapping(report.get("figures"))
    actions = report.get("actions")
    resolve = _number(figures.get("duration"))
    return replace(
        incident,
        report_status="final" if report.get("status") == "final" else "draft",
        time_to_acknowledge=_number(figures.get("time_to_acknowledge")),
        time_to_resolve=resolve if resolve is not None else incident.time_to_resolve,
        time_to_restore=_number(figures.get("time_to_restore")),
        detection_delay=_number(figures.get("detection_delay")),
        outage=_number(figures.get("downtime")),
        rto_verdict=_text(_mapping(report.get("objectives")).get("rto")),
        error_budget_used=_number(figures.get("error_budget_used")),
        actions=tuple(_action(incident, row) for row in actions if isinstance(row, dict))
        if isinstance(actions, list)
        else None,
    )


def _action(incident: ReviewIncident, row: dict[str, Any]) -> ReviewAction:
    status = _text(row.get("status")).strip()
    return ReviewAction(
        incident_id=incident.id,
        service=incident.service,
        action=_text(row.get("action")),
        owner=_text(row.get("owner")).strip(),
        due=_date(row.get("due")),
        status=status,
        tracker_key=_text(row.get("tracker_key")),
        tracker_url=_text(row.get("tracker_url")),
        done=status.casefold() in DONE_STATUSES,
    )


# An action's status that closes it, in the words a team writes in actions.csv (en, fr).
DONE_STATUSES = frozenset(
    {"done", "closed", "resolved", "fixed", "complete", "completed", "cancelled", "canceled"}
    | {"fait", "fini", "terminé", "terminée", "clos", "close", "fermé", "fermée", "annulé"}
)


def read_host(row: dict[str, Any]) -> FleetHost:
    """A row of the fleet review's hosts.csv (text cells) as a record."""
    first, last = _time(row.get("first_seen_utc")), _time(row.get("last_seen_utc"))
    restarts = _number(row.get("restarts"))
    return FleetHost(
        instance=_text(row.get("instance")),
        verdict=_text(row.get("verdict")),
        growth_percent_per_day=_number(row.get("growth_percent_per_day")),
        restarts=int(restarts) if restarts is not None else None,
        seen_days=(last - first).total_seconds() / 86400 if first and last else None,
    )


def _number(value: Any) -> float | None:
    """A figure kept by the collector (seconds, percent, a CSV cell); None for any odd value."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_time(value)
    except (ValueError, OverflowError):
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
