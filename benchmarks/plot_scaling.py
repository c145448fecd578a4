"""Draw the scaling curve of the big incident: time and memory against the number of series."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator  # noqa: E402

STAGES = (
    ("fetch", "fetch (PagerDuty + Prometheus)", "#0072B2"),
    ("analysis", "analysis", "#E69F00"),
    ("charts", "charts", "#009E73"),
    ("rendering", "rendering", "#CC79A7"),
    ("write", "write (snapshot.json, files)", "#56B4E9"),
)


def plot_scaling(
    points: Sequence[dict[str, Any]], path: Path, time_target: float, memory_target_mib: float
) -> Path:
    """Log-log panels (time with its stages; peak memory), each curve with a slope-1 guide.

    A curve steeper than its dotted guide grows faster than the data.
    """
    series = [float(p["series"]) for p in points]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.5, 6.4), dpi=110)
    _curve(left, series, [p["cli"]["wall"] for p in points], "collect wall time (CLI)", "#000000")
    for key, label, color in STAGES:
        values = [_stage(p["stages"], key) for p in points]
        if all(v > 0 for v in values):
            _curve(left, series, values, label, color)
    left.axhline(
        time_target,
        color="#D55E00",
        ls="--",
        lw=1.2,
        label=f"target at 500 series: {time_target:g} s",
    )
    _axes(left, series, "seconds (median, log scale)", "Time")
    rss = [p["cli"]["rss_mib"] for p in points]
    _curve(right, series, rss, "collect peak RSS", "#000000")
    right.axhline(
        memory_target_mib,
        color="#D55E00",
        ls="--",
        lw=1.2,
        label=f"target at 500 series: {memory_target_mib:g} MiB",
    )
    _axes(right, series, "MiB (median, log scale)", "Peak memory")
    fig.suptitle(
        "Big incident (24 h window, 15 s data, 2,000 log entries): cost against series.\n"
        "Dotted: proportional to the data from the first point; a steeper curve grows faster.",
        fontsize=11,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _stage(stages: dict[str, Any], key: str) -> float:
    if key == "write":
        return float(stages.get("write_snapshot", 0.0) + stages.get("write_other", 0.0))
    return float(stages.get(key, 0.0))


def _curve(ax: Axes, x: list[float], y: list[float], label: str, color: str) -> None:
    ax.plot(x, y, "o-", color=color, lw=2.0, label=label)
    ax.plot(x, [y[0] * v / x[0] for v in x], ":", color=color, lw=1.2)


def _axes(ax: Axes, series: list[float], ylabel: str, title: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(series))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{s:,.0f}" for s in series])
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set(xlabel="series in the memory query", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
