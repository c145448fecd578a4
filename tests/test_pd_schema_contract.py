"""Contract test: every JSON body the simulator sends must validate against PagerDuty's OpenAPI.

The contract is PagerDuty's official schema reduced to what the simulator serves
(``tests/contracts/pagerduty.openapi.json``, committed, made by
``tests/contracts/reduce_pagerduty_openapi.py``), so the test runs on a clone alone. It is loaded
into a ``referencing`` registry and each response is checked with ``OAS30Validator`` against the
schema of its operation (method + path template + status). When the full document is at hand
(``../shared/pagerduty/openapiv3.json`` beside the checkout, or ``$PAGERDUTY_OPENAPI_SCHEMA``),
test_pd_contract_reduction.py proves the committed reduction current.

The schema has known defects: PagerDuty's own examples in it do not validate strictly (see
``shared/reference/pagerduty-prometheus-api.md`` §9). They are handled by ``ALLOW_LIST``, an
explicit list of patches to an in-memory copy of the contract, each with the reason it exists.
``test_each_allow_list_entry_is_needed`` proves every entry is still required, and the negative
tests prove the patched contract still rejects broken bodies.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from pd_simulator import PagerDutySimulator, RecordedResponse
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from collector.config import PagerDutySettings
from collector.sources.pagerduty import post_incident_note

REDUCER_PATH = Path(__file__).resolve().parent / "contracts" / "reduce_pagerduty_openapi.py"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pagerduty"
INCIDENT_IDS = ("P7DBOOM", "PBIGLOG", "PLOWURG")
TOKEN = "test-token"
BASE_URI = "urn:pagerduty:rest-api-v2:openapiv3"
# The simulator answers unknown routes with the API's generic 404, which no operation owns.
UNROUTED_ERROR = "/components/responses/NotFound/content/application~1json/schema"
UNDOCUMENTED_LOG_ENTRY_TYPES = (
    "priority_change_log_entry",
    "status_update_log_entry",
    "responder_request_log_entry",
    "reassign_log_entry",
)

Spec = dict[str, Any]


# -- the allow-list of schema defects --------------------------------------------------------


def _node(spec: Spec, pointer: str) -> Any:
    """Resolve a JSON pointer inside the loaded schema."""
    node: Any = spec
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _channel_any_of(spec: Spec) -> None:
    channel = _node(spec, "/components/schemas/Channel")
    assert "oneOf" in channel, "Channel.oneOf is gone upstream: drop this allow-list entry"
    channel["anyOf"] = channel.pop("oneOf")


def _acknowledge_spelling(spec: Spec) -> None:
    enum = _node(spec, "/components/schemas/AcknowledgeLogEntry/allOf/1/properties/type/enum")
    assert enum == ["acknowledgement_log_entry"], "AcknowledgeLogEntry.type changed upstream"
    enum.append("acknowledge_log_entry")


def _undocumented_log_entry_types(spec: Spec) -> None:
    schemas = _node(spec, "/components/schemas")
    base_enum = _node(spec, "/components/schemas/LogEntry/allOf/1/properties/type/enum")
    base_enum.extend(UNDOCUMENTED_LOG_ENTRY_TYPES)
    # Validated against the common LogEntry base: the type must be one of these four, and
    # every other field must still match what all log entries share.
    schemas["UndocumentedLogEntry"] = {
        "allOf": [
            {"$ref": "#/components/schemas/LogEntry"},
            {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": list(UNDOCUMENTED_LOG_ENTRY_TYPES)}
                },
            },
        ]
    }
    items = _node(
        spec,
        "/paths/~1incidents~1{id}~1log_entries/get/responses/200/content/"
        "application~1json/schema/allOf/1/properties/log_entries/items/oneOf",
    )
    items.append({"$ref": "#/components/schemas/UndocumentedLogEntry"})


def _alerts_not_found(spec: Spec) -> None:
    responses = _node(spec, "/paths/~1incidents~1{id}~1alerts/get/responses")
    assert "404" not in responses, "GET /incidents/{id}/alerts documents 404 upstream now"
    responses["404"] = {"$ref": "#/components/responses/NotFound"}


def _nullable(pointer: str) -> Callable[[Spec], None]:
    """Allow ``null`` where the schema forgot ``nullable`` (works for ``$ref`` too)."""

    def patch(spec: Spec) -> None:
        *parent_path, key = pointer.lstrip("/").split("/")
        parent = _node(spec, "/" + "/".join(parent_path))
        original = parent[key]
        assert not original.get("nullable"), f"{pointer} is nullable upstream now"
        parent[key] = {"anyOf": [original, {"enum": [None]}]}

    return patch


def _note_created(spec: Spec) -> None:
    responses = _node(spec, "/paths/~1incidents~1{id}~1notes/post/responses")
    assert "201" not in responses, "createIncidentNote documents 201 upstream now"
    responses["201"] = responses["200"]


@dataclass(frozen=True)
class Defect:
    """One known defect of the official schema and the patch that works around it."""

    name: str
    reason: str
    patch: Callable[[Spec], None]


INCIDENT_PROPERTIES = "/components/schemas/Incident/allOf/1/properties"
ALLOW_LIST: tuple[Defect, ...] = (
    Defect(
        "channel-oneOf",
        "Channel's oneOf branches do not discriminate: {'type': 'api'} matches several "
        "of them, so every channel fails oneOf. Checked as anyOf.",
        _channel_any_of,
    ),
    Defect(
        "acknowledge-type-spelling",
        "AcknowledgeLogEntry spells its type 'acknowledgement_log_entry', which the base "
        "LogEntry enum (and real traffic) spell 'acknowledge_log_entry': no value can match.",
        _acknowledge_spelling,
    ),
    Defect(
        "undocumented-log-entry-types",
        "Real accounts emit priority_change, status_update, responder_request and "
        "reassign log entries, absent from the schema; checked against the LogEntry base.",
        _undocumented_log_entry_types,
    ),
    Defect(
        "note-201-undocumented",
        "createIncidentNote documents its answer as 200, but the API creates the note and "
        "answers 201 Created, as every create endpoint does (same body).",
        _note_created,
    ),
    Defect(
        "alerts-404-undocumented",
        "GET /incidents/{id}/alerts documents no 404, yet an unknown incident is a 404 "
        "there as on every sibling endpoint (same NotFound body).",
        _alerts_not_found,
    ),
    Defect(
        "incident-resolve_reason-nullable",
        "resolve_reason is null unless the incident was merged (the schema's own examples "
        "show null) but is not nullable.",
        _nullable(f"{INCIDENT_PROPERTIES}/resolve_reason"),
    ),
    Defect(
        "incident-priority-nullable",
        "priority is null on incidents without a priority (PBIGLOG) but is not nullable.",
        _nullable(f"{INCIDENT_PROPERTIES}/priority"),
    ),
    Defect(
        "incident-alert_grouping-nullable",
        "alert_grouping is documented as 'null if the incident has no alerts' and is null "
        "when grouping is off, but is not nullable.",
        _nullable(f"{INCIDENT_PROPERTIES}/alert_grouping"),
    ),
    Defect(
        "acknowledgement_timeout-nullable",
        "acknowledgement_timeout is documented as 'may also be null' (service without an "
        "ack timeout, PLOWURG) but typed as a plain integer.",
        _nullable(
            "/components/schemas/AcknowledgeLogEntry/allOf/1/properties/acknowledgement_timeout"
        ),
    ),
)


# -- loading and checking --------------------------------------------------------------------


def _import_reducer() -> ModuleType:
    """tests/contracts/reduce_pagerduty_openapi.py, a script rather than a package module."""
    spec = importlib.util.spec_from_file_location("reduce_pagerduty_openapi", REDUCER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REDUCER = _import_reducer()
REGENERATE = f"python {REDUCER_PATH.relative_to(REDUCER_PATH.parents[2])}"


def load_contract_text(path: Path) -> str:
    """Read the reduced contract, failing (never skipping) with the place looked at."""
    if not path.is_file():
        pytest.fail(
            f"PagerDuty contract not found at {path}: it is committed with the tests; "
            f"regenerate it with `{REGENERATE}` (needs the full openapiv3.json).",
            pytrace=False,
        )
    return path.read_text(encoding="utf-8")


@cache
def _schema_text() -> str:
    return load_contract_text(REDUCER.CONTRACT)


class UndocumentedResponse(LookupError):
    """The schema has no response definition for this method, path and status."""


class ContractChecker:
    """Validates recorded responses against the operation schemas of one (patched) spec."""

    def __init__(self, spec: Spec) -> None:
        resource = Resource.from_contents(spec, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(BASE_URI, resource)
        self._spec = spec
        self._routes = sorted(
            (
                (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$"), t)
                for t in spec["paths"]
            ),
            key=lambda route: route[1].count("{"),  # literal segments win over parameters
        )
        self._validators: dict[str, OAS30Validator] = {}

    def schema_pointer(self, method: str, path: str, status: int) -> str:
        """JSON pointer of the response schema for this method, concrete path and status."""
        template = next((t for pattern, t in self._routes if pattern.match(path)), None)
        if template is None:
            if status != 404:
                raise UndocumentedResponse(f"{method} {path} answered {status}, no operation")
            return UNROUTED_ERROR
        operation = self._spec["paths"][template].get(method.lower())
        if operation is None:
            raise UndocumentedResponse(f"{method} {template} is not in the schema")
        responses = operation["responses"]
        key = str(status) if str(status) in responses else "default"
        if key not in responses:
            raise UndocumentedResponse(f"status {status} is not documented for {method} {template}")
        escaped = template.replace("~", "~0").replace("/", "~1")
        pointer = f"/paths/{escaped}/{method.lower()}/responses/{key}"
        reference = responses[key].get("$ref")
        if reference:
            pointer = reference.removeprefix("#")
        return pointer + "/content/application~1json/schema"

    def request_errors(
        self, method: str, path: str, headers: dict[str, str], body: object
    ) -> list[str]:
        """Readable errors of one request: its JSON body and its required headers."""
        template = next((t for pattern, t in self._routes if pattern.match(path)), None)
        operation = self._spec["paths"][template][method.lower()] if template else None
        if operation is None:
            return [f"{method} {path} is not in the schema"]
        pointer = f"/paths/{template.replace('/', '~1')}/{method.lower()}"
        problems = []
        for reference in operation.get("parameters", ()):
            parameter = _node(self._spec, reference["$ref"].removeprefix("#"))
            if parameter["in"] != "header" or not parameter.get("required"):
                continue
            value = headers.get(parameter["name"].lower())
            if value is None:
                problems.append(f"{method} {path}: required header {parameter['name']} missing")
                continue
            where = f"{method} {path} header {parameter['name']}"
            problems += self._check(reference["$ref"].removeprefix("#") + "/schema", value, where)
        body_pointer = f"{pointer}/requestBody/content/application~1json/schema"
        return problems + self._check(body_pointer, body, f"{method} {path} body")

    def _check(self, pointer: str, instance: object, where: str) -> list[str]:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = OAS30Validator(
                {"$ref": f"{BASE_URI}#{pointer}"},
                registry=self._registry,
                format_checker=oas30_format_checker,
            )
            self._validators[pointer] = validator
        return [
            f"{where}: {error.json_path}: {error.message[:300]}"
            for error in validator.iter_errors(instance)
        ]

    def errors(self, method: str, path: str, status: int, body: object) -> list[str]:
        """Readable validation errors of one body (empty when it conforms)."""
        try:
            pointer = self.schema_pointer(method, path, status)
        except UndocumentedResponse as error:
            return [str(error)]
        validator = self._validators.get(pointer)
        if validator is None:
            validator = OAS30Validator(
                {"$ref": f"{BASE_URI}#{pointer}"},
                registry=self._registry,
                format_checker=oas30_format_checker,
            )
            self._validators[pointer] = validator
        return [
            f"{method} {path} -> {status}: {error.json_path}: {error.message[:300]}"
            for error in validator.iter_errors(body)
        ]


def build_checker(defects: Iterable[Defect] = ALLOW_LIST) -> ContractChecker:
    """A checker over a fresh copy of the schema with the given defects patched."""
    spec = json.loads(_schema_text())
    for defect in defects:
        defect.patch(spec)
    return ContractChecker(spec)


def assert_conforms(checker: ContractChecker, responses: Iterable[RecordedResponse]) -> int:
    """Fail with every non-conforming body listed; return how many bodies were checked."""
    problems: list[str] = []
    checked = 0
    for response in responses:
        if response.body is None:
            problems.append(f"{response.method} {response.path} -> {response.status}: not JSON")
            continue
        problems += checker.errors(response.method, response.path, response.status, response.body)
        checked += 1
    assert not problems, f"{len(problems)} schema violation(s):\n" + "\n".join(problems[:20])
    return checked


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    """The official schema with the allow-list applied."""
    return build_checker()


@pytest.fixture
def sim() -> Iterator[PagerDutySimulator]:
    """A fresh simulator, so ``sim.responses`` holds only what the test drove."""
    with PagerDutySimulator(FIXTURES, TOKEN) as simulator:
        yield simulator
    assert simulator.errors == []


def _http(sim: PagerDutySimulator, token: str = TOKEN) -> httpx2.Client:
    return httpx2.Client(
        base_url=sim.base_url,
        verify=sim.ssl_context(),
        headers={"Authorization": f"Token token={token}"},
    )


@pytest.fixture
def http(sim: PagerDutySimulator) -> Iterator[httpx2.Client]:
    """A plain HTTP client, so that error answers are recorded rather than raised."""
    with _http(sim) as client:
        yield client


def _get(http: httpx2.Client, path: str, params: Any = None, status: int = 200) -> Any:
    response = http.get(path, params=params)
    assert response.status_code == status, (path, params, response.text[:300])
    return response.json()


def _all_pages(http: httpx2.Client, path: str, params: list[tuple[str, str]]) -> int:
    """Walk every page with offset/limit; return the number of items seen."""
    offset, seen = 0, 0
    while True:
        body = _get(http, path, [*params, ("offset", str(offset))])
        items = next(value for key, value in body.items() if isinstance(value, list))
        seen += len(items)
        offset += len(items)
        if not body["more"]:
            return seen


# -- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("incident_id", INCIDENT_IDS)
def test_incident_bodies_conform(
    incident_id: str, sim: PagerDutySimulator, http: httpx2.Client, checker: ContractChecker
) -> None:
    """``GET /incidents/{id}``, plain, by number and with every include the simulator honours."""
    incident = _get(http, f"/incidents/{incident_id}")["incident"]
    _get(http, f"/incidents/{incident['incident_number']}")
    _get(
        http,
        f"/incidents/{incident_id}",
        [("include[]", "conference_bridge"), ("include[]", "first_trigger_log_entries")],
    )
    assert assert_conforms(checker, sim.responses) == 3


# PBIGLOG's thousands of log entries are each checked in full: slow.
LOG_ENTRY_CASES = ["P7DBOOM", pytest.param("PBIGLOG", marks=pytest.mark.slow), "PLOWURG"]


@pytest.mark.parametrize("incident_id", LOG_ENTRY_CASES)
def test_log_entry_bodies_conform(
    incident_id: str, sim: PagerDutySimulator, http: httpx2.Client, checker: ContractChecker
) -> None:
    """All log entry pages, with and without channels, overview, totals and a time zone."""
    path = f"/incidents/{incident_id}/log_entries"
    every = _all_pages(http, path, [("limit", "100"), ("include[]", "channels")])
    assert every == len(_fixture(incident_id)["log_entries"])
    # One page of each other variant: checking a log entry is slow (an 18-way oneOf), and
    # the channel-less entries are subsets of the ones already checked in full.
    _get(http, path, [("limit", "100"), ("total", "true")])
    _get(http, path, [("limit", "100"), ("is_overview", "true")])
    _get(http, path, [("time_zone", "America/New_York"), ("include[]", "channels")])
    assert assert_conforms(checker, sim.responses) == (every + 99) // 100 + 3


@pytest.mark.parametrize("incident_id", INCIDENT_IDS)
def test_alert_and_note_bodies_conform(
    incident_id: str, sim: PagerDutySimulator, http: httpx2.Client, checker: ContractChecker
) -> None:
    """Alert pages (sorted, filtered) and the notes list."""
    path = f"/incidents/{incident_id}/alerts"
    assert _all_pages(http, path, [("limit", "50"), ("sort_by", "created_at:desc")]) > 0
    _get(http, path, [("statuses[]", "resolved"), ("total", "true")])
    _get(http, f"/incidents/{incident_id}/notes")
    assert_conforms(checker, sim.responses)


def test_incident_list_bodies_conform(
    sim: PagerDutySimulator, http: httpx2.Client, checker: ContractChecker
) -> None:
    """``GET /incidents`` in its main shapes, including an empty page."""
    assert _all_pages(http, "/incidents", [("date_range", "all"), ("limit", "1")]) == 3
    _get(
        http,
        "/incidents",
        [
            ("since", "2025-10-01T00:00:00Z"),
            ("until", "2025-11-30"),
            ("include[]", "conference_bridge"),
            ("time_zone", "Asia/Tokyo"),
            ("sort_by", "urgency:desc,created_at"),
        ],
    )
    _get(http, "/incidents", [("date_range", "all"), ("statuses[]", "triggered")])
    assert_conforms(checker, sim.responses)


def test_error_bodies_conform(
    sim: PagerDutySimulator, http: httpx2.Client, checker: ContractChecker
) -> None:
    """400, 401, 403, 404 and 429 bodies match the documented error responses."""
    for suffix in ("", "/log_entries", "/alerts", "/notes"):
        _get(http, f"/incidents/PNOPE00{suffix}", status=404)
    _get(http, "/incidents/P7DBOOM/log_entries", {"offset": "9990", "limit": "20"}, status=400)
    _get(http, "/incidents/P7DBOOM/alerts", {"limit": "many"}, status=400)
    _get(http, "/incidents", {"since": "2025-01-01", "until": "2025-12-01"}, status=400)
    _get(http, "/incidents", {"since": "not a date"}, status=400)
    _get(http, "/not_an_endpoint", status=404)
    sim.inject("/notes", 403)
    _get(http, "/incidents/P7DBOOM/notes", status=403)
    sim.inject("/alerts", 429)
    _get(http, "/incidents/P7DBOOM/alerts", status=429)
    with _http(sim, "wrong-token") as intruder:
        _get(intruder, "/incidents", status=401)
    assert assert_conforms(checker, sim.responses) == 12


def test_rate_limit_body_conforms(checker: ContractChecker) -> None:
    """The 429 produced by the rate limiter itself (not an injected one) conforms too."""
    with PagerDutySimulator(FIXTURES, TOKEN, rate_limit=1) as sim, _http(sim) as http:
        _get(http, "/incidents/P7DBOOM")
        _get(http, "/incidents/P7DBOOM/log_entries", status=429)
        assert assert_conforms(checker, sim.responses) == 2


def test_note_request_and_answers_conform(checker: ContractChecker) -> None:
    """``POST /incidents/{id}/notes`` as the collector sends it, and the simulator's answers
    (201, 400 without From, 403 for a read-only token), against createIncidentNote."""
    with PagerDutySimulator(FIXTURES, TOKEN, read_only_tokens=["read-only"]) as sim:
        settings = PagerDutySettings(
            base_url=sim.base_url, token=TOKEN, from_email="oncall@example.com", max_retries=0
        )
        note = post_incident_note(settings, str(sim.ca_path), "P7DBOOM", "Report drafted: x")
        assert note["content"] == "Report drafted: x"
        body = {"note": {"content": "no sender"}}
        with _http(sim) as http:
            assert http.post("/incidents/P7DBOOM/notes", json=body).status_code == 400
        with _http(sim, "read-only") as reader:
            headers = {"From": "oncall@example.com"}
            answer = reader.post("/incidents/P7DBOOM/notes", json=body, headers=headers)
            assert answer.status_code == 403
        ours = sim.requests[0]
        assert ours.method == "POST" and ours.headers["from"] == "oncall@example.com"
        assert checker.request_errors("POST", ours.path, ours.headers, ours.body) == []
        # The request check is not vacuous: the one sent without From is caught.
        missing = checker.request_errors("POST", ours.path, sim.requests[1].headers, body)
        assert missing == ["POST /incidents/P7DBOOM/notes: required header From missing"]
        assert checker.request_errors("POST", ours.path, ours.headers, {"note": {}}) != []
        assert [r.status for r in sim.responses] == [201, 400, 403]
        assert assert_conforms(checker, sim.responses) == 3


@pytest.fixture(scope="module")
def sample_responses() -> list[RecordedResponse]:
    """A small set of bodies that together hit every allow-list entry."""
    with PagerDutySimulator(FIXTURES, TOKEN) as sim, _http(sim) as http:
        for incident_id in INCIDENT_IDS:
            _get(http, f"/incidents/{incident_id}")
            _get(http, f"/incidents/{incident_id}/log_entries", [("include[]", "channels")])
        _get(http, "/incidents/PNOPE00/alerts", status=404)
        note = {"note": {"content": "Post-incident report drafted: x"}}
        headers = {"From": "oncall@example.com"}
        assert http.post("/incidents/P7DBOOM/notes", json=note, headers=headers).status_code == 201
        return list(sim.responses)


def test_allow_list_is_enough_for_the_samples(
    sample_responses: list[RecordedResponse], checker: ContractChecker
) -> None:
    """Sanity check for the test below: with every patch applied the samples conform."""
    assert_conforms(checker, sample_responses)


@pytest.mark.parametrize("defect", ALLOW_LIST, ids=lambda defect: defect.name)
def test_each_allow_list_entry_is_needed(
    defect: Defect, sample_responses: list[RecordedResponse]
) -> None:
    """Without any single patch some sample fails: the allow-list holds nothing superfluous."""
    partial = build_checker(d for d in ALLOW_LIST if d is not defect)
    # any() stops at the first failing body: proving need is cheaper than full validation.
    needed = any(partial.errors(r.method, r.path, r.status, r.body) for r in sample_responses)
    assert needed, f"allow-list entry {defect.name!r} is no longer needed: remove it"


def _fixture(incident_id: str) -> Any:
    return json.loads((FIXTURES / f"{incident_id}.json").read_text(encoding="utf-8"))


def _demo_body(path: str) -> Any:
    data = _fixture("P7DBOOM")
    if path == "incident":
        return {"incident": data["incident"]}
    return {
        "log_entries": data["log_entries"],
        "limit": 25,
        "offset": 0,
        "more": False,
        "total": None,
    }


def _break_incident_number(body: Any) -> str:
    body["incident"]["incident_number"] = "1025"
    return "/incidents/P7DBOOM"


def _break_created_at(body: Any) -> str:
    body["incident"]["created_at"] = "half past two"
    return "/incidents/P7DBOOM"


def _break_log_entry_type(body: Any) -> str:
    body["log_entries"][0]["type"] = "bogus_log_entry"
    return "/incidents/P7DBOOM/log_entries"


def _break_channel(body: Any) -> str:
    del body["log_entries"][4]["channel"]["type"]
    return "/incidents/P7DBOOM/log_entries"


def _break_more(body: Any) -> str:
    body["more"] = "no"
    return "/incidents/P7DBOOM/log_entries"


@pytest.mark.parametrize(
    ("source", "breaker", "needle"),
    [
        ("incident", _break_incident_number, "incident_number"),
        ("incident", _break_created_at, "created_at"),
        ("log_entries", _break_log_entry_type, "log_entries[0]"),
        ("log_entries", _break_channel, "log_entries[4]"),
        ("log_entries", _break_more, "more"),
    ],
    ids=[
        "incident_number-as-string",
        "bad-date-time",
        "unknown-log-entry-type",
        "channel-without-type",
        "more-not-boolean",
    ],
)
def test_malformed_bodies_are_rejected(
    source: str, breaker: Callable[[Any], str], needle: str, checker: ContractChecker
) -> None:
    """The patched schema still catches broken bodies: the contract test can fail."""
    body = _demo_body(source)
    path = breaker(body)
    assert checker.errors("GET", path, 200, _demo_body(source)) == []
    errors = checker.errors("GET", path, 200, body)
    assert errors, "a malformed body passed validation"
    assert any(needle in error for error in errors), errors


def test_missing_contract_fails_with_the_location(tmp_path: Path) -> None:
    """A missing contract is a failure naming the path looked at, never a skip."""
    missing = tmp_path / "nowhere" / "pagerduty.openapi.json"
    with pytest.raises(pytest.fail.Exception, match=re.escape(str(missing))):
        load_contract_text(missing)
