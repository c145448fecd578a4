"""File the final's action items in Jira, each exactly once (`collect --finalize`).

An action is filed when it is still to do and has an owner and a due date (see
`can_be_filed`). What was filed is recorded in the report folder (FILED_RECORD, the action's
words → its issue) after each issue, so a run stopped half-way files the rest next time and
never the same twice. Before creating anything, Jira itself is asked which issues of this
incident exist (a JQL search on the labels `postmortem` and `incident-<ID>`): an action whose
issue is there, with the record lost, keeps that issue. A fault of Jira's leaves the final
written: one warning line, and the actions not filed are filed on the next finalize.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector.config import Config
from collector.files import read_regular_file, write_json_atomically
from collector.records import FiledIssue
from report.final.action_table import can_be_filed, issue_description, issue_summary
from report.final.actions import ActionItem

FILED_RECORD = ".filed.json"
LABEL = "postmortem"
_EMAIL = re.compile(r"[^@\s<>()]+@[^@\s<>()]+\.[^@\s<>()]+")


@dataclass(frozen=True)
class Filing:
    """The issues of the actions filed (by action key), what to print, what to warn of."""

    filed: dict[str, FiledIssue]
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def file_actions(
    config: Config,
    folder: Path,
    actions: tuple[ActionItem, ...],
    links: Mapping[str, str],
    language: str,
) -> Filing:
    """File in Jira each action not filed yet; the issues of all filed ones.

    `links` is what the issue's description links to (see `issue_description`)."""
    recorded = read_filed(folder)
    jira = config.jira
    due = [a for a in actions if can_be_filed(a) and a.key not in recorded]
    if not jira.configured or not due:
        return Filing(recorded)
    credentials = config.atlassian
    if not credentials.api_token or (jira.cloud and not credentials.user):
        needs = "ATLASSIAN_USER and ATLASSIAN_API_TOKEN" if jira.cloud else "ATLASSIAN_API_TOKEN"
        return Filing(recorded, warnings=[f"Jira: {len(due)} actions not filed: set {needs}"])
    try:
        from collector.sources.jira import FilingError, JiraClient
    except ImportError:
        extra = "pip install 'incident-timeline-collector[atlassian]'"
        return Filing(recorded, warnings=[f"Jira: {len(due)} actions not filed: {extra}"])
    client = JiraClient(jira, credentials, config.ca_file)
    labels = (LABEL, f"incident-{links['incident']}")
    created: list[str] = []
    try:
        existing = client.labelled_issues(labels)
        for item in due:
            issue = existing.get(issue_summary(item))
            if issue is None:
                issue = client.create(_new_issue(client, item, links, labels, language))
                created.append(issue.key)
            recorded[item.key] = issue
            _write_filed(folder, recorded)
    except FilingError as exc:
        left = len(due) - sum(1 for item in due if item.key in recorded)
        warning = f"Jira: {exc}; {left} actions not filed (filed on the next finalize)"
        return Filing(recorded, _created_line(created), [warning])
    return Filing(recorded, _created_line(created))


def _new_issue(
    client: Any,
    item: ActionItem,
    links: Mapping[str, str],
    labels: tuple[str, ...],
    language: str,
) -> Any:
    from collector.sources.jira import FilingError, NewIssue

    email = _EMAIL.search(item.owner or "")
    account = None
    if email is not None:
        try:
            account = client.account_for(email[0])
        except FilingError:  # no permission to browse users: the owner stays in the words
            account = None
    assert item.due_date is not None  # can_be_filed
    return NewIssue(
        summary=issue_summary(item),
        description=issue_description(item, links, language),
        due_date=item.due_date.isoformat(),
        labels=labels,
        account_id=account,
    )


def _created_line(created: list[str]) -> list[str]:
    return [f"filed {len(created)} actions in Jira: {', '.join(created)}"] if created else []


def read_filed(folder: Path) -> dict[str, FiledIssue]:
    """The Jira issues recorded in `folder`, by action key; {} when none or unreadable."""
    try:
        document = json.loads(read_regular_file(folder / FILED_RECORD).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    jira = document.get("jira") if isinstance(document, dict) else None
    if not isinstance(jira, dict):
        return {}
    return {
        str(key): FiledIssue(str(entry["key"]), str(entry["url"]))
        for key, entry in jira.items()
        if isinstance(entry, dict) and entry.get("key") and entry.get("url")
    }


def _write_filed(folder: Path, filed: dict[str, FiledIssue]) -> None:
    entries = {key: {"key": issue.key, "url": issue.url} for key, issue in filed.items()}
    write_json_atomically(folder / FILED_RECORD, {"jira": entries})
