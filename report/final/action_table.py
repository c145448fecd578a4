"""The action items as finalizing hands them on: actions.csv, figures.json, warnings.

Records in, text and plain data out; no I/O. An action's tracker key and URL come from
`filed` (the action's `key` → its issue), empty until it is filed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.records import FiledIssue
from report.final.actions import DONE, ActionItem, Horizon, tracking_table_lines
from report.spreadsheet import csv_text
from report.words.labels import FILED, LABELS

ACTIONS_CSV = "actions.csv"
COLUMNS = ("action", "owner", "due_date", "horizon", "status", "tracker_key", "tracker_url")
QUOTED = 60
SUMMARY_MAX = 255  # Jira's limit on an issue's summary
_HORIZON_LABEL = {
    Horizon.IMMEDIATE: "immediate",
    Horizon.SHORT: "short_term",
    Horizon.MEDIUM: "mid_term",
    Horizon.LONG: "long_term",
}
_STATUS_MARK = {DONE: "✅", "in_progress": "🔄"}


def can_be_filed(item: ActionItem) -> bool:
    """An action a tracker takes: still to do, with an owner and a due date."""
    return item.status != DONE and bool(item.owner) and item.due_date is not None


def issue_summary(item: ActionItem) -> str:
    """The issue's summary: the action's words, within Jira's limit."""
    text = item.text
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def issue_description(item: ActionItem, links: Mapping[str, str], language: str) -> str:
    """The issue's description: which report and incident it comes from, who owns it, when.

    `links` has `incident`, `title`, `report` and `pagerduty` (a link, or "" when unknown)."""
    labels = LABELS[language]
    horizon = labels[_HORIZON_LABEL[item.horizon]] if item.horizon else "—"
    return FILED[language]["jira_description"].format(
        incident=links["incident"],
        title=links["title"],
        report=links["report"] or "—",
        pagerduty=links["pagerduty"] or "—",
        owner=item.owner or "—",
        horizon=horizon,
        notes=item.notes or "—",
    )


def linked_lines(
    lines: list[str], items: tuple[ActionItem, ...], filed: Mapping[str, FiledIssue]
) -> list[str]:
    """report.md's lines with each filed action linked to its issue, on its checklist line and
    in the tracking table (a row added there for an action the table did not list)."""
    lines = list(lines)
    added = []
    for item in items:
        issue = filed.get(item.key)
        if issue is None:
            continue
        link = f"[{issue.key}]({issue.url})"
        if item.table_line is None or item.table_line != item.line:
            lines[item.line - 1] += f" — {link}"
        if item.table_line is not None:
            row = lines[item.table_line - 1]
            start = row.index("|") + 1
            end = row.index("|", start) if "|" in row[start:] else len(row)
            lines[item.table_line - 1] = f"{row[:end].rstrip()} {link} {row[end:]}"
        else:
            due = item.due_date.isoformat() if item.due_date else ""
            mark = _STATUS_MARK.get(item.status, "⏳")
            added.append(f"| {item.text} {link} | {item.owner or ''} | {mark} | {due} | |")
    after = table_end(lines)
    if added and after is not None:
        lines[after:after] = added
    return lines


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


def table_end(lines: list[str]) -> int | None:
    """The index just after the tracking table's last row, None without a table."""
    rows = tracking_table_lines(lines)
    return rows[-1] if rows else None
