"""Reduce PagerDuty's OpenAPI document to the contract the simulator is tested against.

PagerDuty's full document (``openapiv3.json``, 2.7 MB) is not part of a clone: it lies in
``../shared/pagerduty/`` beside the checkout in CI, or wherever ``$PAGERDUTY_OPENAPI_SCHEMA``
says. The contract test (tests/test_pd_schema_contract.py) reads the reduction committed beside
this script instead, so that it runs on a clone alone: only the operations the simulator serves
and the collector calls, with the component schemas, parameters and responses they reach through
``$ref``, and without prose (descriptions, summaries, examples), which validates nothing.

The output is canonical JSON (sorted keys, fixed indentation): it is regenerated on purpose,
never edited by hand, and a test compares it byte for byte when the full document is at hand.

    python tests/contracts/reduce_pagerduty_openapi.py                  # rewrite the contract
    python tests/contracts/reduce_pagerduty_openapi.py --check          # exit 1 if out of date
    python tests/contracts/reduce_pagerduty_openapi.py --source FILE    # another full document
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONTRACT = HERE / "pagerduty.openapi.json"
SOURCE_ENV = "PAGERDUTY_OPENAPI_SCHEMA"
SHARED_SOURCE = HERE.parents[2] / "shared" / "pagerduty" / "openapiv3.json"
GENERATED_BY = (
    "Reduced from PagerDuty's openapiv3.json by tests/contracts/reduce_pagerduty_openapi.py; "
    "regenerate it, never edit it by hand."
)

# What the simulator serves and the collector calls: the contract covers these and no more.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "/incidents": ("get",),
    "/incidents/{id}": ("get",),
    "/incidents/{id}/alerts": ("get",),
    "/incidents/{id}/log_entries": ("get",),
    "/incidents/{id}/notes": ("get", "post"),
}
# Annotations that validate nothing. Stripped only where they are keywords, never where they
# name a property (Incident has a `description`, references a `summary`).
PROSE = frozenset({"description", "summary", "example", "examples", "externalDocs", "title"})
OPERATION_EXTRAS = frozenset({"tags", "security"})
# Keys whose value maps names to nodes: those names are data, kept whatever they are.
NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "responses",
        "content",
        "headers",
        "encoding",
        "links",
        "callbacks",
        "mapping",
    }
)
# Keys whose value is an instance, not a node: copied as it is.
LITERALS = frozenset({"enum", "default", "const", "required"})

Node = Any


def default_source() -> Path:
    """The full document: ``$PAGERDUTY_OPENAPI_SCHEMA``, else shared/ beside the checkout."""
    override = os.environ.get(SOURCE_ENV)
    return Path(override) if override else SHARED_SOURCE


def strip_prose(node: Node) -> Node:
    """A copy of one node without prose annotations or ``x-`` extensions."""
    if isinstance(node, list):
        return [strip_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept: dict[str, Node] = {}
    for key, value in node.items():
        if key in PROSE or key.startswith("x-"):
            continue
        if key in LITERALS:
            kept[key] = value
        elif key in NAME_MAPS and isinstance(value, dict):
            kept[key] = {name: strip_prose(item) for name, item in value.items()}
        else:
            kept[key] = strip_prose(value)
    return kept


def _references(node: Node) -> Iterator[str]:
    """Every ``$ref`` under a node."""
    if isinstance(node, list):
        for item in node:
            yield from _references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)


def _component(reference: str) -> tuple[str, str]:
    """(kind, name) of the component a local reference points into, deep pointers included."""
    parts = reference.removeprefix("#/").split("/")
    if len(parts) < 3 or parts[0] != "components":
        raise ValueError(f"not a local component reference: {reference}")
    return parts[1], parts[2].replace("~1", "/").replace("~0", "~")


def _operations(full: Node, operations: dict[str, tuple[str, ...]]) -> dict[str, Node]:
    """The kept paths, each with only its kept methods, stripped."""
    paths: dict[str, Node] = {}
    for template, methods in operations.items():
        item = full["paths"][template]
        kept = {key: item[key] for key in (*methods, "parameters") if key in item}
        paths[template] = {
            key: {k: v for k, v in node.items() if k not in OPERATION_EXTRAS}
            if key in methods
            else node
            for key, node in kept.items()
        }
    stripped: dict[str, Node] = strip_prose(paths)
    return stripped


def reduce_document(
    full: Node,
    operations: dict[str, tuple[str, ...]] | None = None,
    generated_by: str = GENERATED_BY,
) -> Node:
    """The reduced contract of a full OpenAPI document (another API's: its `operations`)."""
    paths = _operations(full, OPERATIONS if operations is None else operations)
    components: dict[str, dict[str, Node]] = {}
    pending = list(_references(paths))
    while pending:
        kind, name = _component(pending.pop())
        if name in components.get(kind, {}):
            continue
        node = strip_prose(full["components"][kind][name])
        components.setdefault(kind, {})[name] = node
        pending.extend(_references(node))
    reduced = {
        "openapi": full["openapi"],
        "info": {"title": full["info"]["title"], "version": full["info"]["version"]},
        "x-generated-by": generated_by,
        "paths": paths,
        "components": components,
    }
    _check_references(reduced)
    return reduced


def _check_references(document: Node) -> None:
    """Fail when a reference points at something the reduction left out."""
    for reference in _references(document):
        node = document
        for part in reference.removeprefix("#/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError(f"{reference} does not resolve in the reduction") from error


def render(document: Node) -> str:
    """Canonical JSON text: the same document always gives the same bytes."""
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def reduced_text(source: Path) -> str:
    """The reduced contract of the full document at ``source``, as committed."""
    return render(reduce_document(json.loads(source.read_text(encoding="utf-8"))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="the full openapiv3.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if the contract is stale")
    args = parser.parse_args(argv)
    source: Path = args.source or default_source()
    if not source.is_file():
        print(f"PagerDuty's full OpenAPI document is not at {source}", file=sys.stderr)
        return 2
    text = reduced_text(source)
    if args.check:
        current = CONTRACT.is_file() and CONTRACT.read_text(encoding="utf-8") == text
        print(f"{CONTRACT.name} is {'current' if current else 'stale'}")
        return 0 if current else 1
    CONTRACT.write_text(text, encoding="utf-8")
    print(f"wrote {CONTRACT} ({len(text.encode()):,} bytes) from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
