"""Gather the review across incidents: the window's incidents (and the previous window's, to
compare) from PagerDuty's listing, the figures and actions of the reports under --out, and the
hosts of the last fleet review published there. One listing, never a request per incident."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from collector import __version__
from collector.config import Config
from collector.files import read_regular_file
from collector.paths import FLEET_FOLDER, is_incident_id
from collector.records import Gap, GapKind
from collector.snapshot.review import ReviewSnapshot
from collector.sources import pagerduty as pd_source
from collector.sources.pagerduty_lists import list_incidents
from collector.timeutil import iso_utc

# figures.json and actions.csv of our reports are kilobytes; a bigger one is not ours.
MAX_READ_BYTES = 8 * 1024 * 1024
# The listed fields the review reads: the snapshot keeps these only.
_KEPT = (
    "id",
    "incident_number",
    "title",
    "summary",
    "description",
    "status",
    "urgency",
    "created_at",
    "resolved_at",
    "html_url",
)
_FIGURES = (
    "time_to_acknowledge",
    "duration",
    "time_to_restore",
    "detection_delay",
    "downtime",
    "error_budget_used",
)


def collect_review_snapshot(
    config: Config,
    window: timedelta,
    until: datetime | None,
    out_dir: Path,
    *,
    filters: dict[str, list[str]],
    keep: Callable[[dict[str, Any]], bool],
) -> ReviewSnapshot:
    """List the incidents created in the window and the one before it, read their reports.

    `filters` narrow the listing as `batch:` does; `keep` drops what the listing cannot
    (a minimum priority). A failed listing raises `PagerDutyError`.
    """
    now = datetime.now(timezone.utc)
    end = until or now
    gaps: list[Gap] = []
    with pd_source.make_client(config.pagerduty, config.ca_file) as client:
        listed, partial = list_incidents(
            client,
            end - 2 * window,
            end,
            max_concurrency=config.pagerduty.max_concurrency,
            filters=filters,
        )
    gaps.extend(partial)
    incidents = [_trimmed(item) for item in listed if keep(item)]
    ids = [str(item["id"]) for item in incidents if is_incident_id(str(item.get("id")))]
    return ReviewSnapshot(
        collected_at=iso_utc(now),
        tool_version=__version__,
        until=iso_utc(end),
        window_s=window.total_seconds(),
        pagerduty={"base_url": config.pagerduty.base_url, "incidents": incidents},
        reports=read_reports(out_dir, ids, gaps),
        fleet=read_fleet_review(out_dir, end),
        gaps=gaps,
    )


def read_reports(out_dir: Path, ids: list[str], gaps: list[Gap]) -> dict[str, Any]:
    """What each incident's report under `out_dir` says, by ID (incidents without one left
    out); an unreadable figures.json or actions.csv is a gap, never an error."""
    reports: dict[str, Any] = {}
    for incident_id in ids:
        folder = out_dir / incident_id
        if not (folder / "figures.json").is_file():
            continue
        try:
            document = json.loads(read_regular_file(folder / "figures.json", MAX_READ_BYTES))
        except (OSError, ValueError, RecursionError) as exc:
            gaps.append(Gap("reports", incident_id, GapKind.OTHER, f"figures.json: {exc}"))
            continue
        if not isinstance(document, dict):
            continue
        report = _report_figures(document)
        if report["status"] == "final" and (folder / "actions.csv").is_file():
            try:
                report["actions"] = read_actions(folder / "actions.csv")
            except (OSError, ValueError, csv.Error) as exc:
                gaps.append(Gap("reports", incident_id, GapKind.OTHER, f"actions.csv: {exc}"))
        reports[incident_id] = report
    return reports


def _report_figures(document: dict[str, Any]) -> dict[str, Any]:
    """The figures the review reads from a figures.json, each only when computed."""
    figures = {}
    for item in document.get("figures") or ():
        if isinstance(item, dict) and item.get("status") == "ok" and item.get("key") in _FIGURES:
            figures[str(item["key"])] = item.get("value")
    objectives = {
        str(item.get("key")): item.get("verdict")
        for item in document.get("objectives") or ()
        if isinstance(item, dict)
    }
    status = "final" if document.get("status") == "final" else "draft"
    return {"status": status, "figures": figures, "objectives": objectives}


def read_actions(path: Path) -> list[dict[str, str]]:
    """actions.csv as rows keyed action, owner, due, horizon, status, tracker_key, tracker_url
    (headers matched loosely: 'Due date', 'due_date_iso' and 'due' are one column)."""
    text = read_regular_file(path, MAX_READ_BYTES).decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    header = [_column(name) for name in next(reader, [])]
    return [
        {name: cell.removeprefix("'") for name, cell in zip(header, row, strict=False) if name}
        for row in reader
        if any(cell.strip() for cell in row)
    ]


def _column(name: str) -> str:
    words = re.sub(r"[^a-z]+", "_", name.strip().lower()).strip("_")
    for prefix, column in (
        ("action", "action"),
        ("owner", "owner"),
        ("due", "due"),
        ("horizon", "horizon"),
        ("status", "status"),
        ("tracker_key", "tracker_key"),
        ("tracker_url", "tracker_url"),
        ("jira", "tracker_key"),
        ("key", "tracker_key"),
        ("url", "tracker_url"),
    ):
        if words.startswith(prefix):
            return column
    return ""


def read_fleet_review(out_dir: Path, until: datetime) -> dict[str, Any]:
    """The hosts of the newest fleet review under `out_dir` dated up to `until` ({} if none)."""
    folders = sorted(
        path
        for path in (out_dir.iterdir() if out_dir.is_dir() else ())
        if FLEET_FOLDER.match(path.name)
        and not path.is_symlink()
        and path.name.removeprefix("memory-trends-") <= f"{until:%Y-%m-%d}"
        and (path / "hosts.csv").is_file()
    )
    if not folders:
        return {}
    folder = folders[-1]
    try:
        text = read_regular_file(folder / "hosts.csv", MAX_READ_BYTES).decode("utf-8", "replace")
    except OSError:
        return {}
    rows = [
        {key: value.removeprefix("'") for key, value in row.items() if key}
        for row in csv.DictReader(io.StringIO(text))
    ]
    return {"folder": folder.name, "hosts": rows}


def _trimmed(item: dict[str, Any]) -> dict[str, Any]:
    """A listed incident with the fields the review reads (the snapshot stays small)."""
    kept = {key: item[key] for key in _KEPT if key in item}
    for key in ("service", "priority"):
        if isinstance(item.get(key), dict):
            kept[key] = {"summary": item[key].get("summary") or item[key].get("name")}
    trigger = item.get("first_trigger_log_entry")
    if isinstance(trigger, dict) and isinstance(trigger.get("channel"), dict):
        channel = trigger["channel"]
        kept["first_trigger_log_entry"] = {
            "channel": {"summary": channel.get("summary"), "details": channel.get("details")}
        }
    return kept
