"""Fill rate: every field of the team template that data can give is filled on the demo.

The fields below are the template's own (../shared/seed/post-incident-report-template.md),
each marked with who fills it: the data, or people. The test lists both kinds and fails when a
data field is left to people, or a people field pretends to be known.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from collector.cli import main

TODO = "[À COMPLÉTER:"
# (section heading, field label as in the template, who fills it)
SEED_FIELDS = [
    ("## Informations Générales", "Titre", "data"),
    ("## Informations Générales", "Date/Heure Début", "data"),
    ("## Informations Générales", "Date/Heure Fin", "data"),
    ("## Informations Générales", "Durée Totale", "data"),
    ("## Informations Générales", "Sévérité", "data"),
    ("## Informations Générales", "Impact", "both"),
    ("## Informations Générales", "Auteur du Rapport", "data"),
    ("## Informations Générales", "Date du Rapport", "data"),
    ("### Détection", "Heure", "data"),
    ("### Détection", "Détecté par", "data"),
    ("### Détection", "Symptôme initial", "data"),
    ("### Détection", "Impact immédiat", "data"),
    ("### Détection", "Revenue impact", "data"),
    ("### Business Impact", "Users affected", "data"),
    ("### Business Impact", "Duration", "data"),
    ("### Business Impact", "Revenue loss", "data"),
    ("### Business Impact", "SLA impact", "data"),
    ("### Business Impact", "Customer complaints", "people"),
    ("### Business Impact", "Retention impact", "people"),
    ("### Technical Impact", "Data loss", "both"),
    ("### Technical Impact", "Queries affected", "people"),
    ("### Technical Impact", "APIs down", "data"),
    ("### Technical Impact", "Mobile app", "people"),
    ("### Technical Impact", "Dashboard", "people"),
    ("### Technical Impact", "Websocket connections", "data"),
    ("### Team Impact", "On-call hours", "data"),
    ("### Team Impact", "Engineering hours", "data"),
    ("### Team Impact", "Sleep disrupted", "both"),
    ("### Team Impact", "Stress level", "people"),
    ("### RPO (Recovery Point Objective)", "Cible", "data"),
    ("### RPO (Recovery Point Objective)", "Réel", "data"),
    ("### RPO (Recovery Point Objective)", "Status", "data"),
    ("### RTO (Recovery Time Objective)", "Cible", "data"),
    ("### RTO (Recovery Time Objective)", "Réel", "data"),
    ("### RTO (Recovery Time Objective)", "Status", "data"),
    ("### Uptime SLA", "Cible", "data"),
    ("### Uptime SLA", "Status", "data"),
    ("## Archivage", "Report Location", "data"),
    ("## Archivage", "Retention", "data"),
    ("## Archivage", "Distribution", "data"),
    ("## Archivage", "Review Date", "data"),
]


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo's report.md, drafted in-process."""
    out = tmp_path_factory.mktemp("fill")
    result = CliRunner().invoke(main, ["--demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")


def field_line(report: str, heading: str, label: str) -> str:
    """The line of `label` inside the section under `heading`."""
    section = report.split(heading + "\n", 1)[1]
    section = re.split(r"\n#{2,3} ", section, maxsplit=1)[0]
    pattern = re.compile(rf"^[-*\s]*\**{re.escape(label)}:?\**:?\s*(.*)$", re.MULTILINE)
    match = pattern.search(section)
    assert match, f"field {label!r} missing under {heading!r}"
    return match.group(1)


def test_every_data_field_is_filled_and_people_fields_are_marked(demo_report: str) -> None:
    filled, to_people, wrong = [], [], []
    for heading, label, who in SEED_FIELDS:
        value = field_line(demo_report, heading, label)
        has_data = bool(value.replace(TODO, "").strip(" []—")) and not value.startswith(TODO)
        has_todo = TODO in value
        (filled if has_data else to_people).append(label)
        if (who == "data" and (has_todo or not has_data)) or (who == "people" and not has_todo):
            wrong.append(f"{heading} / {label}: {value!r} (expected {who})")
        if who == "both" and not (has_data and has_todo):
            wrong.append(f"{heading} / {label}: {value!r} (expected data and a prompt)")
    print(f"filled from data ({len(filled)}): {', '.join(filled)}")
    print(f"left to people ({len(to_people)}): {', '.join(to_people)}")
    assert not wrong, "\n".join(wrong)
    assert len(filled) >= 34


def test_five_whys_start_with_a_suggestion_and_leave_the_rest(demo_report: str) -> None:
    rca = demo_report.split("## Root Cause Analysis (5 Whys)", 1)[1].split("\n---", 1)[0]
    answers = re.findall(r"\*\*Answer:\*\* (.*)", rca)
    assert len(answers) == 5
    assert answers[0].startswith("_Suggestion des données:_ PostgreSQL down on db-01")
    assert "memory\\_used" in answers[0] and "avait franchi 80 à 14:24" in answers[0]
    assert all(a == f"{TODO} réponse]" for a in answers[1:])


def test_every_marker_is_the_same_searchable_form(demo_report: str) -> None:
    markers = re.findall(r"\[À COMPL[^:\]]*", demo_report)
    assert markers and set(markers) == {"[À COMPLÉTER"}
    assert "[TO COMPLETE" not in demo_report


@pytest.mark.slow
def test_without_a_config_each_missing_setting_is_named_once_and_sentences_hold(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from hardening_support import demo_data, write_json

    out = tmp_path_factory.mktemp("noconfig")
    data = demo_data()
    del data["settings"]  # a snapshot that keeps no settings: the defaults are used
    snapshot = write_json(out / "snapshot.json", data)
    args = ["--snapshot", str(snapshot), "--out", str(out), "--lang", "en"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    block = report.split("**⚙️ Settings that would fill more of this report**", 1)[1]
    block = block.split("\n\n", 1)[0]
    keys = re.findall(r"^> - `([^`]+)`", block, re.MULTILINE)
    assert keys == [
        "business.revenue_per_minute",
        "targets.slo_percent",
        "report.timezone",
        "targets.rto",
        "targets.rpo",
    ]
    assert "not configured" not in report
    assert "Revenue loss: [TO COMPLETE: business.revenue_per_minute]" in report


def test_the_demo_leaves_52_markers_and_says_so(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The count README.md gives; each data suggestion above is one marker fewer (58 before)."""
    out = tmp_path_factory.mktemp("count")
    result = CliRunner().invoke(main, ["--demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "52 fields left for people"


def test_closing_suggestions_name_the_data(demo_report: str) -> None:
    suggested = "_Suggestion des données:_ "
    assert f"**Auteur du Rapport:** {suggested}Alice Martin (a résolu l'incident)" in demo_report
    assert "première alerte à 14:32 UTC (16:32 CEST) : PostgresDown: PostgreSQL" in demo_report
    assert "premier signal côté utilisateurs en panne : HTTP endpoints up" in demo_report
    assert "Alice Martin : 37 min, de la première notification à 14:33 UTC" in demo_report
    assert "Bruno Keller : 34 min" in demo_report and "rien de nuit (22:00–07:00)" in demo_report
    immediate = demo_report.split("### Immédiat (Fait le même jour)", 1)[1].split("###", 1)[0]
    actions = re.findall(r"^- \[x\] " + re.escape(suggested) + r"(\S+)", immediate, re.M)
    assert actions == ["14:34", "14:35", "14:38", "14:40", "14:45", "14:52", "15:05"]
    assert f"**Retention:** {suggested}5 years" in demo_report
    assert f"**Distribution:** {suggested}sre@example.com, \\#incidents" in demo_report
    assert f"**Review Date:** {suggested}2025-11-24 (30 jours après la résolution)" in demo_report
