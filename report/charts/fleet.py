"""Charts of the fleet review: small multiples of the most urgent hosts, and the fleet heatmap.

One function per chart, data in, PNG path out; Agg backend, object-oriented API, figures closed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from collector.analysis.fleet import HostReview  # noqa: E402
from collector.analysis.fleet_links import HostIncident  # noqa: E402
from collector.analysis.fleet_series import ReviewedSeries  # noqa: E402
from collector.config import FleetSettings  # noqa: E402
from report.charts.base import PALETTE, date_num, plain, save  # noqa: E402

DPI = 110
COLUMNS = 3
PANEL = (4.2, 2.5)  # inches per small multiple
MAX_HEATMAP_ROWS = 60  # beyond this, names are unreadable: the top rows plus a fleet summary
MAX_DRAWN_POINTS = 1200  # per small multiple: a panel is about 450 pixels wide
PROJECTION_DAYS = 7  # how far past `until` the small multiples look
INCIDENT_COLOR = "#D55E00"
RESET_COLOR = "#999999"
MISSING_COLOR = "#d9d9d9"  # no sample that day (host not there yet, or gone)


def draw_small_multiples(
    top: Sequence[ReviewedSeries],
    incidents_of: Callable[[ReviewedSeries], list[HostIncident]],
    start: datetime,
    until: datetime,
    settings: FleetSettings,
    words: Mapping[str, str],
    path: Path,
) -> Path | None:
    """One small panel per series: data, fitted trend and interval, projection, resets, pages."""
    if not top:
        return None
    rows = math.ceil(len(top) / COLUMNS)
    fig = Figure(figsize=(PANEL[0] * COLUMNS, PANEL[1] * rows + 0.3), dpi=DPI)
    axes = fig.subplots(rows, COLUMNS, squeeze=False, sharey=True)
    end = until + timedelta(days=PROJECTION_DAYS)
    for ax, series in zip(axes.flat, top, strict=False):
        _draw_panel(ax, series, incidents_of(series), settings, words)
        ax.set_xlim(date_num(start), date_num(end))
        ax.set_ylim(0, 105)
        ax.axvline(date_num(until), color="#444444", linewidth=0.6)
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=7))  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))  # type: ignore[no-untyped-call]
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25)
    for ax in list(axes.flat)[len(top) :]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel(words["percent_used"], fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def _draw_panel(
    ax: Axes,
    series: ReviewedSeries,
    incidents: Sequence[HostIncident],
    settings: FleetSettings,
    words: Mapping[str, str],
) -> None:
    r = series.review
    times, values = thin_for_drawing(series.times, series.values)
    ax.plot(_dates(times), values, color=PALETTE[0], linewidth=0.7)
    ax.axhline(100.0, color="#000000", linewidth=0.6)
    ax.axhline(settings.high_level, color=PALETTE[1], linewidth=0.6, linestyle="--")
    for moment in r.reset_times:
        ax.axvline(date_num(moment), color=RESET_COLOR, linewidth=0.6)
    _draw_fit(ax, r, settings)
    for linked in incidents:
        ax.plot(
            [date_num(linked.incident.created_at)],
            [101.5],
            marker="v",
            color=INCIDENT_COLOR,
            markersize=6,
            clip_on=False,
            linestyle="none",
        )
    title = words["chart_title"].format(
        instance=plain(r.instance, 28), kind=words[r.kind], verdict=words[r.verdict.value]
    )
    ax.set_title(title, fontsize=8.5)


def _draw_fit(ax: Axes, r: HostReview, settings: FleetSettings) -> None:
    if r.growth_percent_per_day is None or r.fit_start is None or r.fit_end is None:
        return
    intercept = r.fit_intercept_percent or 0.0
    days = np.linspace(0.0, (r.fit_end - r.fit_start) / timedelta(days=1), 20)
    moments = [date_num(r.fit_start + timedelta(days=float(d))) for d in days]
    ax.plot(moments, intercept + r.growth_percent_per_day * days, color=PALETTE[5], linewidth=1.4)
    if r.growth_low is not None and r.growth_high is not None:
        ax.fill_between(
            moments,
            intercept + r.growth_low * days,
            intercept + r.growth_high * days,
            color=PALETTE[5],
            alpha=0.2,
            linewidth=0,
        )
    if r.exhaustion_at is None and not r.beyond_horizon:
        return
    at_end = intercept + r.growth_percent_per_day * days[-1]
    target = r.exhaustion_at or (r.fit_end + settings.horizon)
    ax.plot(
        [date_num(r.fit_end), date_num(target)],
        [
            at_end,
            100.0
            if r.exhaustion_at
            else at_end + r.growth_percent_per_day * ((target - r.fit_end) / timedelta(days=1)),
        ],
        color=PALETTE[5],
        linewidth=1.2,
        linestyle=":",
    )


def draw_heatmap(frame: pd.DataFrame, title: str, words: Mapping[str, str], path: Path) -> Path:
    """Hosts x days of daily average % used; past MAX_HEATMAP_ROWS, the top rows and the fleet's
    daily median, 90th percentile and maximum (so a fleet of thousands is still seen whole)."""
    shown = frame.iloc[:MAX_HEATMAP_ROWS]
    cut = len(frame) > len(shown)
    height = 1.2 + 0.16 * len(shown) + (1.9 if cut else 0.0)
    fig = Figure(figsize=(11.0, max(height, 2.4)), dpi=DPI)
    if cut:
        grid = fig.add_gridspec(2, 1, height_ratios=[0.16 * len(shown), 1.5], hspace=0.1)
        ax, spread = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    else:
        ax, spread = fig.add_subplot(1, 1, 1), None
    cmap = matplotlib.colormaps["YlOrRd"].with_extremes(bad=MISSING_COLOR)
    image = ax.imshow(
        shown.to_numpy(dtype=float),
        aspect="auto",
        cmap=cmap,
        vmin=0,
        vmax=100,
        interpolation="nearest",
    )
    ax.set_yticks(range(len(shown)), [plain(str(n), 32) for n in shown.index], fontsize=7)
    columns = list(shown.columns)
    ticks = list(range(0, len(columns), max(1, len(columns) // 14)))
    ax.set_xticks(ticks, [f"{columns[i]:%d/%m}" for i in ticks], fontsize=7)
    key = "heatmap_top" if cut else "heatmap_title"
    ax.set_title(
        words[key].format(title=plain(title, 40), shown=len(shown), total=len(frame)), fontsize=9.5
    )
    bar = fig.colorbar(image, cax=ax.inset_axes((1.01, 0.0, 0.015, 1.0)))
    bar.set_label(words["percent_used"], fontsize=8)
    if spread is not None:
        _draw_spread(spread, frame, words)
    fig.subplots_adjust(left=0.16, right=0.92, top=1 - 0.45 / height, bottom=0.5 / height)
    return save(fig, path)


def _draw_spread(ax: Axes, frame: pd.DataFrame, words: Mapping[str, str]) -> None:
    x = np.arange(frame.shape[1])
    for q, color, name in (
        (0.5, PALETTE[0], "spread_p50"),
        (0.9, PALETTE[1], "spread_p90"),
        (1.0, PALETTE[5], "spread_max"),
    ):
        line = frame.quantile(q, axis=0).to_numpy()
        ax.plot(x, line, color=color, label=words[name], linewidth=1.2)
    ax.set_xlim(-0.5, frame.shape[1] - 0.5)
    ax.set_ylim(0, 100)
    columns = list(frame.columns)
    ticks = list(range(0, len(columns), max(1, len(columns) // 14)))
    ax.set_xticks(ticks, [f"{columns[i]:%d/%m}" for i in ticks], fontsize=7)
    ax.set_ylabel(words["percent_used"], fontsize=8)
    ax.set_title(words["fleet_spread"], fontsize=8.5)
    ax.legend(fontsize=7, loc="lower left", ncols=3)
    ax.grid(alpha=0.25)


def thin_for_drawing(
    times: np.ndarray, values: np.ndarray, buckets: int = MAX_DRAWN_POINTS // 2
) -> tuple[np.ndarray, np.ndarray]:
    """At most 2 x buckets points: each bucket's lowest and highest, in time order, so a thin
    panel draws the same envelope (every peak and every restart) as the full series."""
    if times.size <= 2 * buckets:
        return times, values
    edges = np.linspace(0, times.size, buckets + 1).astype(np.int64)
    keep: list[int] = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        part = values[lo:hi]
        keep.extend(sorted({lo + int(np.nanargmin(part)), lo + int(np.nanargmax(part))}))
    index = np.asarray(keep, dtype=np.int64)
    return times[index], values[index]


def _dates(seconds: np.ndarray) -> np.ndarray:
    return np.asarray(mdates.date2num(seconds.astype("datetime64[s]")))  # type: ignore[no-untyped-call]
