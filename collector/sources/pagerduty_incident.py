"""PagerDuty incident data: the incident, its log entries, alerts and notes, as raw API JSON.

The incident is required; the other three are fetched side by side, and what fails among them
is recorded as `Gap` records so that a report can still be drafted.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, cast
from urllib.parse import quote

import pagerduty

from collector.paths import incident_id_problem, is_incident_id, shorten
from collector.records import Gap, GapKind
from collector.sources.pagerduty import PagerDutyError, get_object
from collector.sources.pagerduty_lists import Lister
from collector.timeutil import parse_time

Fetcher = Callable[[], list[dict[str, Any]]]


def fetch_incident(client: pagerduty.RestApiV2Client, incident_id: str) -> dict[str, Any]:
    """The incident as raw API JSON, with an ID and a creation time that can be trusted;
    `PagerDutyError` when it cannot be read."""
    problem = incident_id_problem(incident_id)
    if problem is not None:
        raise PagerDutyError(problem)
    incident = get_object(
        client,
        f"/incidents/{quote(incident_id, safe='')}",
        "incident",
        {"include[]": ["priorities", "teams", "conference_bridge", "acknowledgers"]},
        what=f"incident {incident_id}",
    )
    _checked_id(incident)
    return cast(dict[str, Any], incident)


def fetch_incident_lists(
    client: pagerduty.RestApiV2Client, incident: dict[str, Any], max_concurrency: int = 4
) -> dict[str, Any]:
    """The incident (from `fetch_incident`) with its log entries, alerts and notes as raw API
    JSON, and the "errors" met fetching them.

    A failure on one of the three lists, or a list PagerDuty cannot return whole, is recorded
    under "errors" (as `Gap` records, which the snapshot states) so that a report can still be
    drafted; only the incident itself is required (`fetch_incident`).
    """
    iid = _checked_id(incident)
    lister = Lister(client, max_concurrency)
    fetchers = _fetchers(lister, iid, parse_time(incident["created_at"]))
    data: dict[str, Any] = {"incident": incident, "errors": []}
    # Independent requests run side by side: the report waits for round trips, not sums.
    with ThreadPoolExecutor(max_workers=len(fetchers)) as pool:
        futures = {key: pool.submit(fn) for key, fn in fetchers.items()}
        for key, future in futures.items():
            try:
                data[key] = future.result()
            except PagerDutyError as exc:
                data[key] = []
                data["errors"].append(Gap("PagerDuty", key, GapKind.UNFETCHED, str(exc)))
    data["errors"].extend(lister.gaps)
    return data


def _fetchers(lister: Lister, iid: str, created_at: datetime) -> dict[str, Fetcher]:
    """The requests for an incident's log entries, alerts and notes, by snapshot key."""
    window = (created_at, datetime.now(timezone.utc))
    return {
        "log_entries": lambda: lister.fetch_all(
            f"/incidents/{iid}/log_entries",
            "log_entries",
            {"include[]": ["channels"], "time_zone": "UTC"},
            window,
        ),
        # The alerts endpoint has no since/until: no window to split past 10,000.
        "alerts": lambda: lister.fetch_all(f"/incidents/{iid}/alerts", "alerts", {}, None),
        "notes": lambda: get_object(
            lister.client, f"/incidents/{iid}/notes", "notes", {}, what=f"notes of incident {iid}"
        ),
    }


def _checked_id(incident: Any) -> str:
    # The ID names the report's folder: an answer that is not an ID must go no further.
    iid = incident.get("id") if isinstance(incident, dict) else None
    if not is_incident_id(iid):
        raise PagerDutyError(
            f"PagerDuty answered with an incident whose ID {shorten(str(iid))} is not a"
            " PagerDuty ID (malformed response)"
        )
    try:
        parse_time(incident["created_at"])
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise PagerDutyError(
            f"PagerDuty answered incident {iid} without a valid created_at (malformed response)"
        ) from exc
    return str(iid)
