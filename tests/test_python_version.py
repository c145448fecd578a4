"""`requires-python` is true to the code: every module parses, and imports only what exists,
on the oldest Python it declares; ruff and mypy check against that same Python."""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("collector", "report")

# Standard-library names newer than 3.9, by the version that brought them. Not exhaustive:
# the ones this code could plausibly reach for. Add a name here before using a newer one.
NEWER_NAMES: dict[str, tuple[int, int]] = {
    "zoneinfo": (3, 9),
    "graphlib": (3, 9),
    "tomllib": (3, 11),
    "asyncio.TaskGroup": (3, 11),
    "asyncio.timeout": (3, 11),
    "datetime.UTC": (3, 11),
    "enum.StrEnum": (3, 11),
    "enum.verify": (3, 11),
    "typing.Self": (3, 11),
    "typing.LiteralString": (3, 11),
    "typing.Never": (3, 11),
    "typing.assert_never": (3, 11),
    "typing.reveal_type": (3, 11),
    "typing.Required": (3, 11),
    "typing.NotRequired": (3, 11),
    "itertools.batched": (3, 12),
    "typing.override": (3, 12),
    "typing.TypeAliasType": (3, 12),
    "warnings.deprecated": (3, 13),
    "typing.ReadOnly": (3, 13),
    "typing.TypeIs": (3, 13),
    "copy.replace": (3, 13),
}


def pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def minimum_python() -> tuple[int, int]:
    """The oldest Python `requires-python` admits: it must be one `>=3.N` bound."""
    project = pyproject()["project"]
    assert isinstance(project, dict)
    spec = str(project["requires-python"])
    match = re.fullmatch(r"\s*>=\s*3\.(\d+)\s*", spec)
    assert match, f"requires-python {spec!r}: expected one lower bound, >=3.N"
    return 3, int(match.group(1))


def modules() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def used_names(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Each standard-library name a module reaches for (`tomllib`, `enum.StrEnum`), by line."""
    imported: dict[str, str] = {}  # local name -> module, for `import datetime` then datetime.UTC
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
                imported[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported
        ):
            yield f"{imported[node.value.id]}.{node.attr}", node.lineno


def too_new(minimum: tuple[int, int]) -> list[str]:
    """Where the code reaches for a standard-library name newer than `minimum`."""
    found = []
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line in used_names(tree):
            since = NEWER_NAMES.get(name)
            if since and since > minimum:
                where = path.relative_to(ROOT)
                found.append(f"{where}:{line}: {name} is new in {since[0]}.{since[1]}")
    return found


def test_requires_python_is_one_lower_bound_on_python_3() -> None:
    assert minimum_python() >= (3, 9)


def test_every_module_parses_on_the_oldest_python() -> None:
    failed = []
    for path in modules():
        source = path.read_text(encoding="utf-8")
        try:
            ast.parse(source, filename=str(path), feature_version=minimum_python())
        except SyntaxError as exc:
            failed.append(f"{path.relative_to(ROOT)}:{exc.lineno}: {exc.msg}")
    assert failed == []


def test_no_standard_library_name_newer_than_the_oldest_python() -> None:
    assert too_new(minimum_python()) == []


def test_the_check_would_catch_tomllib_on_python_3_10() -> None:
    # The reason requires-python is 3.11: the word catalogues are read with tomllib.
    assert any("tomllib" in line for line in too_new((3, 10)))


def test_ruff_and_mypy_check_against_the_oldest_python() -> None:
    # mypy set to a newer Python than requires-python hid the tomllib import (issue #28).
    major, minor = minimum_python()
    tools = pyproject()["tool"]
    assert isinstance(tools, dict)
    assert tools["ruff"]["target-version"] == f"py{major}{minor}"
    assert tools["mypy"]["python_version"] == f"{major}.{minor}"
