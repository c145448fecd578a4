"""The catalogues: every word the reports, charts and hand-offs show, one file per language.

`catalogues/<language>.toml` holds the words of one language in tables (words, sentences,
hints, notes, charts, gaps, sources, handoff, fleet); French reproduces the team template's
headings. Adding a language is adding one catalogue with the same keys (tests check that
every catalogue has them all).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

CATALOGUES = Path(__file__).parent / "catalogues"
# The tables an incident report reads, merged into one mapping in this order.
REPORT_TABLES = (
    "words",
    "sentences",
    "hints",
    "notes",
    "charts",
    "gaps",
    "sources",
    "trends",
    "review",
)


def read_catalogues(folder: Path = CATALOGUES) -> dict[str, dict[str, dict[str, str]]]:
    """Each language's catalogue by its code (the file's name), table by table."""
    catalogues = {}
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as handle:
            catalogues[path.stem] = tomllib.load(handle)
    return catalogues


CATALOGUE = read_catalogues()
LANGUAGES = tuple(CATALOGUE)

LABELS: dict[str, dict[str, str]] = {
    language: {key: text for table in REPORT_TABLES for key, text in tables[table].items()}
    for language, tables in CATALOGUE.items()
}

# Hand-off messages: the chat notice and the PagerDuty note about a new draft.
HANDOFF: dict[str, dict[str, str]] = {lang: tables["handoff"] for lang, tables in CATALOGUE.items()}

# The final report's own words: its first lines and its hand-offs (`collect --finalize`).
FINAL: dict[str, dict[str, str]] = {lang: tables["final"] for lang, tables in CATALOGUE.items()}

# The final report's Confluence page, as the hand-offs name it (`collect --finalize`).
CONFLUENCE: dict[str, dict[str, str]] = {
    lang: tables["confluence"] for lang, tables in CATALOGUE.items()
}

# The words of action items and of filing them in a tracker (`collect --finalize`).
FILED: dict[str, dict[str, str]] = {lang: tables["filed"] for lang, tables in CATALOGUE.items()}
