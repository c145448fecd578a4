"""What a metric chart draws of its query, picked without matplotlib: the series with the
highest peaks in the window, their legend names, and the range of all the others.

The draft picks before it sends a chart's job to the chart drawer (`report.draft`), so that
the job carries what is drawn: a big incident's 2,000 series (1.4 M rows, 110 MiB) become six
series and one band of 721 points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

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
    frame: pd.DataFrame,
    query: str,
    window: tuple[datetime, datetime],
    max_shown: int,
    everything: str,
) -> SeriesPick:
    """The `max_shown` series of `query` with the highest peaks in the window, and the range of
    the others. `everything`: the legend name of a series whose labels all series share."""
    data = in_window(frame, query, window)
    if data.empty:
        return SeriesPick((), (), 0, None)
    # The series' names as integer codes, found once: grouping and matching 2,000 series'
    # names string by string over 1.4 M rows took most of a big incident's chart.
    codes, names_by_code = pd.factorize(data["series"])
    peak_by_code = pd.Series(data["value"].to_numpy()).groupby(codes).max()
    peaks = pd.Series(
        peak_by_code.to_numpy(), index=names_by_code[peak_by_code.index.to_numpy()]
    ).sort_index()
    peaks = peaks.sort_values(ascending=False)
    shown = list(peaks.index[:max_shown])
    others = list(peaks.index[max_shown:])
    code_of = {name: code for code, name in enumerate(names_by_code)}
    names = short_series_labels(list(peaks.index), everything)
    lines = tuple(data.loc[codes == code_of[s], ["time", "value"]] for s in shown)
    band = None
    if others:
        lesser = np.isin(codes, [code_of[s] for s in others])
        band = data[lesser].groupby("time")["value"].agg(["min", "max"])
    return SeriesPick(lines, tuple(names[s] for s in shown), len(others), band)


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
