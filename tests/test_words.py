"""Words: facts into sentences, the same facts in French and in English."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from collector.records import Gap, GapKind
from report.words import Words, formats

TRUNCATED = Gap(
    "PagerDuty",
    "alerts",
    GapKind.TRUNCATED,
    "only the first 10000 of 10050 were fetched",
    10000,
    10050,
)
DROPPED = Gap("Prometheus", "huge", GapKind.DROPPED, "2 samples ... left out", 2)
FAILED = Gap("Prometheus", "mem", GapKind.UNFETCHED, "bad_data: 1:9: parse error", days=28)
LOG = Gap("PagerDuty", "log_entries", GapKind.UNFETCHED, "PagerDuty answered HTTP 500")
OTHER = Gap("", "", GapKind.OTHER, "an old line of unknown form")


@pytest.mark.parametrize(
    ("gap", "fr", "en"),
    [
        (
            TRUNCATED,
            "Liste PagerDuty alerts : seuls les 10 000 premiers éléments sur 10 050",
            "PagerDuty alerts: only the first 10,000 of 10,050 were fetched;",
        ),
        (
            DROPPED,
            "Requête Prometheus « huge » : 2 échantillons non numériques (NaN, ±Inf) écartés",
            "Prometheus query 'huge': 2 samples that are not finite numbers",
        ),
        (
            FAILED,
            "Requête Prometheus « mem » (28 jours) : échec de la collecte — bad_data: 1:9:",
            "Prometheus query 'mem' (28 days): bad_data: 1:9: parse error",
        ),
        (
            LOG,
            "Liste PagerDuty log_entries : échec de la collecte — PagerDuty answered HTTP 500",
            "PagerDuty log_entries: PagerDuty answered HTTP 500",
        ),
        (OTHER, "an old line of unknown form", "an old line of unknown form"),
    ],
)
def test_a_gap_is_worded_in_each_language_keeping_the_source_message(
    gap: Gap, fr: str, en: str
) -> None:
    assert Words("fr").gap(gap).startswith(fr)
    assert Words("en").gap(gap).startswith(en)


def test_a_query_warning_keeps_prometheus_words() -> None:
    assert Words("fr").query_warning("q", "too many samples") == (
        "Prometheus a émis un avertissement pour « q » : too many samples"
    )
    assert Words("en").query_warning("q", "x") == "Prometheus warned about 'q': x"


@pytest.mark.parametrize(
    ("minutes", "fr", "en"),
    [
        (38, "38 min", "38 min"),
        (64, "1 h 04", "1 h 4 min"),
        (1.5, "1 min 30 s", "1 min 30 s"),
        (120, "2 h", "2 h"),
        (3 * 24 * 60, "3 j", "3 days"),
    ],
)
def test_durations_in_each_language(minutes: float, fr: str, en: str) -> None:
    span = timedelta(minutes=minutes)
    assert formats.duration(span, "fr") == Words("fr").duration(span) == fr
    assert formats.duration(span, "en") == Words("en").duration(span) == en
    assert formats.duration(None, "fr") == "—"


def test_numbers_and_moments() -> None:
    assert Words("fr").number(12500) == formats.number(12500, language="fr") == "12 500"
    assert Words("en").number(12500.25, 1) == "12,500.2"
    assert formats.exact(0.6333333, "fr") == "0,633333"
    moment = datetime(2025, 10, 25, 14, 32, tzinfo=timezone.utc)
    assert formats.clock(moment, moment, "Europe/Paris") == "14:32 UTC (16:32 CEST)"
    assert formats.clock(moment, moment + timedelta(days=1)) == "2025-10-25 14:32 UTC"
    assert formats.utc(moment) == "2025-10-25 14:32 UTC" and formats.date(moment) == "2025-10-25"


def test_every_catalogue_has_every_key_of_every_table() -> None:
    # A language is one file under report/words/catalogues/; each must say everything.
    from report.words.labels import CATALOGUE, LANGUAGES

    assert set(LANGUAGES) >= {"fr", "en"}
    reference = CATALOGUE["en"]
    for language, tables in CATALOGUE.items():
        assert tables.keys() == reference.keys(), language
        for name, table in tables.items():
            missing = reference[name].keys() - table.keys()
            extra = table.keys() - reference[name].keys()
            assert not missing and not extra, (language, name, missing, extra)
            assert all(isinstance(text, str) for text in table.values()), (language, name)
