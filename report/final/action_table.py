"""The action items as finalizing hands them on: actions.csv, figures.json, warnings.

Records in, text and plain data out; no I/O. An action's tracker key and URL come from
`filed` (the action's `key` → its issue), empty until it is filed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.records import FiledIssue
from report.final.actions import DONE, ActionItem
from report.spreadsheet import csv_text

ACTIONS_CSV = "actions.csv"
COLUMNS = ("action", "owner", "due_date", "horizon", "status", "tracker_key", "tracker_url")
QUOTED = 60


def action_rows(
    items: tuple[ActionItem, ...], filed: Mapping[str, FiledIssue]
) -> list[dict[str, Any]]:
    """One plain row per action, in the order of report.md (figures.json's `actions`)."""
    rows = []
    for item in items:
        issue = filed.get(item.key)
        rows.append(
            {
                "action": item.text,
                "owner": item.owner,
                "due_date": item.due_date.isoformat() if item.due_date else None,
                "horizon": item.horizon.value if item.horizon else None,
                "status": item.status,
                "tracker_key": issue.key if issue else None,
                "tracker_url": issue.url if issue else None,
                "line": item.line,
            }
        )
    return rows


def actions_csv(items: tuple[ActionItem, ...], filed: Mapping[str, FiledIssue]) -> str:
    """actions.csv: the COLUMNS, one row per action, every cell inert in a spreadsheet."""
    rows = action_rows(items, filed)
    return csv_text(COLUMNS, ([row[c] or "" for c in COLUMNS] for row in rows))


def action_warnings(items: tuple[ActionItem, ...]) -> list[str]:
    """One line per action still open without an owner or a readable due date (a done one
    needs neither): where report.md has it and what it lacks."""
    lines = []
    for item in items:
        if item.status == DONE:
            continue
        lacks = [
            *(["an owner"] if not item.owner else []),
            *(["a due date"] if not item.due_date and not item.due_text else []),
            *(
                [f"a due date we read (not {item.due_text!r}; write YYYY-MM-DD)"]
                if item.due_text
                else []
            ),
        ]
        if lacks:
            words = item.text if len(item.text) <= QUOTED else item.text[: QUOTED - 1] + "…"
            lines.append(
                f"report.md line {item.line} ({item.section}): action without"
                f" {' or '.join(lacks)}: {words!r}"
            )
    return lines
