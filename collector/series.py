"""One rule for a break in a series of samples.

Prometheus evaluates on a fixed step (a query's `step`, a rule's evaluation interval), so the
pause between two samples is a whole number of steps plus some jitter. A *break* is a pause in
which at least `missing` samples are absent: longer than `missing + ½` steps, the half step
allowing for jitter. Every gap, reset and line break in the collector uses this rule:

- `missing=1`: consecutive evaluations (an alert's `for` resets, a rule's condition stops);
- `missing=2`: an alert state that outlives one lost evaluation (ALERTS samples);
- `missing=3`: a stretch worth showing as missing data (summaries, breaks in chart lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

T = TypeVar("T")
Seconds: TypeAlias = Sequence[float] | npt.NDArray[np.float64]
"""Sample times as seconds since the epoch, sorted."""


def seconds_of(times: pd.Series) -> npt.NDArray[np.float64]:
    """A frame's `time` column (datetime64, UTC) as `Seconds`."""
    return np.asarray((times - pd.Timestamp(0, tz="UTC")).dt.total_seconds(), dtype=float)


def typical_step(seconds: Seconds) -> float | None:
    """The usual spacing of sorted sample times; None under two distinct times.

    The upper median of the pauses between distinct times: a pause that was seen, not an
    average of two. Bins, breaks and expected counts all start from it.
    """
    pauses = np.diff(np.asarray(seconds, dtype=float))
    seen = sorted(pauses[pauses > 0].tolist())
    return seen[len(seen) // 2] if seen else None


def find_breaks(seconds: Seconds, step: float | None, missing: int = 1) -> list[int]:
    """Indices `i` of the sorted sample times where the pause since `i - 1` is a break.

    `step` is the expected spacing (None or ≤ 0: no break can be told, none is found).
    """
    if step is None or step <= 0 or len(seconds) < 2:
        return []
    pauses = np.diff(np.asarray(seconds, dtype=float))
    return (np.flatnonzero(pauses > (missing + 0.5) * step) + 1).tolist()


def split_runs(items: Sequence[T], breaks: Sequence[int]) -> list[tuple[T, T]]:
    """The first and last item of each run of `items` between the `breaks` (from find_breaks)."""
    if not items:
        return []
    bounds = [0, *breaks, len(items)]
    return [(items[a], items[b - 1]) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


@dataclass(frozen=True)
class SeriesSamples:
    """One series' samples in time order, as arrays: times in nanoseconds since the epoch."""

    nanos: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    def seconds(self) -> npt.NDArray[np.float64]:
        """The times as `Seconds`."""
        return self.nanos / NANOS_PER_SECOND

    def moment(self, index: int) -> datetime:
        """The time of one sample, as an aware UTC datetime."""
        moment: datetime = pd.Timestamp(int(self.nanos[index]), tz="UTC").to_pydatetime()
        return moment


NANOS_PER_SECOND = 1_000_000_000
NO_SAMPLES = SeriesSamples(np.empty(0, np.int64), np.empty(0, np.float64))


def split_series(data: pd.DataFrame) -> dict[str, SeriesSamples]:
    """Each series of a tidy frame (`series`, `time`, `value`) as arrays in time order.

    One sort of the whole frame, then slices: no per-series pandas work, which costs more
    than the analysis itself once there are thousands of series. A frame already in that
    order (a query's rows of the series frame, `read_series`) is not sorted again: a sorted
    copy of a big query's rows is memory the draft need not hold.
    """
    names, nanos, values, starts = _columns(data)
    if not _in_series_order(names, nanos, starts):
        names, nanos, values, starts = _columns(data.sort_values(["series", "time"], kind="stable"))
    bounds = [*starts, len(names)]
    return {
        str(names[a]): SeriesSamples(nanos[a:b], values[a:b])
        for a, b in zip(bounds, bounds[1:], strict=False)
    }


def _columns(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """The series names, times (ns), values, and where each run of one name starts."""
    names = data["series"].to_numpy()
    nanos = data["time"].dt.as_unit("ns").array.asi8
    values = data["value"].to_numpy(np.float64)
    return names, nanos, values, run_starts(names)


def run_starts(labels: np.ndarray) -> list[int]:
    """Where each run of equal labels starts (a sorted frame's query or series column)."""
    if not len(labels):
        return []
    starts: list[int] = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]]).tolist()
    return starts


def sorted_runs(labels: np.ndarray) -> tuple[list[str], list[int]] | None:
    """Each label and where its run starts, when the labels are text grouped in ascending order
    (each label one run: a sorted frame's query or series column); None otherwise."""
    starts = run_starts(labels)
    firsts = [labels[a] for a in starts]
    return (firsts, starts) if _ascending_text(firsts) else None


def _ascending_text(firsts: Sequence[object]) -> bool:
    """Whether runs' labels are text in strictly ascending order: each label is one run."""
    if not all(type(first) is str for first in firsts):  # a missing label (NaN, None)
        return False
    return all(a < b for a, b in zip(firsts, firsts[1:], strict=False))  # type: ignore[operator]


def series_names(data: pd.DataFrame) -> list[str]:
    """The distinct series of a tidy frame, sorted.

    A frame grouped by series in sorted order (a query's rows of the series frame,
    `read_series`) gives them by its runs: comparing neighbours that are mostly one object is
    far cheaper than hashing every row (benchmarks/README.md).
    Any other frame is counted by hashing; a missing name is no series.
    """
    runs = sorted_runs(data["series"].to_numpy())
    if runs is not None:
        return runs[0]
    return sorted(str(name) for name in data["series"].dropna().unique())


def _in_series_order(names: np.ndarray, nanos: np.ndarray, starts: list[int]) -> bool:
    """Whether the rows are sorted by series, then time: what a stable sort would leave as is."""
    if not _ascending_text([names[a] for a in starts]):  # a missing label: pandas sorts them
        return False
    steps = np.diff(nanos)
    steps[[a - 1 for a in starts[1:]]] = 0  # from one series to the next: any step
    return bool((steps >= 0).all())
