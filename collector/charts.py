"""Charts: one function per chart, data in, PNG path out. Matplotlib's Agg backend only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from collector.analysis.metrics import QuerySummary  # noqa: E402
from collector.records import PHASES, Event  # noqa: E402

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SIZE = (10.0, 4.6)
DPI = 110
MAX_LEGEND_SERIES = 6
PHASE_LABELS = {
    "detection": "Detection",
    "escalation": "Escalation",
    "response": "Response",
    "communication": "Communication",
    "resolution": "Resolution",
}
MILESTONE_STYLE = {
    "detected": ("#D55E00", "-"),
    "acknowledged": ("#E69F00", "--"),
    "mitigated": ("#009E73", "-."),
    "resolved": ("#009E73", "-"),
}


def _plain(text: str, limit: int = 80) -> str:
    # Untrusted text: '$' would switch matplotlib to math mode and can crash the drawing.
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _new_figure(height: float = SIZE[1]) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(SIZE[0], height), dpi=DPI)
    ax = fig.add_subplot()
    return fig, ax


def _format_time_axis(ax: Axes, tz_note: str) -> None:
    locator = mdates.AutoDateLocator(minticks=5, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz="UTC"))
    ax.set_xlabel(f"time (UTC){tz_note}")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)


def _draw_milestones(ax: Axes, milestones: Mapping[str, datetime]) -> None:
    for name, moment in milestones.items():
        color, style = MILESTONE_STYLE.get(name, ("#555555", ":"))
        ax.axvline(moment, color=color, linestyle=style, linewidth=1.2, label=name)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    fig.clear()
    return path


def draw_timeline_chart(
    events: Sequence[Event],
    milestones: Mapping[str, datetime],
    span: tuple[datetime, datetime],
    title: str,
    path: Path,
    tz_note: str = "",
) -> Path:
    """Swimlanes of PagerDuty events by phase plus Prometheus alert intervals."""
    fig, ax = _new_figure(height=4.2)
    lanes = [p for p in PHASES] + ["prometheus"]
    labels = [PHASE_LABELS[p] for p in PHASES] + ["Prometheus alerts"]
    for row, _lane in enumerate(lanes):
        ax.axhspan(row - 0.4, row + 0.4, color="#f4f4f4" if row % 2 else "#fafafa", zorder=0)
    _draw_alert_bars(ax, events, row=len(lanes) - 1)
    for i, phase in enumerate(PHASES):
        times = [e.time for e in events if e.source == "pagerduty" and e.phase == phase]
        if times:
            ax.scatter(
                times,
                [i] * len(times),
                s=46,
                color=PALETTE[i % len(PALETTE)],
                edgecolor="white",
                linewidth=0.8,
                zorder=3,
            )
    _draw_milestones(ax, milestones)
    ax.set_yticks(range(len(lanes)), labels)
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    ax.set_xlim(span[0], span[1])
    _format_time_axis(ax, tz_note)
    ax.set_title(_plain(f"Incident timeline: {title}"), loc="left", fontsize=11)
    if milestones:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.16, right=0.84, top=0.9, bottom=0.14)
    return _save(fig, path)


def _draw_alert_bars(ax: Axes, events: Sequence[Event], row: int) -> None:
    starts = [
        e
        for e in events
        if e.source == "prometheus" and e.kind.startswith("alert_") and e.kind != "alert_resolved"
    ]
    ends = {(e.summary.split(" stopped")[0]): e.time for e in events if e.kind == "alert_resolved"}
    for e in starts:
        if e.kind == "alert_firing":
            name = e.summary.split(" firing")[0]
            end = ends.get(name, e.time)
            ax.barh(
                row,
                mdates.date2num(end) - mdates.date2num(e.time),
                left=e.time,
                height=0.5,
                color="#D55E00",
                alpha=0.85,
                zorder=2,
            )
        else:
            ax.scatter([e.time], [row], marker="|", s=160, color="#E69F00", zorder=3)


def draw_metric_chart(
    frame: pd.DataFrame,
    summary: QuerySummary,
    thresholds: Sequence[float],
    span: tuple[datetime, datetime],
    window: tuple[datetime, datetime],
    milestones: Mapping[str, datetime],
    path: Path,
    tz_note: str = "",
) -> Path:
    """One query over the window: its series, thresholds, incident span and milestones."""
    fig, ax = _new_figure()
    title = summary.title + (f" ({summary.unit})" if summary.unit else "")
    ax.set_title(_plain(title), loc="left", fontsize=11)
    data = frame[
        (frame["query"] == summary.name)
        & (frame["time"] >= pd.Timestamp(window[0]))
        & (frame["time"] <= pd.Timestamp(window[1]))
    ]
    if summary.problem or data.empty:
        reason = summary.problem or "no data in the incident window"
        ax.text(
            0.5,
            0.5,
            _plain(reason, 110),
            ha="center",
            va="center",
            wrap=True,
            transform=ax.transAxes,
            fontsize=11,
            color="#444444",
        )
        ax.set_xticks([])
        ax.set_yticks([])
        return _save(fig, path)
    ax.axvspan(span[0], span[1], color="#D55E00", alpha=0.08, label="incident")
    _draw_series(ax, data)
    for i, threshold in enumerate(thresholds):
        ax.axhline(
            threshold,
            color="#CC79A7" if i else "#E69F00",
            linestyle="--",
            linewidth=1.1,
            label=f"threshold {threshold:g}{summary.unit}",
        )
    _draw_milestones(ax, milestones)
    ax.set_xlim(window[0], window[1])
    ax.set_ylabel(summary.unit or "value")
    _format_time_axis(ax, tz_note)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.08, right=0.76, top=0.9, bottom=0.13)
    return _save(fig, path)


def _draw_series(ax: Axes, data: pd.DataFrame) -> None:
    peaks = data.groupby("series")["value"].max().sort_values(ascending=False)
    shown = list(peaks.index[:MAX_LEGEND_SERIES])
    others = list(peaks.index[MAX_LEGEND_SERIES:])
    for i, series in enumerate(shown):
        part = data[data["series"] == series]
        ax.plot(
            part["time"],
            part["value"],
            color=PALETTE[i % len(PALETTE)],
            linewidth=1.5,
            label=_plain(series, 40),
        )
    for j, series in enumerate(others):
        part = data[data["series"] == series]
        ax.plot(
            part["time"],
            part["value"],
            color="#999999",
            linewidth=0.6,
            alpha=0.6,
            label=f"{len(others)} more series" if j == 0 else None,
        )
