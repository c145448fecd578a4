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
