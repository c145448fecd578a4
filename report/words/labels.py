"""Report wording per language: one catalogue module per language (report/lang_xx.py).

French reproduces the team template's headings. Adding a language is adding one catalogue
module with the same keys and one line in each table below.
"""

from __future__ import annotations

from report.words import en as lang_en
from report.words import fr as lang_fr

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        **lang_fr.WORDS,
        **lang_fr.SENTENCES,
        **lang_fr.HINTS,
        **lang_fr.NOTES,
        **lang_fr.CHARTS,
        **lang_fr.GAPS,
        **lang_fr.SOURCES,
    },
    "en": {
        **lang_en.WORDS,
        **lang_en.SENTENCES,
        **lang_en.HINTS,
        **lang_en.NOTES,
        **lang_en.CHARTS,
        **lang_en.GAPS,
        **lang_en.SOURCES,
    },
}

# Hand-off messages: the chat notice and the PagerDuty note about a new draft.
HANDOFF: dict[str, dict[str, str]] = {"fr": lang_fr.HANDOFF, "en": lang_en.HANDOFF}
