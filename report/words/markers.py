"""The fill-in markers a draft leaves for people: `[TO COMPLETE: …]`, `[À COMPLÉTER: …]`.

Their words are every catalogue's `todo`, so a report drafted in one language and read by a
run in another is still counted whole.
"""

from __future__ import annotations

import re

from report.words.labels import CATALOGUE

MARKER_WORDS = tuple(sorted({tables["words"]["todo"] for tables in CATALOGUE.values()}))
# "[À COMPLÉTER: réponse]"; a person may add a space before the colon, as French typography has it.
MARKER = re.compile(r"\[(?:" + "|".join(re.escape(w) for w in MARKER_WORDS) + r")\s*:")
# The draft's opening note quotes the marker in a code span: a quotation, not a blank.
_CODE_SPAN = re.compile(r"`[^`\n]*`")


def count_markers(text: str) -> int:
    """How many fill-in markers `text` (a report.md) still has, quoted ones left out."""
    return len(MARKER.findall(_CODE_SPAN.sub("", text)))
