"""The Confluence client: the only code that talks to Confluence (`atlassian-python-api`).

Imported only when `confluence.url` and `confluence.space` are set. The session, the account
and the faults are `collector.sources.atlassian`'s, shared with the Jira client. The calls are
Confluence's REST v1 content API (`<url>/rest/api/content…`), which Cloud and Data Center both
serve and whose attachment upload has no v2 equivalent; they are made through the library's
request methods rather than its page helpers, which add calls and fields Cloud's published
document does not have (tests/test_atlassian_contract.py checks every one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from collector.config.settings import AtlassianCredentials, ConfluenceSettings
from collector.sources.atlassian import FilingError, client_options, guarded_call
from collector.sources.http_guard import origin

__all__ = ["ConfluenceClient", "FilingError", "Page"]

CONTENT = "rest/api/content"
# A page or attachment ID goes into request paths and the page's URL: digits only.
CONTENT_ID = re.compile(r"[0-9]{1,20}")
# Attachments are uploaded as a form: Confluence refuses one without this header (XSRF check).
UPLOAD_HEADERS = {"X-Atlassian-Token": "no-check", "Accept": "application/json"}


@dataclass(frozen=True)
class Page:
    """A page as Confluence answered it: its ID, its current version and where people read it."""

    id: str
    version: int
    url: str


class ConfluenceClient:
    """Find, create and update pages in one space, and attach files to them."""

    def __init__(
        self, settings: ConfluenceSettings, credentials: AtlassianCredentials, ca_file: str | None
    ) -> None:
        from atlassian import Confluence

        assert settings.url and settings.space  # callers check `settings.configured`
        self._settings = settings
        self._url = str(settings.url).rstrip("/")
        self._service = f"Confluence at {origin(self._url)}"
        options = client_options(credentials, ca_file, settings.timeout)
        # cloud=False: the REST v1 client on Cloud too (5.0.5's Cloud object has no v1 pages).
        self._wiki = Confluence(url=self._url, cloud=False, **options)  # type: ignore[no-untyped-call]

    def page(self, page_id: str) -> Page | None:
        """The page `page_id`, or None when Confluence has no such page (deleted, moved away)."""
        if not CONTENT_ID.fullmatch(page_id):
            return None
        try:
            found = self._call(self._wiki.get, f"{CONTENT}/{page_id}", params={"expand": "version"})
        except FilingError as exc:
            if exc.status == 404:
                return None
            raise
        return self._page(found)

    def find_page(self, title: str) -> Page | None:
        """The page of the space titled `title` (a title is unique in a space), if any."""
        params = {
            "spaceKey": self._settings.space,
            "title": title,
            "type": "page",
            "expand": "version",
        }
        found = self._call(self._wiki.get, CONTENT, params=params)
        results = found.get("results") if isinstance(found, dict) else None
        for result in results or []:
            if isinstance(result, dict) and result.get("title") == title:
                return self._page(result)
        return None

    def create(self, title: str, body: str, parent_id: str | None) -> Page:
        """A new page of the space, under `parent_id` when given."""
        data: dict[str, Any] = {
            "type": "page",
            "title": title,
            "space": {"key": self._settings.space},
            "body": {"storage": {"value": body, "representation": "storage"}},
        }
        if parent_id:
            data["ancestors"] = [{"id": parent_id}]
        return self._page(self._call(self._wiki.post, CONTENT, data=data))

    def update(self, page: Page, title: str, body: str) -> Page:
        """A new version of `page` (the one after its current version), where it is."""
        data = {
            "version": {"number": page.version + 1},
            "type": "page",
            "title": title,
            "body": {"storage": {"value": body, "representation": "storage"}},
        }
        return self._page(self._call(self._wiki.put, f"{CONTENT}/{page.id}", data=data))

    def attach(self, page: Page, name: str, data: bytes, media_type: str) -> None:
        """Attach `data` to `page` as `name`: a new version when the page has one of that name."""
        path = f"{CONTENT}/{page.id}/child/attachment"
        listed = self._call(self._wiki.get, path, params={"filename": name})
        existing = [
            str(a.get("id"))
            for a in (listed.get("results") if isinstance(listed, dict) else None) or []
            if isinstance(a, dict) and a.get("title") == name
        ]
        if existing and CONTENT_ID.fullmatch(existing[0].removeprefix("att")):
            path = f"{path}/{existing[0]}/data"
        files = {"file": (name, data, media_type)}
        self._call(
            self._wiki.post,
            path,
            data={"minorEdit": "true"},
            files=files,
            headers=UPLOAD_HEADERS,
        )

    def _page(self, answer: object) -> Page:
        page = answer if isinstance(answer, dict) else {}
        page_id = str(page.get("id") or "")
        number = (page.get("version") or {}).get("number")
        if not CONTENT_ID.fullmatch(page_id) or not isinstance(number, int):
            raise FilingError(f"{self._service} answered without a page ID and version")
        return Page(page_id, number, self._web_url(page_id, page.get("_links")))

    def _web_url(self, page_id: str, links: object) -> str:
        """The page as people open it: its `webui` path under the configured site."""
        webui = links.get("webui") if isinstance(links, dict) else None
        if isinstance(webui, str) and webui.startswith("/") and not webui.startswith("//"):
            if not any(c.isspace() or c in '"<>' for c in webui):
                return f"{self._url}{webui}"
        return f"{self._url}/pages/viewpage.action?pageId={page_id}"

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        return guarded_call(self._service, self._settings.timeout, method, *args, **kwargs)
