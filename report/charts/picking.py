"""What a metric chart draws of its query, picked without matplotlib: the series with the
highest peaks in the window, their legend names, and the range of all the others.

The draft picks before it sends a chart's job to the chart drawer (`report.draft`), so that
the job carries what is drawn: a big incident's thousands of series (over a hundred MiB) become
six series and one band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from collector.series import sorted_runs

MAX_LEGEND_SERIES = 6  # series drawn one by one when the query's summary does not say


@dataclass(frozen=True)
class SeriesPick:
    """A query's series in a chart's window: the shown ones (highest peak first), each with its
    rows (`time`, `value`) and legend name, and, for the others, how many and their range at
    each time (`band`: `min`, `max` by time; None without others)."""

    lines: tuple[pd.DataFrame, ...]
    names: tuple[str, ...]
    others: int
    band: pd.DataFrame | None

    @property
    def empty(self) -> bool:
        return not self.lines


def in_window(frame: pd.DataFrame, query: str, window: tuple[datetime, datetime]) -> pd.DataFrame:
    """The query's rows in the window, ends included."""
    return frame[
        (frame["query"] == query)
        & (frame["time"] >= pd.Timestamp(window[0]))
        & (frame["time"] <= pd.Timestamp(window[1]))
    ]


def pick_series(
    rows: pd.DataFrame, window: tuple[datetime, datetime], max_shown: int, everything: str
) -> SeriesPick:
    """The `max_shown` series of one query's rows with the highest peaks in the window, and the
    range of the others. `everything`: the legend name of a series whose labels all share."""
    times = rows["time"]
    inside = ((times >= pd.Timestamp(window[0])) & (times <= pd.Timestamp(window[1]))).to_numpy()
    if not inside.any():
        return SeriesPick((), (), 0, None)
    data = rows if inside.all() else rows[inside]
    values = data["value"].to_numpy(np.float64)
    runs = sorted_runs(data["series"].to_numpy())
    if runs is not None:  # grouped by series, sorted (`read_series`): each series one slice
        names_by_code = np.array(runs[0], dtype=object)
        bounds = np.array([*runs[1], len(data)])
        peak_by_code = np.fmax.reduceat(values, bounds[:-1])  # NaN skipped, as pandas does
        rows_of = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    else:
        # The series' names as integer codes, found once: grouping and matching 2,000
        # series' names string by string over a big incident's rows took most of its chart.
        codes, uniques = pd.factorize(data["series"])
        named = codes >= 0  # a row with no series name (-1) is no series
        found = pd.Series(values[named]).groupby(codes[named]).max()
        names_by_code = np.asarray(uniques)[found.index.to_numpy()]
        peak_by_code = found.to_numpy()
        rows_of = [codes == code for code in found.index.to_numpy()]
    peaks = pd.Series(peak_by_code, index=names_by_code).sort_index()
    peaks = peaks.sort_values(ascending=False)
    shown = list(peaks.index[:max_shown])
    code_of = {name: code for code, name in enumerate(names_by_code)}
    names = short_series_labels(list(peaks.index), everything)
    drawn = data[["time", "value"]]
    lines = tuple(drawn.iloc[rows_of[code_of[s]]] for s in shown)
    others = len(peaks) - len(shown)
    band = None
    if others:
        lesser = np.ones(len(data), dtype=bool)
        for s in shown:
            lesser[rows_of[code_of[s]]] = False
        if runs is None:  # rows of no series (a label missing) belong to none
            lesser &= codes >= 0
        band = data["value"][lesser].groupby(data["time"][lesser]).agg(["min", "max"])
    return SeriesPick(lines, tuple(names[s] for s in shown), others, band)


def short_series_labels(series: Sequence[str], everything: str) -> dict[str, str]:
    """Legend labels without the label pairs every series shares ({job="node"} and the like);
    `everything` names a series whose pairs are all shared."""
    split = {s: [p for p in s.strip("{}").split(",") if p] for s in series}
    common = set.intersection(*(set(p) for p in split.values())) if split else set()
    labels = {}
    for name, pairs in split.items():
        rest = [p for p in pairs if p not in common] or pairs
        values = [p.split("=", 1)[1].strip('"') if "=" in p else p for p in rest]
        labels[name] = ", ".join(values) or everything
    return labels
