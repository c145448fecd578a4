"""Issue 26: memory statements the data supports — a short history, a host that ran out,
an exact straight line, a snapshot without the 28-day context. Shapes built by construction."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT

from collector.analysis.detection import backtest_thresholds, compute_detection_delay
from collector.analysis.fleet import HostReview, Verdict
from collector.analysis.fleet_review import FleetAnalysis
from collector.analysis.fleet_series import ReviewedSeries
from collector.analysis.memory import analyse_memory_trends
from collector.analysis.memory_context import MIN_LONG_TREND_SPAN, review_context
from collector.config import load_config
from collector.jobs.draft import draft_incident
from collector.jobs.runner import Runner
from collector.snapshot.fleet import FleetSource
from collector.snapshot.prometheus import QueryResult
from collector.snapshot.store import load_snapshot
from report import fleet_draft, suggestions
from report.context_draft import plan_context_charts
from report.memory_context import context_sentence
from report.render import render_markdown
from report.suggestions import findings
from report.words import Words

END = datetime(2025, 10, 25, 16, tzinfo=timezone.utc)  # the context window's end
T0 = datetime(2025, 10, 25, 14, tzinfo=timezone.utc)
DB = '{instance="db-01:9100",job="node"}'
APP2 = '{instance="app-2:9100",job="node"}'
MEMORY = QueryResult("mem", kind="memory", unit="%", thresholds=(80.0, 95.0))
INCIDENT = (datetime(2025, 10, 25, 14, 20, tzinfo=timezone.utc), END)


def record(kind: str, samples: list[tuple[float, float]]) -> dict[str, object]:
    """A 28-day context record of db-01 (hourly), with these (epoch seconds, percent) samples."""
    return {
        "name": f"{kind}_used",
        "kind": kind,
        "query": "q",
        "start": "2025-09-27T16:00:00Z",
        "end": "2025-10-25T16:00:00Z",
        "step": 3600,
        "result": [
            {"metric": {"instance": "db-01:9100"}, "values": [[t, str(v)] for t, v in samples]}
        ],
        "error": None,
    }


def recent_climb(hours: int) -> list[tuple[float, float]]:
    """A host first scraped `hours` before the window's end: 50 % climbing 3 %/hour."""
    end = END.timestamp()
    return [(end - 3600 * h, 50.0 + 3.0 * (hours - h)) for h in range(hours, -1, -1)]


def test_seven_hours_of_history_say_so_and_judge_no_long_trend() -> None:
    # First scraped at 07:00, 7 h 20 min before the incident: "7 h".
    (context,) = review_context([record("memory", recent_climb(9))], None, INCIDENT[0])
    assert context.history < MIN_LONG_TREND_SPAN and not context.judged
    en = context_sentence(context, Words("en"))
    assert en.startswith("Memory: only 7 h of history before the incident, too short to judge")
    assert "%/day" not in en and "leak" not in en
    fr = context_sentence(context, Words("fr"))
    assert fr.startswith("Mémoire : seulement 7 h d'historique avant l'incident")


def test_the_context_chart_is_titled_with_the_span_it_shows(tmp_path: Path) -> None:
    reviewed = review_context([record("memory", recent_climb(9))], {"db-01:9100"}, INCIDENT[0])
    planned = plan_context_charts(reviewed, INCIDENT, tmp_path, Words("en"), {"db-01:9100"})
    shown, _job = planned["db-01:9100"]
    assert shown.title == "Context over 9 h: db-01:9100"
    assert "28" not in shown.title


def test_a_swap_at_zero_for_weeks_is_no_spike() -> None:
    start = END.timestamp() - 28 * 86_400
    flat = [(start + 3600 * h, 0.0) for h in range(28 * 24 + 1)]
    (context,) = review_context([record("swap", flat)], None, INCIDENT[0])
    assert context.judged and context.idle
    en = context_sentence(context, Words("en"))
    assert en == "Swap over 28 days: at 0 % throughout, never used"
    assert "spike" not in en
    assert "pic" not in context_sentence(context, Words("fr"))


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo's report.md in English and French (no PDF)."""
    snapshot = load_snapshot(DEMO_SNAPSHOT)
    reports = {}
    for lang in ("en", "fr"):
        config = load_config(DEMO_CONFIG, {})
        config = replace(config, report=replace(config.report, language=lang, pdf="never"))
        folder = tmp_path_factory.mktemp(lang)
        draft_incident(snapshot, config, Runner(), folder)
        reports[lang] = (folder / "report.md").read_text(encoding="utf-8")
    return reports


def _section(report: str, start: str, end: str) -> str:
    return report[report.index(start) : report.index(end, report.index(start))]


@pytest.mark.slow
def test_a_host_killed_by_the_oom_killer_gets_no_saturation_forecast(
    demo_reports: dict[str, str],
) -> None:
    en = demo_reports["en"]
    trend = _section(en, "**memory db-01:9100:**", "\n")
    assert "ran out at 14:31 UTC" in trend
    assert "memory fell from 97 % to 18 %" in trend
    assert "exhausted at" not in trend
    swap = _section(en, "**swap db-01:9100:**", "\n")
    assert "restarted at 14:31 UTC" in swap and "exhausted at" not in swap
    assert "would have been exhausted" not in en
    assert "it ran out at 14:31 UTC and restarted: memory fell from 97 % to 18 %" in en
    fr = demo_reports["fr"]
    assert "saturation prévue" not in fr and "saturation à 15:24" not in fr
    assert "saturée à 14:31 UTC (16:31 CEST) puis redémarrée" in fr


@pytest.mark.slow
def test_an_exact_straight_line_is_said_so(demo_reports: dict[str, str]) -> None:
    # The demo's climb is built as a straight line: Sen's interval is one number.
    en = demo_reports["en"]
    assert "+20.0 to +20.0" not in en
    assert "change +20.0 %/hour before the page (an exact straight line)" in en
    assert "+20,0 à +20,0" not in demo_reports["fr"]


def test_a_snapshot_without_context_says_why_in_plain_words(
    demo_reports: dict[str, str],
) -> None:
    en = demo_reports["en"]
    assert "No 28-day context in this snapshot" not in en
    assert "saved without the query for the 28 days before it" in en
    assert "sans la requête des 28 jours" in demo_reports["fr"]


def test_an_exact_straight_line_over_weeks_is_said_so() -> None:
    start = END.timestamp() - 28 * 86_400
    line = [(start + 3600 * h, 40.0 + h / 24) for h in range(28 * 24 + 1)]  # +1 %/day exactly
    (context,) = review_context([record("memory", line)], None, INCIDENT[0])
    en = context_sentence(context, Words("en"))
    assert en.endswith("+1.00 %/day (an exact straight line)"), en
    assert "+1,00 %/jour (une droite exacte)" in context_sentence(context, Words("fr"))


def _frame(values: dict[str, list[float]], step: timedelta) -> pd.DataFrame:
    """Series of query "mem" from 14:00, one sample every `step`, by label text."""
    rows = [
        ("mem", series, T0 + i * step, float(v))
        for series, samples in values.items()
        for i, v in enumerate(samples)
    ]
    frame = pd.DataFrame(rows, columns=["query", "series", "time", "value"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def test_a_healthy_hosts_quiet_backtest_is_not_what_did_not_work() -> None:
    climb = [76, 78, 80, 82, 84, 86, 88, 90, 92, 94, 96, 10]  # db-01 ran out at 14:10
    frame = _frame({DB: climb, APP2: [50.0] * 12}, timedelta(minutes=1))
    page = T0 + timedelta(minutes=12)
    trends = analyse_memory_trends(frame, [MEMORY], page, growth_warning=5.0)
    backtests = [
        result
        for series in (DB, APP2)
        for result in backtest_thresholds(frame, "mem", series, [80, 95], page)
    ]
    found = findings(trends, compute_detection_delay(trends, page), backtests, Words("en"))
    assert any("Alert backtest for memory on db-01:9100" in line for line in found)
    assert not any("app-2" in line for line in found), found


def test_suggestions_format_their_numbers_in_french() -> None:
    # 12.5 points every 30 s: 1,500 %/hour, against a warning rate of 0.5 %/hour.
    frame = _frame({DB: [5 + 12.5 * i for i in range(7)]}, timedelta(seconds=30))
    page = T0 + timedelta(minutes=3)
    memory = replace(MEMORY, thresholds=(62.5,))
    trends = analyse_memory_trends(frame, [memory], page, growth_warning=0.5)
    delay = compute_detection_delay(trends, page)
    french = Words("fr")
    found = " ".join(findings(trends, delay, [], french))
    assert "hausse de 1 500,0 %/h" in found and "seuil d'alerte de 0,5 %/h" in found
    assert "seuil de 62,5 % franchi" in found and "0.5" not in found
    analysis = SimpleNamespace(trends=trends, delay=delay, backtests=[])
    (action,) = suggestions._actions(analysis, french)  # type: ignore[arg-type]
    assert action == "Avertir quand la mémoire croît de plus de 0,5 %/h (db-01:9100 : 1 500,0 %/h)"


def _review(instance: str, verdict: Verdict, growth: float | None) -> HostReview:
    seen = END - timedelta(days=28)
    return HostReview(
        instance=instance,
        kind="memory",
        current_percent=42.5,
        peak_percent=50.0,
        growth_percent_per_day=growth,
        growth_low=None if growth is None else growth / 2,
        growth_high=None if growth is None else growth * 2,
        exhaustion_at=END + timedelta(hours=12) if growth else None,
        beyond_horizon=False,
        restarts=0,
        reset_times=(),
        fit_start=seen if growth else None,
        fit_end=END if growth else None,
        fit_intercept_percent=30.0 if growth else None,
        change_point=None,
        week_over_week_change=0.5,
        first_seen=seen,
        last_seen=END,
        verdict=verdict,
    )


def test_the_fleet_review_formats_its_numbers_in_french(tmp_path: Path) -> None:
    # 1,200 hosts: one growing 0.5 %/day (full in half a day), the rest steady.
    reviews = [_review("grow-01:9100", Verdict.GROWING, 0.5)]
    reviews += [_review(f"web-{n:04d}:9100", Verdict.STEADY, None) for n in range(1199)]
    empty = np.zeros(0)
    series = [
        ReviewedSeries("memory_used", {"instance": r.instance}, r, empty, empty, False)
        for r in reviews
    ]
    analysis = FleetAnalysis(END - timedelta(days=28), END, series, {}, {}, False, 0)
    source = FleetSource("", "", 1500, 28 * 86_400.0, [], [])
    config = load_config(DEMO_CONFIG, {})
    config = replace(config, report=replace(config.report, language="fr"))
    context = fleet_draft._context(analysis, source, config, END, [], tmp_path)
    report = render_markdown(context, "fr", None, template=fleet_draft.TEMPLATE)
    assert "Hôtes passés en revue : 1 200 (séries mémoire et swap : 1 200)" in report
    assert "dans 0,5 jours" in report
    assert "| +0,50 [+0,25, +1,00] |" in report and "| 42,5 % |" in report
    assert "croît de 0,5 %/jour" in report
    assert "Requêtes Prometheus: 1 500;" in report
    assert "0.5" not in report and "42.5" not in report
