"""Words of the fleet memory-trend review, per language: the `fleet` table of each catalogue.

Sentences with numbers are templates filled with `str.format` by the review's template.
"""

from __future__ import annotations

from report.words.labels import CATALOGUE

FLEET_LABELS: dict[str, dict[str, str]] = {
    lang: tables["fleet"] for lang, tables in CATALOGUE.items()
}
