"""What finalizing reads in report.md: markers, suggestions kept, sign-offs, changed figures."""

from __future__ import annotations

import pytest

from report.final.figure_edits import changed_figures, figures_in, find_figure_edits
from report.final.markers import read_person_text

FR = """# Rapport

> Brouillon. Les champs marqués `[À COMPLÉTER: …]` sont à remplir.

## Informations Générales

- **Auteur du Rapport:** [À COMPLÉTER: nom]

## Root Cause Analysis (5 Whys)

### Question 2: [À COMPLÉTER : Pourquoi ?]
**Answer:** [TO COMPLETE: answer] and [À COMPLÉTER]

## Leçons Apprises

1. _Suggestion des données:_ RPO ATTEINT
1. _Suggested by the data:_ pasted from the English draft

## Signatures & Approbation

**Incident Report Prepared By:**
- Name: Alice Martin
- Title: SRE
- Date: 2025-10-27

**Reviewed By:**
- Name: [À COMPLÉTER: nom]
- Title: [À COMPLÉTER: fonction]
- Date: [À COMPLÉTER: AAAA-MM-JJ]

**Approved By:**
- Name: Dana Roy
- Title: CTO
- Date: 2025-10-28
"""


def test_every_catalogues_marker_is_found_with_its_line_and_section() -> None:
    text = read_person_text(FR)
    assert text.language == "fr"
    found = [(m.line, m.section, m.hint) for m in text.markers]
    assert found[:4] == [
        (7, "Informations Générales", "nom"),
        (11, "Root Cause Analysis (5 Whys) › Question 2", "Pourquoi ?"),
        (12, "Root Cause Analysis (5 Whys) › Question 2", "answer"),
        (12, "Root Cause Analysis (5 Whys) › Question 2", ""),
    ]
    assert len(found) == 7  # and the reviewer's three
    assert text.suggestions_kept == 2


def test_the_sign_off_names_are_read_and_a_marker_is_no_name() -> None:
    text = read_person_text(FR)
    signed = {s.role: (s.name, s.title, s.date) for s in text.signatures}
    assert signed["prepared_by"] == ("Alice Martin", "SRE", "2025-10-27")
    assert signed["reviewed_by"] == (None, None, None)
    assert signed["approved_by"] == ("Dana Roy", "CTO", "2025-10-28")
    assert signed["filed_by"] == (None, None, None)  # no block at all
    assert text.signed_by == "Dana Roy"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("- Revenue loss: $1 900 000 (@ $50 000/min)", [("money", 1900000.0), ("money", 50000.0)]),
        ("- Revenue loss: $190,000", [("money", 190000.0)]),
        ("- **Status:** ⚠️ DÉPASSÉ de 8 min", [("verdict", "missed"), ("duration", 480.0)]),
        ("- **Status:** ✅ MET", [("verdict", "met")]),
        ("- SLA: budget 43 min 12 s, used 88,0 %", [("duration", 2592.0), ("percent", 88.0)]),
        ("- Duration: 1 h 04 or 1 h 4 min", [("duration", 3840.0), ("duration", 3840.0)]),
        ("| 14:30 UTC | db-01:9100 | [log](https://x/1234) `rate(x[5m]) > 9`", [("time", "14:30")]),
        ("- Users: 12 500 users, 12,500 users", [("count", 12500.0), ("count", 12500.0)]),
        ("- Owner: [TO COMPLETE: 5 years]", []),
    ],
)
def test_figures_are_read_in_either_languages_marks(line: str, expected: list[object]) -> None:
    assert [(f.kind, f.value) for f in figures_in(line)] == expected


def test_the_same_value_written_otherwise_is_no_change() -> None:
    assert changed_figures("- Users: 12 500 users", "- Users: 12,500 users (about)") == []
    assert changed_figures("- Time: 38 min", "- Time: 38 minutes, then 3 tickets") == []


def test_a_suggestion_line_is_the_persons_to_rewrite() -> None:
    drafted = "1. _Suggested by the data:_ RTO MISSED by 8 min: 38 min for a target of 30 min"
    assert changed_figures(drafted, drafted.replace("38 min", "30 min")) == []


DRAFT = """# Report

## Computed Impact

### Business Impact

- Revenue loss: $1,900,000 (@ $50,000/min)
- Customer complaints: [TO COMPLETE: number]

## Recovery vs DRP

### RTO (Recovery Time Objective)
- **Target:** 30 min
- **Actual:** 38 min
- **Status:** ⚠️ MISSED by 8 min
"""
FIGURES = {
    "figures": [
        {"key": "revenue_impact", "value": 1900000, "unit": "$", "source": "business.x (1 $/min)"},
        {"key": "duration", "value": 2280, "unit": "s", "source": "PagerDuty trigger to resolve"},
    ],
    "objectives": [
        {"key": "rto", "target": 1800, "actual": 2280, "source": "endpoints_up `probe_success` (…)"}
    ],
}


def test_each_changed_figure_is_named_with_its_line_and_both_values() -> None:
    person = (
        DRAFT.replace("$1,900,000", "$190,000")
        .replace("[TO COMPLETE: number]", "12 tickets by 17:00")
        .replace("**Actual:** 38 min", "**Actual:** 30 min")
        .replace("⚠️ MISSED by 8 min", "✅ MET")
    )
    person = "Added: 99 % of users were happy\n" + person
    edits = find_figure_edits(DRAFT, person, FIGURES)
    assert [(e.line, e.label, e.person, e.computed) for e in edits] == [
        (8, "Revenue loss", "$190,000", "$1,900,000"),
        (15, "Actual", "30 min", "38 min"),
        (16, "Status", "MET", "MISSED"),
    ]
    assert edits[0].source == "business.x"
    # 38 min is both the PagerDuty duration and the RTO's actual: the section names the RTO.
    assert edits[1].source == "endpoints_up `probe_success`"
    assert edits[1].section == "Recovery vs DRP › RTO (Recovery Time Objective)"


def test_a_draft_left_as_it_was_has_no_edit() -> None:
    assert find_figure_edits(DRAFT, DRAFT, FIGURES) == []
    assert find_figure_edits(DRAFT, DRAFT.replace("- **Actual:** 38 min\n", ""), FIGURES) == []
