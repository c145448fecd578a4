"""Publish the final report as one Confluence page (`collect --finalize`), never two.

The page is titled `<start date> <ID> — <title>`, its body report.html's in Confluence's storage
format, its charts attached and shown in place, under `confluence.parent_title` when set. The
page's ID is recorded in the report folder (PAGE_RECORD) as soon as it exists; finalizing again
updates that page (a new version). With the record lost, the space is searched by the title
first, so an existing page is updated rather than doubled. A fault of Confluence's leaves the
final written: one warning line, and the next finalize publishes again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector.config import Config
from collector.files import read_regular_file, write_json_atomically
from collector.paths import path_under
from report.final.storage import StoragePage, storage_page

PAGE_RECORD = ".confluence.json"
TITLE_LIMIT = 255  # Confluence's longest page title
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Publication:
    """Where the final report is in Confluence (None: not published), what to print and warn."""

    url: str | None
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def page_title(incident_id: str, document: dict[str, Any]) -> str:
    """`2025-10-27 P7DBOOM — PostgreSQL OOM on db-01`, within Confluence's 255 characters."""
    said_incident = document.get("incident")
    incident: dict[str, Any] = said_incident if isinstance(said_incident, dict) else {}
    started = str(incident.get("started_at") or incident.get("created_at") or "")[:10]
    day = started if re.fullmatch(r"\d{4}-\d{2}-\d{2}", started) else ""
    title = " ".join(_CONTROL.sub(" ", str(incident.get("title") or "")).split())
    said = " ".join(part for part in (day, incident_id) if part)
    return f"{said} — {title}"[:TITLE_LIMIT].rstrip() if title else said


def publish_final(config: Config, folder: Path, title: str, html: str) -> Publication:
    """Publish (or update) the page of the final whose HTML is `html`, its charts in `folder`."""
    recorded = read_page_record(folder)
    settings = config.confluence
    if not settings.configured:
        return Publication(recorded.get("url"))
    credentials = config.atlassian
    if not credentials.api_token:
        needs = "set ATLASSIAN_USER and ATLASSIAN_API_TOKEN"
        return Publication(None, warnings=[f"Confluence: not published: {needs}"])
    try:
        from collector.sources.confluence import ConfluenceClient, FilingError
    except ImportError:
        extra = "pip install 'incident-timeline-collector[atlassian]'"
        return Publication(None, warnings=[f"Confluence: not published: {extra}"])
    client = ConfluenceClient(settings, credentials, config.ca_file)
    page = storage_page(html)
    try:
        return _publish(client, folder, title, page, recorded, settings.parent_title)
    except FilingError as exc:
        # A page published before keeps its address; it shows the previous final meanwhile.
        warning = (
            f"Confluence: {exc}; the final report not published (retried on the next finalize)"
        )
        return Publication(recorded.get("url"), warnings=[warning])


def _publish(
    client: Any,
    folder: Path,
    title: str,
    page: StoragePage,
    recorded: dict[str, str],
    parent_title: str | None,
) -> Publication:
    """Update the recorded page, or the space's page of this title, or create it: once."""
    found = client.page(recorded["page_id"]) if recorded.get("page_id") else None
    found = found or client.find_page(title)
    if found is None:
        parent = _parent_id(client, parent_title)
        created = client.create(title, page.body, parent)
        _write_record(folder, created)  # before the charts: a fault there is retried, not doubled
        _attach(client, created, folder, page.attachments)
        return Publication(
            created.url, [f"published the final report in Confluence: {created.url}"]
        )
    _write_record(folder, found)
    # The charts first: the new version shows them from its first view.
    _attach(client, found, folder, page.attachments)
    updated = client.update(found, title, page.body)
    _write_record(folder, updated)
    line = f"updated the final report in Confluence (version {updated.version}): {updated.url}"
    return Publication(updated.url, [line])


def _parent_id(client: Any, parent_title: str | None) -> str | None:
    """The parent page's ID; a parent named but missing is a fault (never the space's top)."""
    from collector.sources.confluence import FilingError

    if not parent_title:
        return None
    parent = client.find_page(parent_title)
    if parent is None:
        raise FilingError(f"no page titled {parent_title!r} to publish under")
    return str(parent.id)


def _attach(client: Any, page: Any, folder: Path, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            data = read_regular_file(path_under(folder, f"charts/{name}"))
        except (OSError, ValueError):  # a chart a person linked that is not there
            continue
        client.attach(page, name, data, "image/png")


def read_page_record(folder: Path) -> dict[str, str]:
    """The page recorded in `folder` ({"page_id", "url"}); {} when none or unreadable."""
    try:
        document = json.loads(read_regular_file(folder / PAGE_RECORD).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    page_id, url = document.get("page_id"), document.get("url")
    if not isinstance(page_id, str) or not page_id.isdigit() or not isinstance(url, str):
        return {}
    return {"page_id": page_id, "url": url}


def _write_record(folder: Path, page: Any) -> None:
    write_json_atomically(folder / PAGE_RECORD, {"page_id": page.id, "url": page.url})
