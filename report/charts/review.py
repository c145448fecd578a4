"""Charts of the review across incidents: one function per chart, facts in, PNG path out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from collector.analysis.review import GroupFigures, Spread
from report.charts.base import new_figure, plain, save
from report.words import Words

MAX_SERVICES = 6  # lines on one chart; the busiest services
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
MET, MISSED = "#2ca02c", "#d62728"


def draw_monthly_spread(
    rows: Sequence[GroupFigures],
    measure: str,
    title: str,
    words: Words,
    path: Path,
) -> Path | None:
    """Per service, the monthly median of `measure` (minutes), a bar up to its 90th percentile."""
    months = sorted({r.month for r in rows})
    busiest = _busiest([r for r in rows if getattr(r, measure).count])
    if not months or not busiest:
        return None
    fig, ax = new_figure()
    x = np.arange(len(months), dtype=float)
    width = 0.6 / max(len(busiest), 1)
    for n, service in enumerate(busiest):
        spreads = {r.month: getattr(r, measure) for r in rows if r.service == service}
        medians = np.array([_minutes(spreads.get(m), "median") for m in months])
        p90s = np.array([_minutes(spreads.get(m), "p90") for m in months])
        offset = x + (n - (len(busiest) - 1) / 2) * width
        colour = COLOURS[n % len(COLOURS)]
        ax.plot(offset, medians, "o-", color=colour, label=plain(service, 30), markersize=4)
        ax.errorbar(
            offset,
            medians,
            yerr=[np.zeros_like(medians), np.nan_to_num(p90s - medians)],
            fmt="none",
            ecolor=colour,
            alpha=0.5,
            capsize=2,
        )
    _month_axis(ax, months)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(words.say("review_minutes"))
    ax.set_title(plain(title, 90), fontsize=10)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return save(fig, path)


def draw_rto_months(rows: Sequence[GroupFigures], words: Words, path: Path) -> Path | None:
    """RTO met and missed per month, stacked (every service together)."""
    if not any(r.rto.decided for r in rows):
        return None
    months = [r.month for r in rows]
    met = np.array([r.rto.met for r in rows])
    missed = np.array([r.rto.decided - r.rto.met for r in rows])
    fig, ax = new_figure()
    x = np.arange(len(months))
    ax.bar(x, met, color=MET, label=words.say("review_met"))
    ax.bar(x, missed, bottom=met, color=MISSED, label=words.say("review_missed"))
    _month_axis(ax, months)
    ax.set_ylabel(words.say("review_incidents_word"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(words.say("review_chart_rto"), fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=True)
    return save(fig, path)


def draw_alert_pages(pages: Sequence[tuple[str, int]], words: Words, path: Path) -> Path | None:
    """Pages per alert, the most paging on top."""
    if not pages:
        return None
    fig, ax = new_figure()
    names = [plain(name, 40) for name, _ in pages][::-1]
    fig.subplots_adjust(left=0.3)  # room for the alerts' names
    counts = [count for _, count in pages][::-1]
    bars = ax.barh(np.arange(len(names)), counts, color=COLOURS[0])
    ax.bar_label(bars, padding=2, fontsize=8)
    ax.set_yticks(np.arange(len(names)), names, fontsize=8)
    ax.set_xlabel(words.say("review_pages"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(words.say("review_chart_alerts"), fontsize=10)
    ax.margins(x=0.1)
    return save(fig, path)


def _busiest(rows: Sequence[GroupFigures]) -> list[str]:
    totals: dict[str, int] = {}
    for r in rows:
        totals[r.service] = totals.get(r.service, 0) + r.count
    return sorted(totals, key=lambda s: (-totals[s], s))[:MAX_SERVICES]


def _minutes(spread: Spread | None, which: str) -> float:
    value = getattr(spread, which) if spread is not None else None
    return value / 60 if value is not None else np.nan


def _month_axis(ax: Axes, months: Sequence[str]) -> None:
    ax.set_xticks(np.arange(len(months)), months, rotation=45, ha="right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
