"""The reduced PagerDuty contract: current with the full document, and made the right way.

``tests/contracts/reduce_pagerduty_openapi.py`` reduces PagerDuty's OpenAPI document to what
the contract test (test_pd_schema_contract.py) needs; the reduction is committed. These tests
prove the committed file current when the full document is at hand, and the reducer right on a
small document of their own, which needs nothing beside the clone.
"""

from __future__ import annotations

import json

import pytest
from test_pd_schema_contract import REDUCER, REGENERATE, Spec


def test_contract_is_the_reduction_of_the_full_document() -> None:
    """Regenerating from PagerDuty's full document gives the committed contract, byte for byte.

    The one skip of the suite: a clone alone has no full document, and then the committed
    reduction is what there is to check against (CI has it, in ../shared/)."""
    source = REDUCER.default_source()
    if not source.is_file():
        pytest.skip(
            f"PagerDuty's full OpenAPI document is not at {source} (set "
            f"{REDUCER.SOURCE_ENV}): the committed contract is used without proof it is current"
        )
    fresh = REDUCER.reduced_text(source)
    assert fresh == REDUCER.CONTRACT.read_text(encoding="utf-8"), (
        f"{REDUCER.CONTRACT.name} is not the reduction of {source}: run `{REGENERATE}`"
    )


FULL_DOCUMENT: Spec = {
    "openapi": "3.0.2",
    "info": {"title": "T", "version": "1", "description": "prose"},
    "paths": {
        template: {
            "description": "prose",
            **{
                method: {
                    "summary": "prose",
                    "tags": ["Incidents"],
                    "x-pd-requires-scope": "incidents.read",
                    "parameters": [{"$ref": "#/components/parameters/id"}],
                    "responses": {
                        "200": {
                            "description": "prose",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Thing"},
                                    "examples": {"response": {"value": {}}},
                                }
                            },
                        }
                    },
                }
                for method in ("get", "put", "post")
            },
        }
        for template in [*REDUCER.OPERATIONS, "/services"]
    },
    "components": {
        "parameters": {"id": {"name": "id", "in": "path", "description": "prose"}},
        "schemas": {
            "Thing": {
                "description": "prose",
                "example": {"summary": "x"},
                "required": ["summary"],
                "properties": {
                    "summary": {"type": "string", "title": "prose"},
                    "description": {"$ref": "#/components/schemas/Text/properties/text"},
                },
            },
            "Text": {"properties": {"text": {"type": "string", "enum": ["description"]}}},
            "Unused": {"type": "object"},
        },
        "examples": {"Big": {"value": {}}},
    },
}


def test_reduction_keeps_what_validates_and_drops_the_rest() -> None:
    """The reducer, on a small document: only the served operations, the components they reach
    (through deep pointers too), and no prose, where property names that look like prose stay."""
    reduced = REDUCER.reduce_document(FULL_DOCUMENT)
    assert {t: sorted(item) for t, item in reduced["paths"].items()} == {
        t: sorted(methods) for t, methods in REDUCER.OPERATIONS.items()
    }
    assert reduced["paths"]["/incidents/{id}"]["get"] == {
        "parameters": [{"$ref": "#/components/parameters/id"}],
        "responses": {
            "200": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
            }
        },
    }
    assert reduced["components"] == {
        "parameters": {"id": {"name": "id", "in": "path"}},
        "schemas": {
            "Thing": {
                "required": ["summary"],
                "properties": {
                    "summary": {"type": "string"},
                    "description": {"$ref": "#/components/schemas/Text/properties/text"},
                },
            },
            "Text": {"properties": {"text": {"type": "string", "enum": ["description"]}}},
        },
    }
    assert REDUCER.render(reduced) == REDUCER.render(json.loads(REDUCER.render(reduced)))


def test_reduction_refuses_a_dangling_reference() -> None:
    """A reference into something the reduction dropped is an error, not a broken contract."""
    broken = json.loads(json.dumps(FULL_DOCUMENT))
    broken["components"]["schemas"]["Thing"]["properties"]["description"] = {
        "$ref": "#/components/schemas/Text/example"
    }
    broken["components"]["schemas"]["Text"]["example"] = "text"
    with pytest.raises(ValueError, match="Text/example does not resolve"):
        REDUCER.reduce_document(broken)
