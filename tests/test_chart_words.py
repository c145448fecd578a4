"""Every word drawn inside a chart follows the report's language (issue 12).

Each chart is drawn in French and in English; the strings on the drawn figure (titles, axis
labels, ticks, legends, annotations) are read back and checked for the other language's words.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from analysis_support import analyse_snapshot
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT
from language_check import CHART_TELLTALES, foreign_sentences, strings_in
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from test_memory_context import context_record

from collector import parallel
from collector.analysis.fleet import review_host
from collector.analysis.fleet_series import ReviewedSeries
from collector.analysis.memory_context import review_context
from collector.config import FleetSettings, load_config
from collector.jobs.runner import Runner
from collector.snapshot.store import load_snapshot
from report.charts import base
from report.charts.context import draw_context_chart
from report.charts.fleet import draw_heatmap, draw_small_multiples
from report.charts.metric import draw_metric_chart
from report.draft import plan_charts
from report.memory_context import span_words
from report.words import Words
from report.words.fleet import FLEET_LABELS
from report.words.labels import LABELS

LANGUAGES = ("fr", "en")
UNTIL = datetime(2026, 3, 29, tzinfo=timezone.utc)
Drawn = dict[str, list[str]]


def figure_texts(fig: Figure) -> list[str]:
    """Every string shown on a drawn figure: titles, labels, ticks, legends, annotations."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Drawn:
    """The strings of every chart saved during the test, by file name (drawn in this process)."""
    texts: Drawn = {}
    write = base.write_png

    def keep(canvas: FigureCanvasAgg, path: Path) -> None:
        texts[path.name] = figure_texts(canvas.figure)
        write(canvas, path)

    monkeypatch.setattr(base, "write_png", keep)
    monkeypatch.setattr(parallel, "fork_workers", lambda jobs, **_: 0)
    return texts


def demo_data() -> list[str]:
    snapshot = json.loads(DEMO_SNAPSHOT.read_text(encoding="utf-8"))
    config = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    return [*strings_in(snapshot), *strings_in(config)]


def assert_one_language(texts: Drawn, language: str, data: list[str]) -> None:
    assert texts
    for name, strings in texts.items():
        assert strings, name
        found = foreign_sentences("\n".join(strings), language, data, CHART_TELLTALES)
        assert not found, f"{name} ({language}): " + "\n".join(found)


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_incident_charts_speak_the_report_language(
    drawn: Drawn, tmp_path: Path, language: str
) -> None:
    config = load_config(DEMO_CONFIG, {})
    snapshot = load_snapshot(DEMO_SNAPSHOT)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    analysis = analyse_snapshot(snapshot.pagerduty, snapshot.prometheus, config, now)
    words = Words(language)
    timeline, planned = plan_charts(analysis, tmp_path, config.report.timezone, words=words)
    Runner().draw([timeline, *(job for _, job in planned)])
    summary = analysis.summaries[0]
    empty = analysis.frame.iloc[:0]
    window = analysis.window
    no_data = tmp_path / "no_data.png"
    draw_metric_chart(empty, summary, (), window, window, {}, no_data, words)
    assert {"timeline.png", "memory_trend_db_01_9100.png", "no_data.png"} <= drawn.keys()
    assert_one_language(drawn, language, demo_data())
    other = Words("en" if language == "fr" else "fr")
    assert other.say("chart_no_data") not in drawn["no_data.png"]
    assert words.say("chart_no_data") in drawn["no_data.png"]


def hourly_context(values: np.ndarray) -> dict[str, object]:
    start = datetime(2025, 9, 27, 16, tzinfo=timezone.utc).timestamp()
    return context_record([[start + 3600 * i, str(v)] for i, v in enumerate(values)])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_context_chart_speaks_the_report_language(
    drawn: Drawn, tmp_path: Path, language: str
) -> None:
    hours = np.arange(28 * 24)
    contexts = review_context([hourly_context(30 + 1.5 * hours / 24)])  # 1.5 %/day
    words = LABELS[language]
    incident = datetime(2025, 10, 25, 14, tzinfo=timezone.utc)
    title = words["context_title"].format(
        span=span_words(timedelta(days=28), Words(language)), instance="db-01:9100"
    )
    window = (incident, incident + timedelta(hours=1))
    draw_context_chart(contexts, window, title, words, tmp_path / "context.png")
    assert_one_language(drawn, language, ["db-01:9100"])


def reviewed(name: str, values: np.ndarray) -> ReviewedSeries:
    times = UNTIL.timestamp() - 3600.0 * np.arange(values.size)[::-1]
    review = review_host(times, values, instance=name, kind="memory", until=UNTIL)
    return ReviewedSeries("memory_used", {"instance": name}, review, times, values, False)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_fleet_charts_speak_the_report_language(
    drawn: Drawn, tmp_path: Path, language: str
) -> None:
    words = FLEET_LABELS[language]
    hours = np.arange(28 * 24)
    top = [reviewed("grow-1", 30 + 2 * hours / 24), reviewed("calm-1", 40 + 0 * hours)]
    start = UNTIL - timedelta(days=28)
    settings = FleetSettings()
    path = tmp_path / "top.png"
    draw_small_multiples(top, lambda s: [], start, UNTIL, settings, words, path)
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-03-01", periods=28, freq="D").date
    hosts = [f"host-{i:03d}" for i in range(80)]  # over MAX_HEATMAP_ROWS: the spread too
    frame = pd.DataFrame(rng.uniform(10, 95, (80, 28)), columns=days, index=hosts)
    draw_heatmap(frame, "Memory", words, tmp_path / "heatmap.png")
    assert_one_language(drawn, language, ["grow-1", "calm-1", "Memory", *hosts])
