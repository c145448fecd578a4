"""The memory trend of one instance: memory (and swap) used, thresholds, fitted trend, ETA."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from collector.analysis.memory import MemoryTrend
from report.charts.base import (
    LABEL_BOX,
    PALETTE,
    date_num,
    date_nums,
    draw_milestones,
    draw_thresholds,
    format_time_axis,
    plain,
    save,
    side_legend,
)
from report.charts.plan import DPI, trend_figsize
from report.words import Words
from report.words.formats import clock as format_clock

FIT_COLOR = "#CC79A7"
CROSSING_COLOR = "#D55E00"
PROJECTION = timedelta(hours=2)  # how far past the fit a trend is drawn at most


def draw_memory_trend_chart(
    frame: pd.DataFrame,
    trends: Sequence[MemoryTrend],
    milestones: Mapping[str, datetime],
    path: Path,
    words: Words,
    zone: str | None = None,
) -> Path:
    """Memory (and swap) of one instance: thresholds, crossings, fitted trend and its ETA."""
    fig = Figure(figsize=trend_figsize(trends), dpi=DPI)
    axes = fig.subplots(len(trends), 1, sharex=True, squeeze=False)[:, 0]
    for ax, trend in zip(axes, trends, strict=True):
        _draw_trend_panel(ax, frame, trend, words)
        draw_milestones(ax, milestones, words)
        side_legend(ax)
    title = words.say("chart_memory_trend", instance=trends[0].instance)
    axes[0].set_title(plain(title), loc="left", fontsize=11)
    format_time_axis(axes[-1], zone, milestones.get("detected"), words)
    fig.subplots_adjust(left=0.08, right=0.76, top=0.93, bottom=0.1, hspace=0.25)
    return save(fig, path)


def _draw_trend_panel(ax: Axes, frame: pd.DataFrame, trend: MemoryTrend, words: Words) -> None:
    data = frame[(frame["query"] == trend.query) & (frame["series"] == trend.series)]
    used = words.say(f"chart_used_{trend.kind}")
    times, values = date_nums(data["time"]), data["value"].to_numpy()
    ax.plot(times, values, color=PALETTE[0], linewidth=1.5, label=used)
    draw_thresholds(ax, trend.thresholds, "%", words)
    for crossing in trend.crossings:
        ax.plot(
            [date_num(crossing.time)],
            [crossing.threshold],
            marker="o",
            color=CROSSING_COLOR,
            markersize=6,
            linestyle="none",
        )
        ax.annotate(
            format_clock(crossing.time, trend.fit_end).removesuffix(" UTC"),
            (date_num(crossing.time), crossing.threshold),
            textcoords="offset points",
            xytext=(-30, 6),
            fontsize=8,
            color=CROSSING_COLOR,
            bbox=LABEL_BOX,
        )
    if trend.growth_per_hour is not None and trend.level_at_fit_end is not None:
        _draw_fit(ax, trend, words)
    ax.set_ylim(0, 112)
    ax.set_ylabel(words.say(f"kind_{trend.kind}") + " %")
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6)


def _draw_fit(ax: Axes, trend: MemoryTrend, words: Words) -> None:
    assert trend.growth_per_hour is not None and trend.level_at_fit_end is not None
    # Project to exhaustion, but not further than two hours past the fit: a far-off ETA is
    # stated in the report, not drawn across the whole chart.
    end = trend.exhaustion_at or trend.fit_end
    if trend.exhaustion_at and trend.exhaustion_at > trend.fit_end + PROJECTION:
        end = trend.fit_end + PROJECTION
    hours = (end - trend.fit_start).total_seconds() / 3600
    start_level = trend.level_at_fit_end - trend.growth_per_hour * (
        (trend.fit_end - trend.fit_start).total_seconds() / 3600
    )
    label = words.say("chart_trend", rate=words.signed(trend.growth_per_hour))
    reaches_full = trend.exhaustion_at is not None and end == trend.exhaustion_at
    if reaches_full:
        # In the legend, not beside the cross: the cross sits among the milestone lines.
        at = format_clock(end, trend.fit_end)
        label += "\n" + words.say("chart_exhaustion", at=at)
    ax.plot(
        [date_num(trend.fit_start), date_num(end)],
        [start_level, start_level + trend.growth_per_hour * hours],
        color=FIT_COLOR,
        linestyle=(0, (2, 2)),
        linewidth=1.4,
        label=label,
    )
    if reaches_full:
        ax.plot([date_num(end)], [100], marker="x", color=FIT_COLOR, markersize=7)
