"""Reduce Atlassian's Jira Cloud platform OpenAPI document to the contract our simulator is
tested against (tests/atlassian_simulator.py, tests/test_atlassian_contract.py).

Atlassian publishes the document as ``swagger-v3.v3.json`` (the Jira Cloud platform REST API,
v3; 2.4 MB): it is not part of a clone. It lies in ``../shared/atlassian/`` beside the
checkout, or wherever ``$JIRA_OPENAPI_SCHEMA`` says. The reduction keeps only the operations
the collector calls (issue create, the enhanced JQL search, the user search), with the
components they reach, without prose: the same reduction as PagerDuty's
(``reduce_pagerduty_openapi.py``, whose functions this script uses). Canonical JSON, regenerated
on purpose and never edited by hand.

The client (`atlassian-python-api`) creates issues and searches users under ``/rest/api/2/``;
Atlassian publishes v2 and v3 as one API whose bodies differ only in rich text (v3's
descriptions are Atlassian Document Format): the contract test checks a v2 call against the v3
operation of the same path, where ``fields`` is an open object.

Confluence's contract is reduced the same way (``--product confluence``) from Atlassian's
Confluence Cloud REST API document (``swagger.v3.json`` as developer.atlassian.com publishes it,
the REST v1 content API; saved as ``../shared/atlassian/confluence-swagger.v3.json``, or
``$CONFLUENCE_OPENAPI_SCHEMA``): the page search, create, read and update, and the attachment
list, upload and new version.

    python tests/contracts/reduce_atlassian_openapi.py                  # rewrite the contract
    python tests/contracts/reduce_atlassian_openapi.py --check          # exit 1 if out of date
    python tests/contracts/reduce_atlassian_openapi.py --source FILE    # another full document
    python tests/contracts/reduce_atlassian_openapi.py --product confluence [--check]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
CONTRACT = HERE / "jira.openapi.json"
SOURCE_ENV = "JIRA_OPENAPI_SCHEMA"
SHARED_SOURCE = HERE.parents[2] / "shared" / "atlassian" / "swagger-v3.v3.json"
GENERATED_BY = (
    "Reduced from Atlassian's Jira Cloud platform swagger-v3.v3.json by "
    "tests/contracts/reduce_atlassian_openapi.py; regenerate it, never edit it by hand."
)
# What the simulator serves and the collector calls.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "/rest/api/3/issue": ("post",),
    "/rest/api/3/search/jql": ("get",),
    "/rest/api/3/user/search": ("get",),
}


class Product(NamedTuple):
    """One Atlassian product's document: where it lies, what is kept, where the contract goes."""

    contract: Path
    source_env: str
    shared_source: Path
    generated_by: str
    operations: dict[str, tuple[str, ...]]

    def default_source(self) -> Path:
        """The full document: its environment variable, else shared/ beside the checkout."""
        override = os.environ.get(self.source_env)
        return Path(override) if override else self.shared_source


CONFLUENCE = Product(
    contract=HERE / "confluence.openapi.json",
    source_env="CONFLUENCE_OPENAPI_SCHEMA",
    shared_source=HERE.parents[2] / "shared" / "atlassian" / "confluence-swagger.v3.json",
    generated_by=(
        "Reduced from Atlassian's Confluence Cloud REST API swagger.v3.json by "
        "tests/contracts/reduce_atlassian_openapi.py --product confluence; regenerate it, "
        "never edit it by hand."
    ),
    operations={
        "/wiki/rest/api/content": ("get", "post"),
        "/wiki/rest/api/content/{id}": ("get", "put"),
        "/wiki/rest/api/content/{id}/child/attachment": ("get", "post"),
        "/wiki/rest/api/content/{id}/child/attachment/{attachmentId}/data": ("post",),
    },
)


def _pagerduty_reducer() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "reduce_pagerduty_openapi", HERE / "reduce_pagerduty_openapi.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REDUCE = _pagerduty_reducer()


def default_source() -> Path:
    """The full document: ``$JIRA_OPENAPI_SCHEMA``, else shared/ beside the checkout."""
    override = os.environ.get(SOURCE_ENV)
    return Path(override) if override else SHARED_SOURCE


JIRA = Product(CONTRACT, SOURCE_ENV, SHARED_SOURCE, GENERATED_BY, OPERATIONS)
PRODUCTS = {"jira": JIRA, "confluence": CONFLUENCE}


def reduced_text(source: Path, product: Product = JIRA) -> str:
    """The reduced contract of the full document at ``source``, as committed."""
    full = json.loads(source.read_text(encoding="utf-8"))
    reduced = REDUCE.reduce_document(full, product.operations, product.generated_by)
    return str(REDUCE.render(reduced))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="the full OpenAPI document")
    parser.add_argument("--check", action="store_true", help="exit 1 if the contract is stale")
    parser.add_argument("--product", choices=sorted(PRODUCTS), default="jira")
    args = parser.parse_args(argv)
    product = PRODUCTS[args.product]
    source: Path = args.source or product.default_source()
    if not source.is_file():
        print(f"{args.product}'s full OpenAPI document is not at {source}", file=sys.stderr)
        return 2
    text = reduced_text(source, product)
    contract = product.contract
    if args.check:
        current = contract.is_file() and contract.read_text(encoding="utf-8") == text
        print(f"{contract.name} is {'current' if current else 'stale'}")
        return 0 if current else 1
    contract.write_text(text, encoding="utf-8")
    print(f"wrote {contract} ({len(text.encode()):,} bytes) from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
