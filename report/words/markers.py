"""The fill-in markers a draft leaves for people: `[TO COMPLETE: …]`, `[À COMPLÉTER: …]`.

One definition, for the count `collect` and OUT/index.html give and for `--finalize`. Their
words are every catalogue's `todo`, so a report drafted in one language and finished in another
is still read whole.
"""

from __future__ import annotations

import re

from report.words.labels import LABELS


def catalogue_words(key: str) -> str:
    """Every catalogue's word for `key`, as regex alternatives (the longest first)."""
    words = sorted({labels[key] for labels in LABELS.values()}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in words)


# `[TO COMPLETE: hint]`, `[À COMPLÉTER : hint]`, `[TO COMPLETE]`: a person may add a space
# before the colon, as French typography has it, or leave the hint out.
MARKER = re.compile(rf"\[(?:{catalogue_words('todo')})\s*(?::\s*(?P<hint>[^\]]*))?\]")
# The draft's opening note quotes the marker in a code span: a quotation, not a blank.
CODE_SPAN = re.compile(r"`[^`\n]*`")


def count_markers(text: str) -> int:
    """How many fill-in markers `text` (a report.md) still has, quoted ones left out."""
    return len(MARKER.findall(CODE_SPAN.sub("", text)))
