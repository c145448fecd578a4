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
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme
from pd_simulator import _TlsServer

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


class JiraError(Exception):
    """An error answer in Jira's shape: ``{"errorMessages": [...], "errors": {...}}``."""

    def __init__(self, status: int, messages: list[str] | None = None, **errors: str) -> None:
        super().__init__(status)
        self.status = status
        self.body = {"errorMessages": messages or [], "errors": errors}


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
        self._server = _TlsServer(self, context)  # type: ignore[arg-type]
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
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = None
        try:
            reply = self._answer(handler.command, split.path, query, headers, body)
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
        self, method: str, path: str, query: Query, headers: dict[str, str], body: object
    ) -> _Reply:
        fault = self._take_fault(path)
        if fault is not None:
            if fault.fault != "timeout":
                return self._fault_reply(fault)
            self._stopping.wait(self.timeout_sleep)
        if not self._authorized(headers.get("authorization", "")):
            return _json(401, JiraError(401, ["You are not authenticated."]).body)
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
