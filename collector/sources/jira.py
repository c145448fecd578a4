"""The Jira client: the only code that talks to Jira (`atlassian-python-api`, optional extra).

Imported only when `jira.url` and `jira.project` are set, so a finalize without them loads no
Atlassian library. The session, the account and the faults are `collector.sources.atlassian`'s
(shared with the Confluence client): each attempt ends within `jira.timeout_seconds`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from collector.config.settings import AtlassianCredentials, JiraSettings
from collector.records import FiledIssue
from collector.sources.atlassian import FilingError, client_options, guarded_call
from collector.sources.http_guard import origin

__all__ = ["FilingError", "JiraClient", "NewIssue"]
SEARCH_PAGE = 100
MAX_PAGES = 20  # 2,000 issues of one incident: more is not an incident's follow-up
# An issue key as Jira makes them: it goes into links and Markdown, so nothing else is taken.
ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,254}-[1-9][0-9]{0,17}")


@dataclass(frozen=True)
class NewIssue:
    """An issue to create: what the action says, in Jira's fields."""

    summary: str
    description: str
    due_date: str  # YYYY-MM-DD
    labels: tuple[str, ...]
    account_id: str | None = None


class JiraClient:
    """Search, look up users and create issues in one project, through a guarded session."""

    def __init__(
        self, settings: JiraSettings, credentials: AtlassianCredentials, ca_file: str | None
    ) -> None:
        from atlassian import Jira

        assert settings.url and settings.project  # callers check `settings.configured`
        self._settings = settings
        self._server = origin(settings.url)
        options = client_options(credentials, ca_file, settings.timeout)
        self._jira = Jira(url=settings.url, cloud=settings.cloud, **options)

    def labelled_issues(self, labels: tuple[str, ...]) -> dict[str, FiledIssue]:
        """The project's issues with every label of `labels`, by their summary."""
        terms = " AND ".join(f'labels = "{label}"' for label in labels)
        jql = f'project = "{self._settings.project}" AND {terms}'
        found = {}
        for issue in self._call(self._search, jql):
            summary = str((issue.get("fields") or {}).get("summary") or "")
            key = str(issue.get("key") or "")
            if ISSUE_KEY.fullmatch(key):
                found[summary] = FiledIssue(key, self.browse_url(key))
        return found

    def _search(self, jql: str) -> list[dict[str, Any]]:
        issues: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            if self._settings.cloud:
                page = self._jira.enhanced_jql(
                    jql, fields="summary", nextPageToken=token, limit=SEARCH_PAGE
                )
            else:
                page = self._jira.jql(jql, fields="summary", start=len(issues), limit=SEARCH_PAGE)
            batch = list(_issues(page))
            issues += batch
            if not batch or not isinstance(page, dict) or _last_page(page, len(issues)):
                break
            token = page.get("nextPageToken")
        return issues

    def account_for(self, email: str) -> str | None:
        """The account ID of the user with this e-mail, when Jira shows exactly who it is."""
        # Not `user_find_by_user_string`: it adds Data Center's includeActive/includeInactive,
        # which Cloud's published user search does not take (test_atlassian_contract.py).
        url = self._jira.resource_url("user/search")
        users = self._call(self._jira.get, url, params={"query": email, "maxResults": 2})
        if not isinstance(users, list):
            return None
        exact = [u for u in users if str(u.get("emailAddress", "")).casefold() == email.casefold()]
        chosen = exact or (users if len(users) == 1 else [])
        account = chosen[0].get("accountId") if chosen else None
        return str(account) if account else None

    def create(self, issue: NewIssue) -> FiledIssue:
        """Create one issue in the project; its key and page."""
        fields: dict[str, Any] = {
            "project": {"key": self._settings.project},
            "summary": issue.summary,
            "description": issue.description,
            "issuetype": {"name": self._settings.issue_type},
            "duedate": issue.due_date,
            "labels": list(issue.labels),
        }
        if issue.account_id:
            fields["assignee"] = {"accountId": issue.account_id}
        created = self._call(self._jira.issue_create, fields=fields)
        key = created.get("key") if isinstance(created, dict) else None
        if not isinstance(key, str) or not ISSUE_KEY.fullmatch(key):
            raise FilingError(f"Jira at {self._server} created an issue but gave no issue key")
        return FiledIssue(str(key), self.browse_url(str(key)))

    def browse_url(self, key: str) -> str:
        """The page people open for the issue `key`."""
        return f"{str(self._settings.url).rstrip('/')}/browse/{key}"

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        service = f"Jira at {self._server}"
        return guarded_call(service, self._settings.timeout, method, *args, **kwargs)


def _issues(page: Any) -> Iterator[dict[str, Any]]:
    issues = page.get("issues") if isinstance(page, dict) else None
    for issue in issues or []:
        if isinstance(issue, dict):
            yield issue


def _last_page(page: dict[str, Any], seen: int) -> bool:
    """Cloud's enhanced search says `isLast` (or gives no next token); Data Center a `total`."""
    if "isLast" in page or "nextPageToken" in page:
        return bool(page.get("isLast")) or not page.get("nextPageToken")
    return seen >= int(page.get("total") or 0)
