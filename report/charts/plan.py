"""The charts to draw, planned without matplotlib: each file's size in pixels and the job that
will draw it. report.pdf is laid out around those sizes while the charts are drawn, and the
page can go to it before matplotlib has loaded (the runner loads it: `collector.jobs.runner`).
The chart modules draw at these sizes (a test checks every gallery incident's charts against
their plan)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from collector.records import PHASES, AlertInterval

if TYPE_CHECKING:
    from collector.analysis.memory import MemoryTrend

SIZE = (10.0, 4.6)  # inches: an incident chart's width, and a metric chart's height
DPI = 160  # ~250 dpi at the width of an A4 page in report.pdf; sharp when printed
CONTEXT_SIZE = (8.0, 2.2)  # inches: small, under the host's memory trend chart
CONTEXT_DPI = 130


class ChartJob(NamedTuple):
    """A chart file to draw: where, its size in pixels (known before it is drawn: report.pdf
    is laid out meanwhile) and the job that draws it."""

    path: Path
    pixels: tuple[int, int]
    draw: Callable[[], Path]


def pixel_size(figsize: tuple[float, float], dpi: float = DPI) -> tuple[int, int]:
    """The (width, height) in pixels of a figure of this size saved by `save`, known before
    it is drawn: Agg truncates the size in inches times the resolution."""
    return int(figsize[0] * dpi), int(figsize[1] * dpi)


def timeline_figsize(alerts: Sequence[AlertInterval]) -> tuple[float, float]:
    """The timeline chart's size in inches: a lane per phase, then one per alert."""
    return SIZE[0], 2.2 + 0.36 * (len(PHASES) + len(alert_names(alerts)))


def alert_names(alerts: Sequence[AlertInterval]) -> list[str]:
    """The timeline's alert lanes, in order of first appearance."""
    return list(dict.fromkeys(a.alertname for a in alerts))


def trend_figsize(trends: Sequence[MemoryTrend]) -> tuple[float, float]:
    """A memory trend chart's size in inches: a panel per trend (memory, then swap)."""
    return SIZE[0], 3.0 + 2.6 * len(trends)


def metric_figsize() -> tuple[float, float]:
    """Every metric chart's size in inches."""
    return SIZE


CONTEXT_PIXELS = pixel_size(CONTEXT_SIZE, CONTEXT_DPI)  # every 28-day context chart's
