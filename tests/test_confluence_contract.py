"""The Confluence simulator against Atlassian's published contract, and the contract's reduction.

Every request the collector's Confluence client makes (its query parameters, its JSON or form
body) and every JSON answer of the simulator is validated against
tests/contracts/confluence.openapi.json: Atlassian's Confluence Cloud REST API document
(swagger.v3.json, REST v1) reduced by tests/contracts/reduce_atlassian_openapi.py. When the full
document is at hand (../shared/atlassian/ beside the checkout, or $CONFLUENCE_OPENAPI_SCHEMA),
the committed reduction is proved current byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from atlassian_simulator import ConfluenceSimulator, Exchange
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from test_atlassian_contract import REDUCER

from collector.config.settings import AtlassianCredentials, ConfluenceSettings
from collector.sources.confluence import ConfluenceClient, FilingError

PRODUCT = REDUCER.CONFLUENCE
BASE_URI = "urn:atlassian:confluence-cloud:v1"
CONTRACT: dict[str, Any] = json.loads(PRODUCT.contract.read_text(encoding="utf-8"))
REGISTRY: Registry[Any] = Registry().with_resource(
    BASE_URI, Resource.from_contents(CONTRACT, default_specification=DRAFT4)
)
BODY = '<h1>Title</h1><p><ac:image><ri:attachment ri:filename="memory.png" /></ac:image></p>'


def _check(pointer: str, instance: object, where: str) -> list[str]:
    validator = OAS30Validator(
        {"$ref": f"{BASE_URI}#{pointer}"}, registry=REGISTRY, format_checker=oas30_format_checker
    )
    return [f"{where}: {e.json_path}: {e.message[:200]}" for e in validator.iter_errors(instance)]


def _template(path: str) -> str | None:
    """The contract's path template that `path` is an instance of."""
    for template in CONTRACT["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return template
    return None


def _parameter(node: dict[str, Any]) -> dict[str, Any]:
    reference = node.get("$ref")
    if not reference:
        return node
    found: Any = CONTRACT
    for part in reference.removeprefix("#/").split("/"):
        found = found[part]
    return dict(found)


def _body_errors(operation: dict[str, Any], pointer: str, exchange: Exchange) -> list[str]:
    where = f"{exchange.method} {exchange.path} body"
    content = operation["requestBody"]["content"]
    if "multipart/form-data" in content:
        schema = content["multipart/form-data"]["schema"]
        form = exchange.body if isinstance(exchange.body, dict) else {}
        problems = [f"{where}: unknown field {n}" for n in form if n not in schema["properties"]]
        return problems + [f"{where}: no {n}" for n in schema.get("required", ()) if n not in form]
    return _check(f"{pointer}/requestBody/content/application~1json/schema", exchange.body, where)


def contract_errors(exchange: Exchange) -> list[str]:
    """What in one exchange the contract does not allow: parameters, body, answer."""
    template = _template(exchange.path)
    where = f"{exchange.method} {exchange.path}"
    operation = CONTRACT["paths"].get(template or "", {}).get(exchange.method.lower())
    if template is None or operation is None:
        return [f"{where}: no such operation in the contract"]
    parameters = [_parameter(p) for p in operation.get("parameters", ())]
    known = {p["name"] for p in parameters if p.get("in") == "query"}
    problems = [f"{where}: unknown parameter {n}" for n in exchange.query if n not in known]
    pointer = f"/paths/{template.replace('/', '~1')}/{exchange.method.lower()}"
    if "requestBody" in operation:
        problems += _body_errors(operation, pointer, exchange)
    responses = operation["responses"]
    status = str(exchange.status)
    if status not in responses:
        return [*problems, f"{where}: status {status} is not documented"]
    if exchange.answer is not None and "application/json" in responses[status].get("content", {}):
        schema = f"{pointer}/responses/{status}/content/application~1json/schema"
        problems += _check(schema, exchange.answer, f"{where} -> {status}")
    return problems


@pytest.fixture
def wiki() -> Iterator[ConfluenceSimulator]:
    with ConfluenceSimulator("filer@example.com", "token", page_titles=("Postmortems",)) as sim:
        yield sim


def _client(wiki: ConfluenceSimulator, token: str = "token") -> ConfluenceClient:
    settings = ConfluenceSettings(url=wiki.wiki_url, space="OPS", timeout=5)
    credentials = AtlassianCredentials("filer@example.com", token)
    return ConfluenceClient(settings, credentials, str(wiki.ca_path))


def test_every_call_and_answer_keeps_to_the_contract(wiki: ConfluenceSimulator) -> None:
    client = _client(wiki)
    parent = client.find_page("Postmortems")
    assert parent is not None and client.find_page("2025-10-27 P7DBOOM — OOM") is None
    page = client.create("2025-10-27 P7DBOOM — OOM", BODY, parent.id)
    assert (
        page.url == f"{wiki.wiki_url}/spaces/OPS/pages/{page.id}/2025-10-27+P7DBOOM+%E2%80%94+OOM"
    )
    client.attach(page, "memory.png", b"\x89PNG one", "image/png")
    client.attach(page, "memory.png", b"\x89PNG two", "image/png")  # a new version
    again = client.page(page.id)
    assert again is not None and client.update(again, "2025-10-27 P7DBOOM — OOM", BODY).version == 2
    assert client.page("424242") is None  # deleted: the caller searches by title
    with pytest.raises(FilingError, match="HTTP 409"):  # a stale version, refused as Cloud does
        client.update(again, "2025-10-27 P7DBOOM — OOM", BODY)
    with pytest.raises(FilingError, match="HTTP 401"):
        _client(wiki, "wrong").find_page("Postmortems")
    stored = wiki.page_titled("2025-10-27 P7DBOOM — OOM")
    assert stored is not None and stored["parent"] == parent.id
    assert stored["attachments"]["memory.png"]["version"] == 2 and not wiki.errors
    problems = [p for exchange in wiki.exchanges for p in contract_errors(exchange)]
    assert problems == []
    assert {(e.method, _template(e.path)) for e in wiki.exchanges} == {
        (m.upper(), path) for path, ms in PRODUCT.operations.items() for m in ms
    }


def test_the_contract_rejects_what_confluence_would() -> None:
    """The checks can fail: a page without its type, an upload without its file, an answer of
    the wrong shape, a call the contract does not have."""
    create = Exchange("POST", "/wiki/rest/api/content", {"x": ["1"]}, {}, {"title": 3}, 200, {})
    problems = contract_errors(create)
    assert any("unknown parameter x" in p for p in problems)
    assert any("body" in p for p in problems) and any("-> 200" in p for p in problems)
    upload = Exchange(
        "POST",
        "/wiki/rest/api/content/1/child/attachment",
        {},
        {},
        {"minorEdit": "true"},
        200,
        None,
    )
    assert contract_errors(upload) == [f"{upload.method} {upload.path} body: no file"]
    v2 = Exchange("GET", "/wiki/api/v2/pages", {}, {}, None, 200, {})
    assert contract_errors(v2)


def test_contract_is_the_reduction_of_the_full_document() -> None:
    """Regenerating from Atlassian's full document gives the committed contract, byte for byte
    (skipped on a clone alone: the full document lives in shared/, beside the checkout)."""
    source = PRODUCT.default_source()
    if not source.is_file():
        pytest.skip(f"Confluence's full OpenAPI document is not at {source} ({PRODUCT.source_env})")
    assert REDUCER.reduced_text(source, PRODUCT) == PRODUCT.contract.read_text(encoding="utf-8"), (
        "run `python tests/contracts/reduce_atlassian_openapi.py --product confluence`"
    )
