"""A series' metric samples: read once as numbers (`Samples`), and checked in a snapshot's
file by plain loops (there can be millions of them, too many for the schema validator;
`snapshot.schema` checks everything else).

Prometheus answers each sample as `[unix time, "value"]`. The client reads a series' samples
into two numpy columns as its answer is parsed (`read_samples`), and every reader takes the
columns (`sample_columns`): the values' text is read once, and a big incident's samples take
16 bytes each instead of some 120. snapshot.json keeps the pairs: a `Samples` is written as
them (`Samples.json_text`), each value in Prometheus's own notation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from collector.errors import SnapshotError
from collector.timeutil import LATEST

FloatArray = npt.NDArray[np.float64]
# A sample's time, in Unix seconds, between EARLIEST and LATEST.
_LATEST_UNIX = LATEST.timestamp()


class Samples(Sequence[tuple[float, str]]):
    """One series' samples as numbers: times (Unix seconds) and finite values, in the order
    they were read; `dropped` counts the non-finite ones left out when they were read.

    Also a read-only sequence of `(time, "value")` pairs, as the answer gave them (a time
    that is a whole number as an int), for code that reads samples one by one."""

    __slots__ = ("dropped", "times", "values")

    def __init__(self, times: FloatArray, values: FloatArray, dropped: int = 0) -> None:
        self.times, self.values, self.dropped = times, values, dropped

    @classmethod
    def joined(cls, parts: Sequence[Samples]) -> Samples:
        """The parts' samples one after the other (a range asked in parts)."""
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.times for p in parts]),
            np.concatenate([p.values for p in parts]),
            sum(p.dropped for p in parts),
        )

    def __len__(self) -> int:
        return len(self.times)

    def __iter__(self) -> Iterator[tuple[float, str]]:
        return iter(self.pairs())

    @overload
    def __getitem__(self, index: int) -> tuple[float, str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[float, str]]: ...

    def __getitem__(self, index: int | slice) -> tuple[float, str] | list[tuple[float, str]]:
        return self.pairs()[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Samples):
            return NotImplemented
        return bool(
            np.array_equal(self.times, other.times) and np.array_equal(self.values, other.values)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Samples({len(self)} samples, {self.dropped} dropped)"

    def pairs(self) -> list[tuple[float, str]]:
        """The samples as `(time, "value")` pairs."""
        return list(zip(_times(self.times), map(value_text, self.values.tolist()), strict=True))

    def json_text(self) -> str:
        """The samples as snapshot.json keeps them: `[[time,"value"],...]`."""
        if not len(self):
            return "[]"
        times, values = _time_texts(self.times), self.values.tolist()
        # Each value's repr, whole numbers' `.0` taken off after the join: a third less time
        # than `value_text` one by one, on the millions of samples of a big incident.
        body = '"],['.join(map(str.__add__, times, map(repr, values)))
        if "e" in body:  # an exponent (below 0.0001, or from 1e16 on): one by one
            body = '"],['.join(map(str.__add__, times, map(value_text, values)))
        else:
            body = body.replace('.0"]', '"]')
            body = body[:-2] if body.endswith(".0") else body
        return "[[" + body + '"]]'


# The last time grid written, with its text (`_time_texts`): a query's series mostly share
# one. One tuple, read once per call: drafts written by threads side by side (the webhook
# server) each compare and use the same grid.
_last_grid: tuple[FloatArray, list[str]] | None = None


def _time_texts(times: FloatArray) -> list[str]:
    """Each time as JSON writes it, followed by `,"` (what comes before its value's text)."""
    global _last_grid  # a cache of one grid
    last = _last_grid
    if last is not None and np.array_equal(last[0], times):
        return last[1]
    texts = [f'{t},"' for t in _times(times)]
    _last_grid = (times, texts)
    return texts


def _times(times: FloatArray) -> list[float]:
    """Times as JSON writes them: a whole second as an int (as Prometheus writes it)."""
    whole = times.astype(np.int64)
    if np.array_equal(whole, times):
        return whole.tolist()  # type: ignore[no-any-return]
    return [int(t) if t.is_integer() else t for t in times.tolist()]


def value_text(value: float) -> str:
    """A finite value as Prometheus writes it (Go's `strconv.FormatFloat(v, 'f', -1, 64)`):
    the fewest digits that read back the same, never an exponent, no `.0` on whole numbers."""
    text = repr(value)
    if text.endswith(".0"):
        return text[:-2]
    if "e" in text:
        return np.format_float_positional(value, trim="-")
    return text


class MalformedSamples(SnapshotError, ValueError):
    """Samples that are not [unix time, number] pairs; the text says how."""


def read_samples(values: Sequence[Any]) -> Samples:
    """A series' `[time, value]` samples read as numbers, the non-finite values left out
    (counted in `Samples.dropped`).

    Values come as text ("12.5", "NaN", "+Inf"), times as numbers; both are read by numpy at
    once, and each check runs over the whole series in C. Raises `MalformedSamples` for a
    sample that is not a pair of numbers, or a time outside the years 1970 to 2262.
    """
    if isinstance(values, Samples):
        return values
    if not values:
        return Samples(np.empty(0), np.empty(0))
    if not set(map(type, values)) <= {list, tuple} or set(map(len, values)) != {2}:
        raise MalformedSamples("a sample is not a [time, value] pair")
    times, numbers = [t for t, _ in values], [v for _, v in values]
    kinds = set(map(type, times)) | set(map(type, numbers))
    if type(None) in kinds or bool in kinds:  # numpy would read None as NaN, a boolean as 1
        raise MalformedSamples("a sample is not a number")
    try:
        at, read = np.array(times, dtype=np.float64), np.array(numbers, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise MalformedSamples("a sample is not a number") from None
    if at.shape != (len(values),) or read.shape != (len(values),):
        raise MalformedSamples("a sample is not a [time, value] pair")
    if not np.all((at >= 0) & (at <= _LATEST_UNIX)):  # NaN fails too
        raise MalformedSamples("a sample time is outside the years 1970 to 2262")
    finite = np.isfinite(read)
    if finite.all():
        return Samples(at, read)
    return Samples(at[finite], read[finite], int(len(read) - finite.sum()))


def sample_times(values: Sequence[Any]) -> list[float]:
    """A series' sample times, whatever their values (an alert's state series)."""
    if isinstance(values, Samples):
        return values.times.tolist()  # type: ignore[no-any-return]
    return [float(t) for t, _ in values]


def sample_columns(values: Sequence[Any]) -> tuple[FloatArray, FloatArray]:
    """A series' times and finite values, from its `Samples` or (a snapshot read from its
    file) its checked `[time, value]` pairs."""
    samples = read_samples(values)
    return samples.times, samples.values


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
                values = series.get("values") or ()
                if isinstance(values, Samples):
                    continue  # read by `read_samples`: proven already
                problem = _check_samples(values)
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
