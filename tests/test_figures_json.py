"""figures.json: the report's figures for machines, checked against the report and a golden file.

The golden file is the demo's figures.json as committed; it changes only on purpose:
`REGENERATE_GOLDEN=1 python -m pytest tests/test_figures_json.py`, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from collector.cli import main

GOLDEN = Path(__file__).parent / "golden" / "demo_figures.json"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-figures")
    result = CliRunner().invoke(main, ["--demo", "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    return out / "P7DBOOM"


@pytest.fixture(scope="module")
def document(demo_out: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads((demo_out / "figures.json").read_text(encoding="utf-8"))
    return parsed


def _figure(document: dict[str, Any], key: str) -> dict[str, Any]:
    return next(f for f in document["figures"] if f["key"] == key)


def _objective(document: dict[str, Any], key: str) -> dict[str, Any]:
    return next(o for o in document["objectives"] if o["key"] == key)


def test_demo_figures_equal_the_report(document: dict[str, Any], demo_out: Path) -> None:
    report = (demo_out / "report.md").read_text(encoding="utf-8")
    assert document["incident"]["id"] == "P7DBOOM"
    assert document["incident"]["created_at"].endswith("Z")
    assert _figure(document, "duration") == {
        **_figure(document, "duration"),
        "value": 2280,
        "unit": "s",
        "status": "ok",
    }
    assert "38 min" in report
    rto = _objective(document, "rto")
    assert (rto["target"], rto["actual"], rto["verdict"]) == (1800, 2280, "missed")
    assert "30 min" in report


def test_verdicts_and_statuses_are_lowercase_words(document: dict[str, Any]) -> None:
    words = {"met", "missed", "within_budget", "over_budget", "not_configured", "no_data"}
    assert {o["verdict"] for o in document["objectives"]} <= words | {"failed", "ongoing"}
    assert {f["status"] for f in document["figures"]} <= {
        "ok",
        "not_configured",
        "failed",
        "no_data",
    }


def test_demo_figures_match_the_golden_file(document: dict[str, Any]) -> None:
    if os.environ.get("REGENERATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert document == golden, "figures changed: regenerate on purpose (see module docstring)"
