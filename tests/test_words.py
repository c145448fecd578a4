"""Words: facts into sentences, the same facts in French and in English."""

from __future__ import annotations

import pytest

from collector.records import Gap, GapKind
from report.words import Words

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
