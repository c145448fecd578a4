"""The incident timeline: PagerDuty events in one lane per phase, then one lane per alert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from collector.records import PHASES, AlertInterval, Event
from report.charts.base import (
    PALETTE,
    date_num,
    draw_milestones,
    format_time_axis,
    new_figure,
    plain,
    save,
)
from report.charts.plan import alert_names, timeline_figsize
from report.words import Words

DENSITY_AFTER = 30  # events in one lane beyond which the lane shows a density, not dots
DENSITY_BINS = 80
FIRING = ("#D55E00", 0.9)  # colour, opacity
PENDING = ("#E69F00", 0.6)


def draw_timeline_chart(
    events: Sequence[Event],
    alerts: Sequence[AlertInterval],
    milestones: Mapping[str, datetime],
    span: tuple[datetime, datetime],
    title: str,
    path: Path,
    words: Words,
    zone: str | None = None,
) -> Path:
    """Swimlanes of PagerDuty events by phase, then one lane per Prometheus alert."""
    names = alert_names(alerts)
    labels = [words.say(p) for p in PHASES]
    labels += [plain(words.say("chart_alert_lane", name=n), 28) for n in names]
    fig, ax = new_figure(height=timeline_figsize(alerts)[1])
    for row in range(len(labels)):
        ax.axhspan(row - 0.4, row + 0.4, color="#f2f2f2" if row % 2 else "#fafafa", zorder=0)
    for row, count in _draw_phase_lanes(ax, events, span).items():
        # The total of a lane drawn as a density, beside its name: the legend holds the right.
        labels[row] = words.say("chart_lane_count", lane=labels[row], count=words.number(count))
    _draw_alert_lanes(ax, alerts, names)
    draw_milestones(ax, milestones, words)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(date_num(span[0]), date_num(span[1]))
    format_time_axis(ax, zone, milestones.get("detected", span[0]), words)
    ax.set_title(plain(words.say("chart_timeline", title=title)), loc="left", fontsize=11)
    _draw_legend(ax, bool(alerts), words)
    fig.subplots_adjust(left=0.2, right=0.84, top=0.9, bottom=0.5 / fig.get_figheight() + 0.08)
    return save(fig, path)


def _draw_phase_lanes(
    ax: Axes, events: Sequence[Event], span: tuple[datetime, datetime]
) -> dict[int, int]:
    """Each phase's events as dots, or as a density past DENSITY_AFTER; returns the number
    of events of each lane drawn as a density."""
    totals: dict[int, int] = {}
    for i, phase in enumerate(PHASES):
        times = [date_num(e.time) for e in events if e.source == "pagerduty" and e.phase == phase]
        if len(times) > DENSITY_AFTER:
            _draw_density(ax, times, i, span, PALETTE[i % len(PALETTE)])
            totals[i] = len(times)
        elif times:
            ax.scatter(
                times,
                [i] * len(times),
                s=46,
                color=PALETTE[i % len(PALETTE)],
                edgecolor="white",
                linewidth=0.8,
                zorder=3,
            )
    return totals


def _draw_alert_lanes(ax: Axes, alerts: Sequence[AlertInterval], names: list[str]) -> None:
    for alert in alerts:
        row = len(PHASES) + names.index(alert.alertname)
        firing = alert.state == "firing"
        color, alpha = FIRING if firing else PENDING
        ax.barh(
            row,
            date_num(alert.end) - date_num(alert.start),
            left=date_num(alert.start),
            height=0.5 if firing else 0.3,
            color=color,
            alpha=alpha,
            zorder=2,
            label=None if firing else "_pending",
        )


def _draw_legend(ax: Axes, with_alerts: bool, words: Words) -> None:
    handles, names = ax.get_legend_handles_labels()
    if with_alerts:
        handles += [Patch(color=c, alpha=a) for c, a in (FIRING, PENDING)]
        names += [words.say("chart_alert_firing"), words.say("chart_alert_pending")]
    ax.legend(
        handles, names, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False
    )


def _draw_density(
    ax: Axes, times: Sequence[float], row: int, span: tuple[datetime, datetime], color: str
) -> None:
    """Many events in one lane: bars whose height is the count per bin."""
    edges = np.linspace(date_num(span[0]), date_num(span[1]), DENSITY_BINS + 1)
    counts, _ = np.histogram(np.asarray(times), bins=edges)
    heights = 0.8 * counts / max(int(counts.max()), 1)
    ax.bar(
        edges[:-1],
        heights,
        width=np.diff(edges),
        bottom=row + 0.4 - heights,
        align="edge",
        color=color,
        alpha=0.85,
        zorder=3,
    )
