"""Each language throughout: no sentence of the other language in a French or English report.

The gallery's incidents get the same check in tests/test_gallery.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT
from language_check import foreign_sentences, strings_in

from collector.cli import main


def demo_data() -> list[str]:
    snapshot = json.loads(DEMO_SNAPSHOT.read_text(encoding="utf-8"))
    config = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    return [*strings_in(snapshot), *strings_in(config)]


def draft(out: Path, language: str, with_config: bool) -> str:
    args = ["--snapshot", str(DEMO_SNAPSHOT), "--out", str(out), "--lang", language]
    if with_config:
        args += ["--config", str(DEMO_CONFIG)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("with_config", [True, False], ids=["demo", "no-config"])
def test_demo_report_is_in_one_language(tmp_path: Path, language: str, with_config: bool) -> None:
    report = draft(tmp_path, language, with_config)
    found = foreign_sentences(report, language, demo_data())
    assert not found, "\n".join(found)


def test_the_check_finds_a_sentence_of_the_other_language() -> None:
    assert foreign_sentences("- Acknowledged 2 minutes after the page\n", "fr", [])
    assert foreign_sentences("- RTO dépassé de 8 min\n", "en", [])
    assert not foreign_sentences(
        "- Title: restored after the fix\n", "fr", ["restored after the fix"]
    )
