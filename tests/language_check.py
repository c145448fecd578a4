"""Find sentences of one language in a report written in the other.

The data itself (anything in the snapshot or the config: titles, notes, names, queries,
PagerDuty's own summaries) is removed first: only the tool's own words are judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Words that only a sentence of that language would hold, padded so that "other" or
# "theta" do not count as "the".
TELLTALES = {
    "en": [
        " the ",
        "not configured",
        "minutes",
        "would have",
        " after ",
        " before ",
        "restored",
        " of downtime",
        "working hours",
        "upper bound",
        " against ",
        " no data",
        " series;",
        "grew ",
        "crossed ",
    ],
    "fr": [
        "après",
        "avant",
        "non configuré",
        "panne",
        "rétabli",
        " sur ",
        "données",
        "heures ouvrées",
        "dépassé",
        " à ",
        "franchi",
    ],
}
# Inside charts, short labels carry no sentence: their own words give a language away.
CHART_TELLTALES = {
    "en": [
        *TELLTALES["en"],
        "threshold",
        "trend",
        "timeline",
        " used",
        "no data",
        "earlier",
        "more series",
        "alert ",
        "detected",
        "acknowledged",
        "resolved",
        " time ",
        " of ",
        " at ",
        " up ",
        " all ",
        "median",
        "percentile",
        "daily",
        "most urgent",
        "whole fleet",
        "fitted",
        "28-day",
    ],
    "fr": [
        *TELLTALES["fr"],
        "seuil",
        "tendance",
        "chronologie",
        "utilisé",
        "pas de données",
        "plus tôt",
        "autres séries",
        "alerte",
        "détection",
        "acquittement",
        "résolution",
        "heure",
        "en service",
        "toutes",
        "médiane",
        "e centile",
        "quotidienne",
        "hôtes",
        "flotte",
        "ajustée",
        "28 jours",
    ],
}


def strings_in(value: Any) -> Iterable[str]:
    """Every string anywhere in a parsed JSON or YAML document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def foreign_sentences(
    report: str,
    language: str,
    data: Iterable[str],
    telltales: Mapping[str, list[str]] = TELLTALES,
) -> list[str]:
    """The lines of `report` that hold a telltale word of the other language."""
    other = "fr" if language == "en" else "en"
    text = report.replace("\\", "")
    # Identifiers such as "memory" or "errors" (query kinds, names) stay: only phrases and long
    # names are data that could hold a telltale word.
    phrases = {d for d in data if " " in d.strip() or len(d) >= 12}
    for item in sorted(phrases, key=len, reverse=True):
        text = text.replace(item, "⟨data⟩")
    text = re.sub(r"`[^`]*`", "⟨code⟩", text)  # queries and config keys quoted as code
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    found = []
    for line in text.splitlines():
        padded = f" {line.lower()} "
        words = [w for w in telltales[other] if w in padded]
        if words:
            found.append(f"{words}: {line.strip()}")
    return found
