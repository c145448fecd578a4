"""One query's chart: its series over the window, thresholds, the incident, a baseline."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from collector.analysis.metrics import QuerySummary
from collector.records import QueryKind
from collector.series import find_breaks, seconds_of, typical_step
from report.charts.base import (
    PALETTE,
    date_num,
    date_nums,
    draw_milestones,
    draw_thresholds,
    format_time_axis,
    new_figure,
    plain,
    save,
    side_legend,
)
from report.charts.picking import MAX_LEGEND_SERIES, SeriesPick, in_window, pick_series
from report.charts.plan import metric_figsize
from report.words import Words


def draw_metric_chart(
    frame: pd.DataFrame | SeriesPick,
    summary: QuerySummary,
    thresholds: Sequence[float],
    span: tuple[datetime, datetime],
    window: tuple[datetime, datetime],
    milestones: Mapping[str, datetime],
    path: Path,
    words: Words,
    zone: str | None = None,
    baseline: pd.DataFrame | None = None,
    baseline_offset_s: float | None = None,
) -> Path:
    """One query over the window: its series, thresholds, incident span and milestones.

    A baseline frame (the same query `baseline_offset_s` earlier, times aligned) is drawn dashed.
    """
    fig, ax = new_figure(height=metric_figsize()[1])
    title = summary.title + (f" ({summary.unit})" if summary.unit else "")
    ax.set_title(plain(title), loc="left", fontsize=11)
    if isinstance(frame, SeriesPick):
        pick = frame
    else:
        shown = summary.shown or MAX_LEGEND_SERIES
        rows = frame[frame["query"] == summary.name]
        pick = pick_series(rows, window, shown, words.say("chart_all_series"))
    if summary.problem or pick.empty:
        error = summary.problem.value("error") if summary.problem else None
        _draw_no_data(ax, str(error or words.say("chart_no_data_window")), words)
        return save(fig, path)
    incident = words.say("chart_incident")
    ax.axvspan(date_num(span[0]), date_num(span[1]), color="#D55E00", alpha=0.08, label=incident)
    counted = summary.counted
    # A counted availability (`count_series_up`) is one line: how many of all series were up.
    label = words.say("chart_up_of", total=summary.series_count) if counted else None
    _draw_series(ax, pick, words, label)
    if baseline is not None and baseline_offset_s:  # the reader gives both or neither
        offset = timedelta(seconds=baseline_offset_s)
        label = words.say("chart_baseline", offset=words.duration(offset))
        _draw_baseline(ax, in_window(baseline, summary.name, window), label)
    draw_thresholds(ax, thresholds, summary.unit, words)
    draw_milestones(ax, milestones, words)
    ax.set_xlim(date_num(window[0]), date_num(window[1]))
    _format_value_axis(ax, summary, counted, words)
    format_time_axis(ax, zone, span[0], words)
    side_legend(ax)
    fig.subplots_adjust(left=0.08, right=0.76, top=0.9, bottom=0.13)
    return save(fig, path)


def _format_value_axis(ax: Axes, summary: QuerySummary, counted: bool, words: Words) -> None:
    if summary.kind == QueryKind.AVAILABILITY:
        # 0 to N: four of twelve must not look like none.
        top = summary.series_count if counted else 1
        ax.set_ylim(-0.03 * top, top * 1.06)
    kind = words.catalogue.get(f"chart_kind_{summary.kind}", summary.kind.replace("_", " "))
    ax.set_ylabel(words.say("chart_series_up") if counted else summary.unit or kind)


def _draw_no_data(ax: Axes, reason: str, words: Words) -> None:
    """An empty panel that says why: the query's error, or no sample in the window."""
    lines = textwrap.wrap(plain(reason, 400), 72)[:5]
    ax.text(
        0.5,
        0.62,
        words.say("chart_no_data"),
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=15,  # not bold: Symbola, in the fallback list, has none, and matplotlib says so
        color="#D55E00",
    )
    ax.text(
        0.5,
        0.45,
        "\n".join(lines),
        ha="center",
        va="top",
        transform=ax.transAxes,
        fontsize=10,
        color="#333333",
        linespacing=1.5,
    )
    ax.set_xticks([])
    ax.set_yticks([])


def _draw_baseline(ax: Axes, data: pd.DataFrame, label: str) -> None:
    for j, (_, part) in enumerate(data.groupby("series")):
        ax.plot(
            date_nums(part["time"]),
            part["value"].to_numpy(),
            color="#555555",
            linestyle=(0, (4, 3)),
            linewidth=1.0,
            label=label if j == 0 else None,
        )


def _identical_lines(lines: Sequence[tuple[pd.Series, pd.Series]]) -> list[tuple[int, int]]:
    """Each distinct line once, in order: its first index, and how many others are the same
    (same times, same values, gaps included)."""
    kept: list[list[int]] = []
    for i, (times, values) in enumerate(lines):
        for group in kept:
            other_times, other_values = lines[group[0]]
            if times.equals(other_times) and np.array_equal(
                values.to_numpy(), other_values.to_numpy(), equal_nan=True
            ):
                group.append(i)
                break
        else:
            kept.append([i])
    return [(group[0], len(group) - 1) for group in kept]


def _with_gaps(part: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    # A missing stretch of samples is drawn as a break in the line, never bridged or zeroed.
    # The same rule as the report's data gaps (collector.series).
    times = part["time"].reset_index(drop=True)
    values = part["value"].reset_index(drop=True).astype(float)
    seconds = seconds_of(times)
    usual = typical_step(seconds)
    gaps = find_breaks(seconds, usual, missing=3)
    if usual is None or not gaps:
        return times, values
    breaks = pd.DataFrame(
        {"time": times[gaps] - pd.Timedelta(seconds=usual), "value": float("nan")}
    )
    joined = pd.concat([pd.DataFrame({"time": times, "value": values}), breaks])
    joined = joined.sort_values("time", kind="stable")
    return joined["time"], joined["value"]


def _draw_series(ax: Axes, pick: SeriesPick, words: Words, label: str | None) -> None:
    lines = [_with_gaps(part) for part in pick.lines]
    for i, (first, alike) in enumerate(_identical_lines(lines)):
        times, values = lines[first]
        # Series drawn the same (three targets up all along) would hide one another: one
        # line, named once with how many it stands for.
        name = plain(pick.names[first], 24 if alike else 32)
        if alike:
            name = words.say("chart_identical_series", name=name, count=alike)
        ax.plot(
            date_nums(times),  # as numbers: matplotlib converts aware times one by one
            values.to_numpy(),
            color=PALETTE[i % len(PALETTE)],
            linewidth=1.5,
            label=label or name,
            zorder=3,
        )
    if pick.band is not None:
        # The lesser series are context, not individually readable: their range at each
        # moment, drawn under the highlighted ones, shows the spread without hiding them.
        ax.fill_between(
            date_nums(pick.band.index.to_series()),
            pick.band["min"].to_numpy(),
            pick.band["max"].to_numpy(),
            color="#bbbbbb",
            alpha=0.45,
            linewidth=0,
            zorder=1,
            label=words.say("chart_more_series", count=pick.others),
        )
