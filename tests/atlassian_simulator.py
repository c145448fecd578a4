"""A Jira Cloud simulator: HTTPS on loopback, the calls the collector makes, fault injection.

Jira cannot be reached from the test machines. This server answers what `collect --finalize`
asks when it files action items, the way Jira Cloud does (tests/contracts/jira.openapi.json,
reduced from Atlassian's published document, is what test_atlassian_contract.py checks every
recorded request and answer against):

* auth: HTTP basic with the account's e-mail and API token; anything else is a 401;
* ``POST /rest/api/{2,3}/issue`` with ``{"fields": {project, summary, issuetype, duedate,
  labels, assignee?, description}}``: 201 ``{"id", "key", "self"}``; an unknown project,
  issue type or account, a summary over 255 characters, a label with a space or a due date not
  ``YYYY-MM-DD`` is a 400 ``{"errorMessages": [], "errors": {field: message}}``;
* ``GET /rest/api/3/search/jql`` (the enhanced search; ``GET /rest/api/2/search`` is retired on
  Cloud and answers 410): the JQL the collector writes (``project = "X" AND labels = "a" AND
  …``), ``fields``, ``maxResults``, ``nextPageToken``; ``isLast`` on every page;
* ``GET /rest/api/{2,3}/user/search?query=``: users whose e-mail or name contains the query;
  a user who hides their e-mail is listed without ``emailAddress``, as Cloud does.

Faults (``inject``): an HTTP status (429 with the headers given, e.g. Retry-After; HTML for
502-504), ``"timeout"`` (answer after ``timeout_sleep`` seconds), ``"redirect"`` (a 302 to the
``Location`` header given). Requests and answers are recorded in order.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from xml.etree import ElementTree

import trustme
from pd_simulator import _Handler, _TlsServer

Json = dict[str, Any]
Query = dict[str, list[str]]
GATEWAY_STATUSES = frozenset({502, 503, 504})
DUE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLAUSE = re.compile(r'^\s*(project|labels)\s*=\s*"?([^"]*?)"?\s*$')


@dataclass(frozen=True)
class Exchange:
    """One request as the simulator saw it (header names lower-cased) and its answer."""

    method: str
    path: str
    query: Query
    headers: dict[str, str]
    body: object | None
    status: int
    answer: object | None  # the JSON answered, None when not JSON


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    fault: int | str
    remaining: int
    headers: dict[str, str]


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    json_body: object | None = None


class _WriteHandler(_Handler):
    """PagerDuty's handler, with PUT bodies read (Confluence updates pages with PUT)."""

    do_PUT = _Handler.do_POST


class _AtlassianServer(_TlsServer):
    def __init__(self, simulator: Any, context: ssl.SSLContext) -> None:
        super().__init__(simulator, context)
        self.RequestHandlerClass = _WriteHandler


class JiraError(Exception):
    """An error answer in Jira's shape: ``{"errorMessages": [...], "errors": {...}}``."""

    def __init__(self, status: int, messages: list[str] | None = None, **errors: str) -> None:
        super().__init__(status)
        self.status = status
        self.body = {"errorMessages": messages or [], "errors": errors}


def _decode_body(content_type: str, raw: bytes) -> object | None:
    """A JSON body as read; a form (multipart) as {field: its file name, or its text}."""
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        form: Json = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            form[str(name)] = (
                {"filename": filename, "data": payload}
                if filename
                else (payload.decode("utf-8", "replace"))
            )
        return form
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> _Reply:
    data = json.dumps(body).encode("utf-8")
    return _Reply(status, data, {"Content-Type": "application/json", **(headers or {})}, body)


class JiraSimulator:
    """Jira Cloud's issue, search and user-search calls over HTTPS on 127.0.0.1."""

    timeout_sleep: float = 5.0

    def __init__(
        self,
        user: str = "filer@example.com",
        token: str = "jira-test-token",
        *,
        projects: tuple[str, ...] = ("OPS",),
        issue_types: tuple[str, ...] = ("Task", "Bug"),
        users: tuple[Json, ...] = (),
    ) -> None:
        self.user, self.token = user, token
        self.projects, self.issue_types = projects, issue_types
        self.users = list(users)
        self.issues: list[Json] = []
        self.exchanges: list[Exchange] = []
        self.errors: list[BaseException] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _TlsServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> JiraSimulator:
        """Create the CA and certificate, bind a free port, serve in a background thread."""
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="jira-simulator-"))
        ca.cert_pem.write_to_path(str(self._tmpdir / "ca.pem"))
        self._server = _AtlassianServer(self, context)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join the thread; idempotent."""
        if self._server is None or self._thread is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> JiraSimulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>``, the site's URL."""
        assert self._server is not None, "simulator not started"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_path(self) -> Path:
        """PEM file of the test CA that signed the server's certificate."""
        assert self._tmpdir is not None, "simulator not started"
        return self._tmpdir / "ca.pem"

    def inject(
        self, path_regex: str, fault: int | str, *, times: int = 1, headers: Json | None = None
    ) -> None:
        """Answer the next `times` requests whose path matches with `fault` (see the module)."""
        with self._lock:
            self._faults.append(_Fault(re.compile(path_regex), fault, times, dict(headers or {})))

    def requests_to(self, method: str, fragment: str) -> list[Exchange]:
        """The recorded exchanges of `method` whose path contains `fragment`."""
        return [e for e in self.exchanges if e.method == method and fragment in e.path]

    # -- serving ---------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler, raw_body: bytes = b"") -> None:
        split = urlsplit(handler.path)
        query = parse_qs(split.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        body = _decode_body(headers.get("content-type", ""), raw_body)
        try:
            reply = self._answer(handler.command, split.path, query, headers, body, raw_body)
        except Exception as error:  # a simulator bug must surface, not hang the client
            self.errors.append(error)
            reply = _json(500, JiraError(500, ["simulator error"]).body)
        with self._lock:
            self.exchanges.append(
                Exchange(
                    handler.command,
                    split.path,
                    query,
                    headers,
                    body,
                    reply.status,
                    reply.json_body,
                )
            )
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)

    def _answer(
        self,
        method: str,
        path: str,
        query: Query,
        headers: dict[str, str],
        body: object,
        raw_body: bytes = b"",
    ) -> _Reply:
        fault = self._take_fault(path)
        if fault is not None:
            if fault.fault != "timeout":
                return self._fault_reply(fault)
            self._stopping.wait(self.timeout_sleep)
        if not self._authorized(headers.get("authorization", "")):
            return _json(401, JiraError(401, ["You are not authenticated."]).body)
        return self._route(method, path, query, headers, body, raw_body)

    def _route(
        self,
        method: str,
        path: str,
        query: Query,
        headers: dict[str, str],
        body: object,
        raw_body: bytes,
    ) -> _Reply:
        try:
            if method == "POST" and re.fullmatch(r"/rest/api/[23]/issue", path):
                return _json(201, self._create(body))
            if method == "GET" and path == "/rest/api/3/search/jql":
                return _json(200, self._search(query))
            if method == "GET" and path == "/rest/api/2/search":
                raise JiraError(410, ["The requested API has been removed."])
            if method == "GET" and re.fullmatch(r"/rest/api/[23]/user/search", path):
                return _json(200, self._user_search(query))
            raise JiraError(404, [f"{method} {path} is not served by this simulator"])
        except JiraError as error:
            return _json(error.status, error.body)

    def _authorized(self, authorization: str) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        return authorization == f"Basic {expected}"

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.pattern.search(path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @staticmethod
    def _fault_reply(fault: _Fault) -> _Reply:
        if fault.fault == "redirect":
            return _Reply(302, b"", {"Content-Length": "0", **fault.headers})
        status = int(fault.fault)
        if status in GATEWAY_STATUSES:
            html = f"<html><body>{status} {HTTPStatus(status).phrase}</body></html>".encode()
            return _Reply(status, html, {"Content-Type": "text/html", **fault.headers})
        return _json(status, JiraError(status, [HTTPStatus(status).phrase]).body, fault.headers)

    # -- the API ---------------------------------------------------------------------------

    def _create(self, body: object) -> Json:
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise JiraError(400, ["fields is required"])
        project = (fields.get("project") or {}).get("key")
        if project not in self.projects:
            raise JiraError(400, project="valid project is required")
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            raise JiraError(400, issuetype="Specify a valid issue type")
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 255:
            raise JiraError(400, summary="Summary must be less than 255 characters.")
        if not DUE_DATE.match(str(fields.get("duedate", ""))):
            raise JiraError(400, duedate="Error parsing date string")
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or any(" " in str(label) for label in labels):
            raise JiraError(400, labels="The label can't contain spaces.")
        assignee = (fields.get("assignee") or {}).get("accountId")
        if assignee is not None and assignee not in {u["accountId"] for u in self.users}:
            raise JiraError(400, assignee="User does not exist")
        with self._lock:
            number = len(self.issues) + 1
            issue = {"id": str(10000 + number), "key": f"{project}-{number}", "fields": fields}
            self.issues.append(issue)
        return {
            "id": issue["id"],
            "key": issue["key"],
            "self": f"{self.url}/rest/api/2/issue/{issue['id']}",
        }

    def _search(self, query: Query) -> Json:
        wanted = self._matching(query.get("jql", [""])[0])
        size = min(int(query.get("maxResults", ["50"])[0]), 100)
        start = int(query.get("nextPageToken", ["0"])[0] or 0)
        page = wanted[start : start + size]
        names = [n for n in query.get("fields", ["*navigable"])[0].split(",") if n]
        issues = [
            {
                "id": i["id"],
                "key": i["key"],
                "self": f"{self.url}/rest/api/3/issue/{i['id']}",
                "fields": {n: i["fields"][n] for n in names if n in i["fields"]},
            }
            for i in page
        ]
        answer: Json = {"issues": issues, "isLast": start + size >= len(wanted)}
        if not answer["isLast"]:
            answer["nextPageToken"] = str(start + size)
        return answer

    def _matching(self, jql: str) -> list[Json]:
        """The issues matching JQL of the form `clause AND clause …` (project, labels)."""
        clauses = [_CLAUSE.match(part) for part in re.split(r"\s+AND\s+", jql, flags=re.I)]
        if not jql.strip() or any(c is None for c in clauses):
            raise JiraError(400, [f"Error in the JQL Query: {jql!r}"])
        found = []
        for issue in self.issues:
            fields = issue["fields"]
            labels = set(fields.get("labels") or ())
            project = (fields.get("project") or {}).get("key")
            if all(
                (c[2] in labels) if c[1] == "labels" else (c[2] == project)
                for c in clauses
                if c is not None
            ):
                found.append(issue)
        return found

    def _user_search(self, query: Query) -> list[Json]:
        said = query.get("query", [""])[0].casefold()
        if not said:
            raise JiraError(400, ["One of 'query' or 'accountId' must be given."])
        found = []
        for user in self.users:
            email = str(user.get("emailAddress", "")).casefold()
            if said in email or said in str(user.get("displayName", "")).casefold():
                shown = {k: v for k, v in user.items() if k != "hidden"}
                if user.get("hidden"):
                    shown.pop("emailAddress", None)
                found.append({"accountType": "atlassian", "active": True, **shown})
        return found


# -- Confluence -------------------------------------------------------------------------------

WIKI = "/wiki/rest/api/content"
STORAGE_NAMESPACES = (
    'xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource/identifier"'
)


class ConfluenceError(Exception):
    """An error answer in Confluence's v1 shape: ``{"statusCode", "message"}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"statusCode": status, "message": message}


class ConfluenceSimulator(JiraSimulator):
    """An Atlassian Cloud site: Jira's calls, and Confluence's REST v1 content calls under
    ``/wiki`` (the URL the collector is given is ``<site>/wiki``):

    * ``GET /wiki/rest/api/content?spaceKey=&title=&type=page&expand=version``: the pages of that
      title in the space (``{"results", "start", "limit", "size", "_links"}``);
    * ``GET /wiki/rest/api/content/{id}?expand=version``: one page, or 404;
    * ``POST /wiki/rest/api/content``: a page (``type``, ``title`` ≤ 255, ``space.key``,
      ``ancestors``, ``body.storage``); a title already in the space, an unknown space or parent,
      or a body that is not well-formed storage XHTML is a 400;
    * ``PUT /wiki/rest/api/content/{id}``: a new version, whose number must be the current + 1
      (else 409), same checks;
    * ``GET /wiki/rest/api/content/{id}/child/attachment?filename=``: the page's attachments;
    * ``POST /wiki/rest/api/content/{id}/child/attachment`` (multipart ``file``, ``minorEdit``;
      ``X-Atlassian-Token: no-check`` required, else 403): a new attachment, 400 when the page has
      one of that name; ``POST …/child/attachment/{attachmentId}/data``: its new version.
    """

    def __init__(
        self,
        user: str = "filer@example.com",
        token: str = "jira-test-token",
        *,
        spaces: tuple[str, ...] = ("OPS",),
        page_titles: tuple[str, ...] = (),
    ) -> None:
        super().__init__(user, token)
        self.spaces = spaces
        self.pages: dict[str, Json] = {}
        for title in page_titles:
            self._add_page(spaces[0], title, "<p>existing</p>", None)

    @property
    def wiki_url(self) -> str:
        """``https://127.0.0.1:<port>/wiki``, what `confluence.url` is set to."""
        return f"{self.url}/wiki"

    def page_titled(self, title: str) -> Json | None:
        """The page titled `title`, as stored (body, version, parent, attachments)."""
        return next((p for p in self.pages.values() if p["title"] == title), None)

    def _route(
        self,
        method: str,
        path: str,
        query: Query,
        headers: dict[str, str],
        body: object,
        raw_body: bytes,
    ) -> _Reply:
        if not path.startswith("/wiki/"):
            return super()._route(method, path, query, headers, body, raw_body)
        try:
            return _json(200, self._wiki(method, path, query, headers, body))
        except ConfluenceError as error:
            return _json(error.status, error.body)

    def _wiki(
        self, method: str, path: str, query: Query, headers: dict[str, str], body: object
    ) -> Json:
        parts = path.removeprefix(WIKI).strip("/").split("/") if path.startswith(WIKI) else None
        if parts == [""] and method == "GET":
            return self._search(query)
        if parts == [""] and method == "POST":
            return self._create_page(body)
        if parts and len(parts) == 1 and method in ("GET", "PUT"):
            page = self._page(parts[0])
            return self._content(page) if method == "GET" else self._update_page(page, body)
        if parts and parts[1:3] == ["child", "attachment"]:
            page = self._page(parts[0])
            if method == "GET" and len(parts) == 3:
                return self._attachments(page, query)
            if method == "POST" and len(parts) in (3, 5):
                if headers.get("x-atlassian-token") != "no-check":
                    raise ConfluenceError(403, "XSRF check failed")
                return self._attach(page, parts[3] if len(parts) == 5 else None, body)
        raise ConfluenceError(404, f"{method} {path} is not served by this simulator")

    # -- pages -----------------------------------------------------------------------------

    def _page(self, page_id: str) -> Json:
        page = self.pages.get(page_id)
        if page is None:
            raise ConfluenceError(404, f"No content found with id: {page_id}")
        return page

    def _search(self, query: Query) -> Json:
        space, title = query.get("spaceKey", [""])[0], query.get("title", [None])[0]
        found = [
            self._content(p)
            for p in self.pages.values()
            if p["space"] == space and (title is None or p["title"] == title)
        ]
        return {"results": found, "start": 0, "limit": 25, "size": len(found), "_links": {}}

    def _create_page(self, body: object) -> Json:
        data = body if isinstance(body, dict) else {}
        if data.get("type") != "page":
            raise ConfluenceError(400, "type is required")
        space = (data.get("space") or {}).get("key")
        if space not in self.spaces:
            raise ConfluenceError(400, f"No space with key : {space}")
        ancestors = data.get("ancestors") or []
        parent = ancestors[-1].get("id") if ancestors else None
        if parent is not None and parent not in self.pages:
            raise ConfluenceError(400, f"No parent with id {parent}")
        title = self._checked_title(space, data.get("title"), None)
        page = self._add_page(space, title, self._checked_body(data), parent)
        return self._content(page)

    def _update_page(self, page: Json, body: object) -> Json:
        data = body if isinstance(body, dict) else {}
        number = (data.get("version") or {}).get("number")
        if number != page["version"] + 1:
            raise ConfluenceError(
                409, f"Version must be incremented on update. Current: {page['version']}"
            )
        page["title"] = self._checked_title(page["space"], data.get("title"), page["id"])
        page["body"] = self._checked_body(data)
        page["version"] = number
        return self._content(page)

    def _checked_title(self, space: str, title: object, own: str | None) -> str:
        if not isinstance(title, str) or not title.strip() or len(title) > 255:
            raise ConfluenceError(400, "A page title is required (at most 255 characters)")
        for page in self.pages.values():
            if page["space"] == space and page["title"] == title and page["id"] != own:
                raise ConfluenceError(400, "A page with this title already exists")
        return title

    @staticmethod
    def _checked_body(data: Json) -> str:
        storage = ((data.get("body") or {}).get("storage")) or {}
        value = storage.get("value")
        if storage.get("representation") != "storage" or not isinstance(value, str):
            raise ConfluenceError(400, "body.storage is required")
        try:
            ElementTree.fromstring(f"<root {STORAGE_NAMESPACES}>{value}</root>")
        except ElementTree.ParseError as error:
            raise ConfluenceError(400, f"Error parsing xhtml: {error}") from None
        return value

    def _add_page(self, space: str, title: str, body: str, parent: str | None) -> Json:
        with self._lock:
            page_id = str(65536 + len(self.pages) + 1)
            page = {"id": page_id, "space": space, "title": title, "body": body, "version": 1}
            page.update(parent=parent, attachments={})
            self.pages[page_id] = page
        return page

    def _content(self, page: Json) -> Json:
        slug = "+".join(quote(word, safe="") for word in page["title"].split())
        return {
            "id": page["id"],
            "type": "page",
            "status": "current",
            "title": page["title"],
            "space": {
                "key": page["space"],
                "name": page["space"],
                "type": "global",
                "status": "current",
                "_expandable": {},
                "_links": {},
            },
            "version": _version(page["version"]),
            "_links": {
                "webui": f"/spaces/{page['space']}/pages/{page['id']}/{slug}",
                "base": self.wiki_url,
                "self": f"{self.wiki_url}/rest/api/content/{page['id']}",
            },
        }

    # -- attachments -----------------------------------------------------------------------

    def _attachments(self, page: Json, query: Query) -> Json:
        name = query.get("filename", [None])[0]
        found = [
            _attachment_content(a)
            for a in page["attachments"].values()
            if name in (None, a["title"])
        ]
        return {"results": found, "start": 0, "limit": 50, "size": len(found), "_links": {}}

    def _attach(self, page: Json, attachment_id: str | None, body: object) -> Json:
        form = body if isinstance(body, dict) else {}
        upload = form.get("file")
        if not isinstance(upload, dict) or "minorEdit" not in form:
            raise ConfluenceError(400, "file and minorEdit are required")
        name = str(upload["filename"])
        existing = page["attachments"].get(name)
        if attachment_id is None:
            if existing is not None:
                raise ConfluenceError(
                    400, f"Cannot add a new attachment with same file name: {name}"
                )
            attachment = {
                "id": f"att{70000 + sum(len(p['attachments']) for p in self.pages.values())}"
            }
            attachment.update(title=name, version=1, data=upload["data"])
            page["attachments"][name] = attachment
            return {"results": [_attachment_content(attachment)], "size": 1, "_links": {}}
        if existing is None or existing["id"] != attachment_id:
            raise ConfluenceError(404, f"No attachment {attachment_id}")
        existing.update(version=existing["version"] + 1, data=upload["data"])
        return _attachment_content(existing)


def _version(number: int) -> Json:
    return {"number": number, "minorEdit": False, "when": "2025-10-27T10:00:00.000Z", "_links": {}}


def _attachment_content(attachment: Json) -> Json:
    return {
        "id": attachment["id"],
        "type": "attachment",
        "status": "current",
        "title": attachment["title"],
        "version": _version(attachment["version"]),
        "extensions": {"mediaType": "image/png", "fileSize": len(attachment["data"])},
        "_links": {},
    }
