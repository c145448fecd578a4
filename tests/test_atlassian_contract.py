"""The Jira simulator against Atlassian's published contract, and the contract's reduction.

Every request the collector's Jira client makes (its query parameters and JSON body) and every
JSON answer of the simulator is validated against tests/contracts/jira.openapi.json, Atlassian's
Jira Cloud platform OpenAPI document reduced by tests/contracts/reduce_atlassian_openapi.py.
The client's `/rest/api/2/` calls are checked against the v3 operation of the same path (see
that script). When the full document is at hand (../shared/atlassian/ beside the checkout, or
$JIRA_OPENAPI_SCHEMA), the committed reduction is proved current byte for byte.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from atlassian_simulator import Exchange, JiraSimulator
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from collector.config.settings import AtlassianCredentials, JiraSettings
from collector.sources.jira import FilingError, JiraClient, NewIssue

HERE = Path(__file__).resolve().parent
BASE_URI = "urn:atlassian:jira-cloud-platform:v3"


def _reducer() -> ModuleType:
    path = HERE / "contracts" / "reduce_atlassian_openapi.py"
    spec = importlib.util.spec_from_file_location("reduce_atlassian_openapi", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REDUCER = _reducer()
CONTRACT: dict[str, Any] = json.loads(REDUCER.CONTRACT.read_text(encoding="utf-8"))
REGISTRY: Registry[Any] = Registry().with_resource(
    BASE_URI, Resource.from_contents(CONTRACT, default_specification=DRAFT4)
)


def _check(pointer: str, instance: object, where: str) -> list[str]:
    validator = OAS30Validator(
        {"$ref": f"{BASE_URI}#{pointer}"}, registry=REGISTRY, format_checker=oas30_format_checker
    )
    return [f"{where}: {e.json_path}: {e.message[:200]}" for e in validator.iter_errors(instance)]


def contract_errors(exchange: Exchange) -> list[str]:
    """What in one exchange the contract does not allow: parameters, body, answer."""
    template = exchange.path.replace("/rest/api/2/", "/rest/api/3/")
    operation = CONTRACT["paths"].get(template, {}).get(exchange.method.lower())
    where = f"{exchange.method} {exchange.path}"
    if operation is None:
        return [f"{where}: no such operation in the contract"]
    known = {p["name"] for p in operation.get("parameters", ()) if p.get("in") == "query"}
    problems = [f"{where}: unknown parameter {n}" for n in exchange.query if n not in known]
    pointer = f"/paths/{template.replace('/', '~1')}/{exchange.method.lower()}"
    if "requestBody" in operation:
        schema = f"{pointer}/requestBody/content/application~1json/schema"
        problems += _check(schema, exchange.body, f"{where} body")
    responses = operation["responses"]
    status = str(exchange.status)
    if status not in responses:
        return [*problems, f"{where}: status {status} is not documented"]
    if exchange.answer is not None and "content" in responses[status]:
        schema = f"{pointer}/responses/{status}/content/application~1json/schema"
        problems += _check(schema, exchange.answer, f"{where} -> {status}")
    return problems


@pytest.fixture
def jira() -> Iterator[JiraSimulator]:
    dana = {"accountId": "5b10a2844c20165700ede21g", "displayName": "Dana Roy"}
    hidden = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Eve", "hidden": True}
    users = ({**dana, "emailAddress": "dana@example.com"}, {**hidden, "emailAddress": "e@x.io"})
    with JiraSimulator("filer@example.com", "token", users=users) as simulator:
        yield simulator


def _client(jira: JiraSimulator, token: str = "token") -> JiraClient:
    settings = JiraSettings(url=jira.url, project="OPS", timeout=5)
    return JiraClient(settings, AtlassianCredentials("filer@example.com", token), str(jira.ca_path))


def test_every_call_and_answer_keeps_to_the_contract(jira: JiraSimulator) -> None:
    client = _client(jira)
    labels = ("postmortem", "incident-P7DBOOM")
    assert client.labelled_issues(labels) == {}
    account = client.account_for("dana@example.com")
    assert account == "5b10a2844c20165700ede21g" and client.account_for("e@x.io") is not None
    issue = NewIssue("Alert on memory", "From the report", date(2025, 11, 4).isoformat(), labels)
    created = client.create(NewIssue(**{**issue.__dict__, "account_id": account}))
    assert created.key == "OPS-1" and created.url == f"{jira.url}/browse/OPS-1"
    assert list(client.labelled_issues(labels)) == ["Alert on memory"]
    with pytest.raises(FilingError, match="HTTP 400"):  # Jira's own refusal, in its shape
        client.create(NewIssue("x" * 300, "", "2025-11-04", labels))
    with pytest.raises(FilingError, match="HTTP 401"):
        _client(jira, "wrong").labelled_issues(labels)
    assert len(jira.exchanges) == 7 and not jira.errors
    problems = [p for exchange in jira.exchanges for p in contract_errors(exchange)]
    assert problems == []


def test_the_contract_rejects_what_jira_would() -> None:
    """The checks can fail: a body without fields, an answer of the wrong shape."""
    bad = Exchange("POST", "/rest/api/2/issue", {"bogus": ["1"]}, {}, {"fields": 3}, 201, {"id": 5})
    problems = contract_errors(bad)
    assert any("unknown parameter bogus" in p for p in problems)
    assert any("body" in p for p in problems) and any("-> 201" in p for p in problems)
    search = Exchange("GET", "/rest/api/3/search/jql", {}, {}, None, 200, {"issues": 1})
    assert contract_errors(search)


def test_contract_is_the_reduction_of_the_full_document() -> None:
    """Regenerating from Atlassian's full document gives the committed contract, byte for byte
    (skipped on a clone alone: the full document lives in shared/, beside the checkout)."""
    source = REDUCER.default_source()
    if not source.is_file():
        pytest.skip(f"Jira's full OpenAPI document is not at {source} ({REDUCER.SOURCE_ENV})")
    assert REDUCER.reduced_text(source) == REDUCER.CONTRACT.read_text(encoding="utf-8"), (
        "run `python tests/contracts/reduce_atlassian_openapi.py`"
    )
