"""One long series prepared for robust fits: finite samples in time order, then bins.

Bins average consecutive samples over whole steps (an hour at most, about `MAX_BINS` over the
window) and never straddle a reset, so the fits stay fast on weeks of 5-minute samples and a
restart is never averaged into a level. Pure numpy: no I/O, no words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt

from collector.series import typical_step

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_BINS = 700  # the fits run on bins of whole steps, about this many over the window ...
MAX_BIN_WIDTH = 3600.0  # ... and never wider than an hour, so that a day keeps its shape


@dataclass(frozen=True)
class Samples:
    """Finite samples sorted by time, in epoch seconds and percent."""

    t: FloatArray
    v: FloatArray


@dataclass(frozen=True)
class Bins:
    """Consecutive samples averaged over whole steps, never across a reset."""

    t: FloatArray  # mean time, epoch seconds
    v: FloatArray
    segment: IntArray  # 0 before the first reset, 1 after it, ...
    start: FloatArray  # time of each bin's first sample
    width: float  # seconds


def clean_samples(
    times: Sequence[datetime] | npt.NDArray[np.generic],
    values: npt.NDArray[np.floating] | Sequence[float],
    until: float,
) -> Samples:
    """Finite samples at or before `until` (epoch seconds), sorted by time.

    Times: numpy datetime64 (naive is UTC), epoch seconds, or datetimes (naive is UTC).
    """
    t = _epoch_seconds(times)
    v = np.asarray(values, dtype=np.float64)
    if len(t) != len(v):
        raise ValueError("times and values differ in length")
    keep = np.isfinite(t) & np.isfinite(v) & (t <= until)
    t, v = t[keep], v[keep]
    if len(t) > 1 and bool(np.any(np.diff(t) < 0)):
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
    return Samples(t, v)


def _epoch_seconds(times: Sequence[datetime] | npt.NDArray[np.generic]) -> FloatArray:
    array = np.asarray(times)
    if np.issubdtype(array.dtype, np.datetime64):
        nanos = array.astype("datetime64[ns]")
        seconds = nanos.astype(np.int64).astype(np.float64) / 1e9
        return np.where(np.isnat(nanos), np.nan, seconds)
    if array.dtype == object:
        return np.array([_seconds_of(t) for t in array.tolist()], dtype=np.float64)
    return array.astype(np.float64)


def _seconds_of(moment: object) -> float:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    return math.nan


def bin_samples(series: Samples, resets: Sequence[int]) -> Bins:
    """Average the samples over bins of whole steps, starting a new bin at every reset."""
    t = series.t
    marks = np.zeros(len(t), dtype=np.int64)
    marks[list(resets)] = 1
    segment = np.cumsum(marks)
    step = max(typical_step(t) or 1.0, 1.0)  # seconds, at least one
    span = float(t[-1] - t[0])
    width = max(step, min(math.ceil(span / MAX_BINS / step) * step, MAX_BIN_WIDTH))
    slot = np.floor((t - t[0]) / width).astype(np.int64)
    key = segment * (int(slot[-1]) + 1) + slot
    first = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1]).astype(np.int64)
    counts = np.diff(np.concatenate([first, [len(t)]]))
    return Bins(
        t=np.add.reduceat(t, first) / counts,
        v=np.add.reduceat(series.v, first) / counts,
        segment=segment[first],
        start=t[first],
        width=width,
    )
