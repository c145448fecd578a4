"""Charts: one function per chart, data in, PNG path out. Matplotlib's Agg backend only."""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from PIL import Image  # noqa: E402

from collector.analysis.memory import MemoryTrend  # noqa: E402
from collector.analysis.metrics import QuerySummary  # noqa: E402
from collector.analysis.series import find_breaks, seconds_of, typical_step  # noqa: E402
from collector.records import PHASES, AlertInterval, Event  # noqa: E402
from report.words.formats import clock as format_clock  # noqa: E402

# Text in any script the data brings: Latin and Arabic (DejaVu), CJK (Debian's fonts-noto-cjk),
# symbols and emoji in monochrome (fonts-symbola; colour emoji fonts do not render in Agg).
FONT_FAMILIES = ("DejaVu Sans", "Noto Sans CJK JP", "Symbola")


def _configure_fonts() -> None:
    """Use the fallback list, keeping only installed families (a missing one would warn)."""
    known = {font.name for font in font_manager.fontManager.ttflist}
    if not set(FONT_FAMILIES) <= known:
        # matplotlib's font cache predates fonts installed later: add those files directly.
        for path in font_manager.findSystemFonts():
            if any(part in path for part in ("NotoSansCJK", "Symbola")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        known = {font.name for font in font_manager.fontManager.ttflist}
    matplotlib.rcParams["font.family"] = [f for f in FONT_FAMILIES if f in known] or ["sans-serif"]


_configure_fonts()

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SIZE = (10.0, 4.6)
DPI = 160  # ~250 dpi at the width of an A4 page in report.pdf; sharp when printed
MAX_LEGEND_SERIES = 6
DENSITY_AFTER = 30  # events in one lane beyond which the lane shows a density, not dots
DENSITY_BINS = 80
PHASE_LABELS = {
    "detection": "Detection",
    "escalation": "Escalation",
    "response": "Response",
    "communication": "Communication",
    "resolution": "Resolution",
}
MILESTONE_STYLE = {
    "detected": ("#D55E00", "-"),
    "acknowledged": ("#0072B2", "--"),
    "restored": ("#56B4E9", "-."),
    "resolved": ("#009E73", "-"),
}
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0}
THRESHOLD_COLORS = ("#E69F00", "#CC79A7", "#000000")


def _plain(text: str, limit: int = 80) -> str:
    # Untrusted text: '$' would switch matplotlib to math mode and can crash the drawing.
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _num(moment: datetime) -> float:
    """A datetime as matplotlib's date number (keeps the drawing code typed)."""
    return float(mdates.date2num(moment))  # type: ignore[no-untyped-call]


def _nums(times: pd.Series) -> np.ndarray:
    """Many datetimes as matplotlib date numbers."""
    # Naive UTC datetime64 takes matplotlib's vectorised path; aware values go one by one.
    naive = pd.to_datetime(times, utc=True).dt.tz_convert(None).to_numpy()
    return np.asarray(mdates.date2num(naive), dtype=float)  # type: ignore[no-untyped-call]


def short_series_labels(series: Sequence[str]) -> dict[str, str]:
    """Legend labels without the label pairs every series shares ({job="node"} and the like)."""
    split = {s: [p for p in s.strip("{}").split(",") if p] for s in series}
    common = set.intersection(*(set(p) for p in split.values())) if split else set()
    labels = {}
    for name, pairs in split.items():
        rest = [p for p in pairs if p not in common] or pairs
        values = [p.split("=", 1)[1].strip('"') if "=" in p else p for p in rest]
        labels[name] = ", ".join(values) or "all"
    return labels


def _new_figure(height: float = SIZE[1]) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(SIZE[0], height), dpi=DPI)
    ax = fig.add_subplot()
    return fig, ax


def _format_time_axis(ax: Axes, zone: str | None, day: datetime | None) -> None:
    """Ticks in UTC with the local time below, dated when not on the incident's start day."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)

    def label(value: float, _position: int | None = None) -> str:
        moment = mdates.num2date(value)  # type: ignore[no-untyped-call]
        return format_clock(moment, day, zone, short_date=True).replace(" (", "\n(")

    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.tick_params(axis="x", labelsize=7.5)
    ax.set_xlabel("time (UTC" + (f"; {zone} in brackets)" if zone else ")"), fontsize=9)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)


def _draw_milestones(ax: Axes, milestones: Mapping[str, datetime]) -> None:
    for name, moment in milestones.items():
        color, style = MILESTONE_STYLE.get(name, ("#555555", ":"))
        ax.axvline(_num(moment), color=color, linestyle=style, linewidth=1.2, label=name)


def _save(fig: Figure, path: Path) -> Path:
    """Draw the figure and write it as an opaque (RGB) PNG.

    The background is white, so an alpha channel carries nothing: without it the file is
    smaller, the PNG encodes faster, and WeasyPrint need not split it out again for report.pdf.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        # A character no installed font has is drawn as a box; it must not print on stderr.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        canvas.draw()  # type: ignore[no-untyped-call]
    rgba = Image.frombuffer(
        "RGBA",
        canvas.get_width_height(),
        canvas.buffer_rgba(),  # type: ignore[no-untyped-call]
    )
    rgba.convert("RGB").save(path, format="png", dpi=(DPI, DPI))
    fig.clear()
    return path


def draw_timeline_chart(
    events: Sequence[Event],
    alerts: Sequence[AlertInterval],
    milestones: Mapping[str, datetime],
    span: tuple[datetime, datetime],
    title: str,
    path: Path,
    zone: str | None = None,
) -> Path:
    """Swimlanes of PagerDuty events by phase, then one lane per Prometheus alert."""
    alert_names = list(dict.fromkeys(a.alertname for a in alerts))
    labels = [PHASE_LABELS[p] for p in PHASES] + [_plain(f"alert {n}", 28) for n in alert_names]
    fig, ax = _new_figure(height=2.2 + 0.36 * len(labels))
    for row in range(len(labels)):
        ax.axhspan(row - 0.4, row + 0.4, color="#f2f2f2" if row % 2 else "#fafafa", zorder=0)
    for i, phase in enumerate(PHASES):
        times = [_num(e.time) for e in events if e.source == "pagerduty" and e.phase == phase]
        if len(times) > DENSITY_AFTER:
            _draw_density(ax, times, i, span, PALETTE[i % len(PALETTE)])
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
    for alert in alerts:
        row = len(PHASES) + alert_names.index(alert.alertname)
        firing = alert.state == "firing"
        ax.barh(
            row,
            _num(alert.end) - _num(alert.start),
            left=_num(alert.start),
            height=0.5 if firing else 0.3,
            color="#D55E00" if firing else "#E69F00",
            alpha=0.9 if firing else 0.6,
            zorder=2,
            label=None if firing else "_pending",
        )
    _draw_milestones(ax, milestones)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(_num(span[0]), _num(span[1]))
    _format_time_axis(ax, zone, milestones.get("detected", span[0]))
    ax.set_title(_plain(f"Incident timeline: {title}"), loc="left", fontsize=11)
    handles, names = ax.get_legend_handles_labels()
    if alerts:
        from matplotlib.patches import Patch

        handles += [Patch(color="#D55E00", alpha=0.9), Patch(color="#E69F00", alpha=0.6)]
        names += ["alert firing", "alert pending"]
    ax.legend(
        handles, names, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False
    )
    fig.subplots_adjust(left=0.2, right=0.84, top=0.9, bottom=0.5 / fig.get_figheight() + 0.08)
    return _save(fig, path)


def _draw_density(
    ax: Axes, times: Sequence[float], row: int, span: tuple[datetime, datetime], color: str
) -> None:
    """Many events in one lane: bars whose height is the count per bin, and the total."""
    edges = np.linspace(_num(span[0]), _num(span[1]), DENSITY_BINS + 1)
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
    ax.text(
        edges[-1],
        row,
        f" {len(times)}",
        va="center",
        ha="left",
        fontsize=8,
        color="#333333",
        clip_on=False,
    )


def draw_metric_chart(
    frame: pd.DataFrame,
    summary: QuerySummary,
    thresholds: Sequence[float],
    span: tuple[datetime, datetime],
    window: tuple[datetime, datetime],
    milestones: Mapping[str, datetime],
    path: Path,
    zone: str | None = None,
    baseline: pd.DataFrame | None = None,
    baseline_label: str = "one week earlier",
) -> Path:
    """One query over the window: its series, thresholds, incident span and milestones.

    A baseline frame (the same query one offset earlier, times aligned) is drawn dashed.
    """
    fig, ax = _new_figure()
    title = summary.title + (f" ({summary.unit})" if summary.unit else "")
    ax.set_title(_plain(title), loc="left", fontsize=11)
    data = frame[
        (frame["query"] == summary.name)
        & (frame["time"] >= pd.Timestamp(window[0]))
        & (frame["time"] <= pd.Timestamp(window[1]))
    ]
    if summary.problem or data.empty:
        error = summary.problem.value("error") if summary.problem else None
        reason = str(error or "no data in the incident window")
        lines = textwrap.wrap(_plain(reason, 400), 72)[:5]
        ax.text(
            0.5,
            0.62,
            "No data",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=14,
            fontweight="bold",
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
        return _save(fig, path)
    ax.axvspan(_num(span[0]), _num(span[1]), color="#D55E00", alpha=0.08, label="incident")
    _draw_series(ax, data, summary.shown or MAX_LEGEND_SERIES)
    if baseline is not None:
        _draw_baseline(ax, baseline, summary.name, window, baseline_label)
    _draw_thresholds(ax, thresholds, summary.unit)
    _draw_milestones(ax, milestones)
    ax.set_xlim(_num(window[0]), _num(window[1]))
    if summary.kind == "availability":
        # 0 to N: four of twelve must not look like none.
        top = summary.series_count if summary.series_count > summary.shown else 1
        ax.set_ylim(-0.03 * top, top * 1.06)
    ax.set_ylabel(summary.unit or summary.kind.replace("_", " "))
    _format_time_axis(ax, zone, span[0])
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.08, right=0.76, top=0.9, bottom=0.13)
    return _save(fig, path)


def _draw_thresholds(ax: Axes, thresholds: Sequence[float], unit: str) -> None:
    for i, threshold in enumerate(thresholds):
        ax.axhline(
            threshold,
            color=THRESHOLD_COLORS[i % len(THRESHOLD_COLORS)],
            linestyle=(0, (5, 3)),
            linewidth=1.1,
            label=f"threshold {threshold:g}{unit}",
        )


def _draw_baseline(
    ax: Axes, baseline: pd.DataFrame, query: str, window: tuple[datetime, datetime], label: str
) -> None:
    data = baseline[
        (baseline["query"] == query)
        & (baseline["time"] >= pd.Timestamp(window[0]))
        & (baseline["time"] <= pd.Timestamp(window[1]))
    ]
    for j, (_, part) in enumerate(data.groupby("series")):
        ax.plot(
            part["time"],
            part["value"],
            color="#555555",
            linestyle=(0, (4, 3)),
            linewidth=1.0,
            label=label if j == 0 else None,
        )


def draw_memory_trend_chart(
    frame: pd.DataFrame,
    trends: Sequence[MemoryTrend],
    milestones: Mapping[str, datetime],
    path: Path,
    zone: str | None = None,
) -> Path:
    """Memory (and swap) of one instance: thresholds, crossings, fitted trend and its ETA."""
    fig = Figure(figsize=(SIZE[0], 3.0 + 2.6 * len(trends)), dpi=DPI)
    axes = fig.subplots(len(trends), 1, sharex=True, squeeze=False)[:, 0]
    for ax, trend in zip(axes, trends, strict=True):
        _draw_trend_panel(ax, frame, trend)
        _draw_milestones(ax, milestones)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    axes[0].set_title(_plain(f"Memory trend: {trends[0].instance}"), loc="left", fontsize=11)
    _format_time_axis(axes[-1], zone, milestones.get("detected"))
    fig.subplots_adjust(left=0.08, right=0.76, top=0.93, bottom=0.1, hspace=0.25)
    return _save(fig, path)


def _draw_trend_panel(ax: Axes, frame: pd.DataFrame, trend: MemoryTrend) -> None:
    data = frame[(frame["query"] == trend.query) & (frame["series"] == trend.series)]
    ax.plot(
        data["time"], data["value"], color=PALETTE[0], linewidth=1.5, label=f"{trend.kind} used"
    )
    _draw_thresholds(ax, trend.thresholds, "%")
    for crossing in trend.crossings:
        ax.plot(
            [_num(crossing.time)],
            [crossing.threshold],
            marker="o",
            color="#D55E00",
            markersize=6,
            linestyle="none",
        )
        ax.annotate(
            format_clock(crossing.time, trend.fit_end).removesuffix(" UTC"),
            (_num(crossing.time), crossing.threshold),
            textcoords="offset points",
            xytext=(-30, 6),
            fontsize=8,
            color="#D55E00",
            bbox=LABEL_BOX,
        )
    if trend.growth_per_hour is not None and trend.level_at_fit_end is not None:
        _draw_fit(ax, trend)
    ax.set_ylim(0, 112)
    ax.set_ylabel(f"{trend.kind} %")
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6)


def _draw_fit(ax: Axes, trend: MemoryTrend) -> None:
    assert trend.growth_per_hour is not None and trend.level_at_fit_end is not None
    # Project to exhaustion, but not further than two hours past the fit: a far-off ETA is
    # stated in the report, not drawn across the whole chart.
    end = trend.exhaustion_at or trend.fit_end
    horizon = trend.fit_end + timedelta(hours=2)
    if trend.exhaustion_at and trend.exhaustion_at > horizon:
        end = horizon
    hours = (end - trend.fit_start).total_seconds() / 3600
    start_level = trend.level_at_fit_end - trend.growth_per_hour * (
        (trend.fit_end - trend.fit_start).total_seconds() / 3600
    )
    ax.plot(
        [_num(trend.fit_start), _num(end)],
        [start_level, start_level + trend.growth_per_hour * hours],
        color="#CC79A7",
        linestyle=(0, (2, 2)),
        linewidth=1.4,
        label=f"trend {trend.growth_per_hour:+.1f} %/h",
    )
    if trend.exhaustion_at is not None and end == trend.exhaustion_at:
        ax.plot([_num(end)], [100], marker="x", color="#CC79A7", markersize=7)
        ax.annotate(
            f"100 % at {format_clock(trend.exhaustion_at, trend.fit_end)}",
            (_num(end), 100),
            textcoords="offset points",
            xytext=(-6, 5),
            ha="right",
            fontsize=8,
            color="#CC79A7",
            bbox=LABEL_BOX,
        )


def _with_gaps(part: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    # A missing stretch of samples is drawn as a break in the line, never bridged or zeroed.
    # The same rule as the report's data gaps (collector.analysis.series).
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


def _draw_series(ax: Axes, data: pd.DataFrame, max_shown: int = MAX_LEGEND_SERIES) -> None:
    groups = dict(tuple(data.groupby("series", sort=False)))
    peaks = data.groupby("series")["value"].max().sort_values(ascending=False)
    shown = list(peaks.index[:max_shown])
    others = list(peaks.index[max_shown:])
    names = short_series_labels(list(peaks.index))
    for i, series in enumerate(shown):
        times, values = _with_gaps(groups[series])
        ax.plot(
            times,
            values,
            color=PALETTE[i % len(PALETTE)],
            linewidth=1.5,
            label=_plain(names[series], 32),
            zorder=3,
        )
    if others:
        # The lesser series are context, not individually readable: their range at each
        # moment, drawn under the highlighted ones, shows the spread without hiding them.
        rest = data[data["series"].isin(others)].groupby("time")["value"].agg(["min", "max"])
        ax.fill_between(
            _nums(rest.index.to_series()),
            rest["min"].to_numpy(),
            rest["max"].to_numpy(),
            color="#bbbbbb",
            alpha=0.45,
            linewidth=0,
            zorder=1,
            label=f"range of {len(others)} more series",
        )
