"""The report's 28-day memory context: one small chart per host, with its sentences.

The hosts' contexts come reviewed (`collector.analysis.memory_context.review_context`, asked by
`collector.jobs.draft`); a snapshot without the context gets no chart (the report says so).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from collector.analysis.memory_context import HostContext
from collector.paths import path_under, unique_slugs
from report.charts.drawing import draw_context
from report.charts.plan import CONTEXT_PIXELS, ChartJob
from report.memory_context import context_sentence, span_words
from report.model import ChartRef
from report.words import Words


def plan_context_charts(
    reviewed: Sequence[HostContext],
    incident: tuple[datetime, datetime],
    folder: Path,
    words: Words,
    instances: Collection[str],
) -> dict[str, tuple[ChartRef, ChartJob]]:
    """Per instance with a memory trend chart, the report's chart entry (section "memory",
    with sentences) and the job that draws its file."""
    by_instance: dict[str, list[HostContext]] = {}
    for context in reviewed:
        by_instance.setdefault(context.review.instance, []).append(context)
    planned: dict[str, tuple[ChartRef, ChartJob]] = {}
    labels = words.catalogue
    names = unique_slugs(instances)  # the trend charts' names: `trend_chart_path`
    for instance, contexts in by_instance.items():
        relative = f"charts/memory_context_{names[instance]}.png"
        # The span shown, not the one asked for: a host with 7 hours of history shows 7 hours.
        span = span_words(max(c.shown_span for c in contexts), words)
        title = words.say("context_title", span=span, instance=instance)
        path = path_under(folder, relative)
        draw = partial(draw_context, contexts, incident, title, labels, path)
        sentences = [context_sentence(c, words) for c in contexts]
        shown = ChartRef(title, relative, "memory", sentences=tuple(sentences))
        planned[instance] = (shown, ChartJob(path, CONTEXT_PIXELS, draw))
    return planned


def trend_chart_path(name: str) -> str:
    """Where a host's memory trend chart goes, from its slug among the report's hosts
    (`collector.paths.unique_slugs`: 'app-1:9100' and 'app.1:9100' never share a file)."""
    return f"charts/memory_trend_{name}.png"


def place_context(
    charts: list[ChartRef], contexts: Mapping[str, ChartRef], instances: Collection[str]
) -> list[ChartRef]:
    """The charts with each host's context chart right after its memory trend chart
    (`instances`: the hosts with a trend chart)."""
    names = unique_slugs(instances)
    after = {trend_chart_path(names[i]): entry for i, entry in contexts.items()}
    placed: list[ChartRef] = []
    for chart in charts:
        placed.append(chart)
        if chart.path in after:
            placed.append(after.pop(chart.path))
    return placed + list(after.values())
