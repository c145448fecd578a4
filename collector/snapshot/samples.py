"""Metric samples of a snapshot checked by plain loops: there can be millions of them, too
many for the schema validator (`snapshot.schema` checks everything else)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from collector.timeutil import LATEST

# A sample's time, in Unix seconds, between EARLIEST and LATEST.
_LATEST_UNIX = LATEST.timestamp()


def check_queries(results: Sequence[dict[str, Any]], path: str) -> str | None:
    """The first query record under `path` named twice or holding a sample that is not a
    [time, value] pair, as 'field.path: problem'; None when there is none."""
    seen: set[str] = set()
    for index, record in enumerate(results):
        where = f"{path}[{index}]"
        if record["name"] in seen:
            return f"{where}.name: query name {record['name']!r} appears twice"
        seen.add(record["name"])
        for key in ("result", "baseline_result"):
            for number, series in enumerate(record.get(key) or ()):
                problem = _check_samples(series.get("values") or ())
                if problem is not None:
                    return f"{where}.{key}[{number}].values[{problem}]: not a [time, value] sample"
    return None


def _samples_look_right(values: Sequence[Any]) -> bool:
    # The fast path for millions of samples: one numpy conversion instead of a Python loop.
    try:
        array = np.asarray(values, dtype=float)
    except (ValueError, TypeError, OverflowError):
        return False
    if array.size == 0:
        return True
    if array.ndim != 2 or array.shape[1] != 2:
        return False
    times = array[:, 0]
    # numpy turns None into NaN: a NaN value is checked one by one (rare: fetching drops them).
    in_range = (times >= 0) & (times <= _LATEST_UNIX)
    return bool(in_range.all() and not np.isnan(array[:, 1]).any())


def _check_samples(values: Sequence[Any]) -> int | None:
    """The index of the first sample that is not [unix time, number or numeric text]."""
    if _samples_look_right(values):
        return None
    for index, sample in enumerate(values):
        if not isinstance(sample, list) or len(sample) != 2:
            return index
        time, value = sample
        if isinstance(time, bool) or not isinstance(time, (int, float)):
            return index
        if not 0 <= time <= _LATEST_UNIX:  # also refuses NaN
            return index
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return index
        try:
            float(value)
        except (ValueError, OverflowError):
            return index
    return None
