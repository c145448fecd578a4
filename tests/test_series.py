"""The one rule for a break in a series, and gap records through a snapshot file."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.demo import demo_dir
from collector.records import Gap, GapKind
from collector.series import find_breaks, split_runs, typical_step
from collector.snapshot.migrate import migrate_snapshot, read_v1_gap
from collector.snapshot.store import Snapshot, load_snapshot, save_snapshot
from report.words import gap_line

GRID = [0.0, 60.0, 120.0, 300.0, 360.0, 600.0]  # pauses: 1, 1, 3, 1, 4 steps


@pytest.mark.parametrize(
    ("missing", "breaks"),
    [(1, [3, 5]), (2, [3, 5]), (3, [5]), (4, [])],
)
def test_a_break_is_at_least_missing_samples_absent(missing: int, breaks: list[int]) -> None:
    assert find_breaks(GRID, 60.0, missing=missing) == breaks


def test_half_a_step_of_jitter_is_no_break() -> None:
    assert find_breaks([0.0, 60.0, 149.0, 209.0], 60.0) == []
    assert find_breaks([0.0, 60.0, 151.0, 211.0], 60.0) == [2]


def test_no_step_no_break() -> None:
    assert typical_step([5.0]) is None
    assert find_breaks([0.0, 1000.0], None) == find_breaks([0.0, 1000.0], 0.0) == []
    assert typical_step(GRID) == 60.0


def test_runs_between_breaks() -> None:
    assert split_runs(GRID, find_breaks(GRID, 60.0)) == [
        (0.0, 120.0),
        (300.0, 360.0),
        (600.0, 600.0),
    ]
    assert split_runs([], []) == []


GAPS = [
    Gap("PagerDuty", "log_entries", GapKind.UNFETCHED, "PagerDuty answered HTTP 500"),
    Gap(
        "PagerDuty",
        "alerts",
        GapKind.TRUNCATED,
        "",
        10000,
        10050,
    ),
    Gap("Prometheus", "mem", GapKind.UNFETCHED, "Prometheus rejected the query: 1:9: x"),
    Gap(
        "Prometheus",
        "huge",
        GapKind.DROPPED,
        "",
        2,
    ),
    Gap("Prometheus", "mem", GapKind.UNFETCHED, "timeout", days=28),
]


def test_gaps_are_records_worded_once_and_v1_lines_read_back(tmp_path: Path) -> None:
    assert [gap_line(g) for g in GAPS] == [
        "PagerDuty log_entries: PagerDuty answered HTTP 500",
        "PagerDuty alerts: only the first 10000 of 10050 were fetched",
        "Prometheus query 'mem': Prometheus rejected the query: 1:9: x",
        "Prometheus query 'huge': 2 samples that are not finite numbers (NaN, ±Inf) were left out",
        "Prometheus query 'mem (28 days)': timeout",
    ]
    assert [read_v1_gap(gap_line(g)) for g in GAPS] == GAPS
    assert read_v1_gap("something else") == Gap("", "", GapKind.OTHER, "something else")
    v1 = {
        "incident_id": "P7DBOOM",
        "collected_at": "2025-10-25T15:30:00Z",
        "tool_version": "0",
        "pagerduty": {},
        "prometheus": {},
        "gaps": [gap_line(g) for g in GAPS],
        "schema_version": 1,
    }
    snapshot = Snapshot.from_json(migrate_snapshot(v1))
    assert snapshot.gaps == GAPS and snapshot.schema_version == 2
    path = tmp_path / "snapshot.json"
    save_snapshot(snapshot, path)
    first = '{"source":"PagerDuty","subject":"log_entries","kind":"unfetched","detail":"PagerDuty'
    assert '"gaps":[' + first in path.read_text()


def test_a_saved_snapshot_loads_back_with_its_gaps(tmp_path: Path) -> None:
    demo = load_snapshot(demo_dir() / "snapshot.json")
    demo.gaps = list(GAPS)
    path = tmp_path / "snapshot.json"
    save_snapshot(demo, path)
    assert load_snapshot(path).gaps == GAPS


def test_split_series_takes_a_frame_in_order_as_it_is_and_sorts_any_other() -> None:
    """A query's rows of the series frame are in series and time order already: not copied.
    Rows out of order, or labels that do not compare, are sorted as before."""
    import numpy as np
    import pandas as pd

    from collector.series import split_series

    def frame(series: list[object], seconds: list[int]) -> pd.DataFrame:
        times = pd.to_datetime(seconds, unit="s", utc=True)
        return pd.DataFrame({"series": series, "time": times, "value": np.arange(len(series))})

    in_order = split_series(frame(["a", "a", "b"], [1, 2, 1]))
    assert {k: v.values.tolist() for k, v in in_order.items()} == {"a": [0, 1], "b": [2]}
    shuffled = split_series(frame(["b", "a", "a"], [1, 2, 1]))
    assert {k: v.values.tolist() for k, v in shuffled.items()} == {"a": [2, 1], "b": [0]}
    odd = split_series(frame(["a", np.nan, "a"], [2, 1, 1]))
    assert odd["a"].values.tolist() == [2, 0] and odd["nan"].values.tolist() == [1]


def test_series_names_come_from_runs_when_sorted_and_are_hashed_otherwise() -> None:
    """The distinct series of a frame, sorted: from its runs when the frame is grouped in sorted
    order (a query's rows of the series frame), else counted the slow way, NaN left out."""
    import numpy as np
    import pandas as pd

    from collector.series import series_names

    def frame(series: list[object]) -> pd.DataFrame:
        return pd.DataFrame({"series": series, "value": np.arange(len(series), dtype=float)})

    assert series_names(frame(["a", "a", "b", "c", "c"])) == ["a", "b", "c"]
    # A label that comes back after another (not grouped) is one series, not two.
    assert series_names(frame(["b", "a", "b", "a"])) == ["a", "b"]
    assert series_names(frame(["a", np.nan, "a", None])) == ["a"]
    assert series_names(frame([])) == [] and series_names(frame([None])) == []
    rng = np.random.default_rng(7)
    labels = [f'{{instance="h-{i:03d}"}}' for i in rng.permutation(300)]
    shuffled = frame(list(np.repeat(np.array(labels, dtype=object), 4)))
    ordered = shuffled.sort_values("series", kind="stable")
    assert series_names(ordered) == series_names(shuffled) == sorted(labels)
    assert len(series_names(ordered)) == shuffled["series"].nunique() == 300
