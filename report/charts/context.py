"""The 28-day memory context of one host: a small chart beside its incident-window trend.

Data in, PNG path out; Agg backend, object-oriented API. Words come from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from collector.analysis.fleet import Verdict  # noqa: E402
from collector.analysis.memory_context import HostContext  # noqa: E402
from report.charts.base import PALETTE, date_num, plain, save  # noqa: E402
from report.charts.fleet import INCIDENT_COLOR, _dates, thin_for_drawing  # noqa: E402
from report.charts.plan import CONTEXT_DPI, CONTEXT_SIZE  # noqa: E402

FITTED = (Verdict.LEAK, Verdict.GROWING)


def draw_context_chart(
    contexts: Sequence[HostContext],
    window: tuple[datetime, datetime],
    title: str,
    words: Mapping[str, str],
    path: Path,
) -> Path:
    """One host's memory (and swap) in % over the context window, the incident shaded."""
    fig = Figure(figsize=CONTEXT_SIZE, dpi=CONTEXT_DPI)
    ax = fig.add_subplot()
    for number, context in enumerate(contexts):
        times, values = thin_for_drawing(context.times, context.values)
        label = words.get(f"kind_{context.review.kind}", context.review.kind)
        ax.plot(_dates(times), values, color=PALETTE[number * 2], linewidth=0.9, label=label)
        # No long trend drawn from a history too short to judge one (`HostContext.judged`).
        if context.judged and context.review.verdict in FITTED:
            _draw_fit(ax, context, words["context_trend"])
    # Minutes in four weeks are a hair: a line marks the start, the span its length.
    ax.axvspan(
        date_num(window[0]), date_num(window[1]), color=INCIDENT_COLOR, alpha=0.3, linewidth=0
    )
    ax.axvline(
        date_num(window[0]), color=INCIDENT_COLOR, linewidth=1.6, label=words["context_incident"]
    )
    ax.set_ylim(0, 105)
    ax.set_ylabel("%", fontsize=8)
    _format_date_axis(ax, *_shown_range(contexts))
    ax.set_title(plain(title), loc="left", fontsize=9)
    # Beside the axes, not over them: a host near 100 % would draw its line under the legend.
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    fig.subplots_adjust(left=0.07, right=0.83, top=0.86, bottom=0.14)
    return save(fig, path)


def _format_date_axis(ax: Axes, start: datetime, end: datetime) -> None:
    """Weekly dates over four weeks; a host with a short history: its days (or hours)."""
    if end - start >= timedelta(days=7):
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=7))  # type: ignore[no-untyped-call]
        ax.xaxis.set_minor_locator(mdates.DayLocator())  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))  # type: ignore[no-untyped-call]
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))  # type: ignore[no-untyped-call]
    ax.tick_params(labelsize=7.5)
    ax.grid(color="#e5e5e5", linewidth=0.5)
    # A little room on the right, so the last date label is not cut at the frame's edge.
    ax.set_xlim(date_num(start), date_num(end + (end - start) * 0.03))


def _shown_range(contexts: Sequence[HostContext]) -> tuple[datetime, datetime]:
    """The window fetched, starting at the first sample when the history is shorter."""
    start, end = contexts[0].span
    firsts = [float(c.times[0]) for c in contexts if len(c.times)]
    if firsts:
        first = datetime.fromtimestamp(min(firsts), tz=start.tzinfo)
        start = max(start, first - (end - first) * 0.05)
    return start, end


def _draw_fit(ax: Axes, context: HostContext, label: str) -> None:
    r = context.review
    if r.growth_percent_per_day is None or r.fit_start is None or r.fit_end is None:
        return
    days = (r.fit_end - r.fit_start) / timedelta(days=1)
    ends = [date_num(r.fit_start), date_num(r.fit_end)]
    start = r.fit_intercept_percent or 0.0
    line = [start, start + r.growth_percent_per_day * days]
    ax.plot(ends, line, color="#000000", linewidth=1.0, linestyle="--", label=label)
