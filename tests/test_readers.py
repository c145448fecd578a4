"""Readers turn the snapshot's raw query results into typed records, once."""

from __future__ import annotations

import math
import random
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import pandas as pd

from collector.demo import demo_dir
from collector.series import series_names
from collector.snapshot.prometheus import (
    QueryResult,
    label_text,
    read_query_results,
    read_series,
)
from collector.snapshot.store import load_snapshot
from collector.timeutil import parse_time


def test_each_query_result_holds_its_own_samples() -> None:
    raw = load_snapshot(demo_dir() / "snapshot.json").prometheus["results"]
    frame = read_series(raw)
    results = read_query_results(raw)
    assert [r.name for r in results] == [r["name"] for r in raw]
    assert sum(len(r.samples) for r in results) == len(frame) > 0
    memory = next(r for r in results if r.kind == "memory")
    assert set(memory.samples["query"]) == {memory.name}
    shown = sorted(frame.loc[frame["query"] == memory.name, "series"].unique())
    assert series_names(memory.samples) == shown
    assert isinstance(memory.start, datetime) and isinstance(memory.end, datetime)
    assert memory.start < memory.end
    assert memory.step > 0 and memory.thresholds and memory.error is None
    alerts = next(r for r in results if r.kind == "alerts")
    assert alerts.samples.empty and series_names(alerts.samples) == []  # intervals, no frame


def test_a_snapshot_threshold_listed_twice_is_read_once_in_its_order() -> None:
    raw = [{"name": "m", "kind": "memory", "thresholds": [95, 80, 95.0, 80], "result": []}]
    [result] = read_query_results(raw)
    assert result.thresholds == (95.0, 80.0)


def test_a_failed_query_keeps_its_error_and_no_samples() -> None:
    raw = [{"name": "bad", "kind": "custom", "result": [], "error": "parse error"}]
    [result] = read_query_results(raw)
    assert result == QueryResult("bad", "bad", error="parse error")
    assert result.samples.empty


def test_a_baseline_is_read_only_with_its_offset() -> None:
    """One rule for every reader of a baseline: without its recorded offset there is none (the
    chart once assumed 7 days where the traffic-lost figure said 0)."""
    raw = load_snapshot(demo_dir() / "snapshot.json").prometheus["results"]
    with_baseline = [r for r in raw if r.get("baseline_result")]
    assert with_baseline, "the demo has week-earlier baselines"
    offsets = {r["name"]: r["baseline_offset_s"] for r in with_baseline}
    shifted = read_series(with_baseline, baseline=True)
    for record in with_baseline:
        first = float(record["baseline_result"][0]["values"][0][0]) + offsets[record["name"]]
        times = shifted.loc[shifted["query"] == record["name"], "time"]
        assert times.min().timestamp() == first
    unrecorded = [{k: v for k, v in r.items() if k != "baseline_offset_s"} for r in with_baseline]
    assert read_series(unrecorded, baseline=True).empty
    for result in read_query_results(unrecorded):
        assert not result.has_baseline and result.baseline_offset_s is None
    for result in read_query_results(with_baseline):
        assert result.has_baseline and result.baseline_offset_s == offsets[result.name]


def _reference_series(results: list[dict[str, object]]) -> pd.DataFrame:
    """The series frame by its definition, one sample at a time (slow; the reader's spec)."""
    rows = []
    for record in results:
        for series in record["result"]:  # type: ignore[attr-defined]
            label = label_text(series["metric"])
            kept = [(float(t), float(v)) for t, v in series["values"] if math.isfinite(float(v))]
            kept = kept or [(parse_time(str(record["start"])).timestamp(), math.nan)]
            rows += [(record["name"], label, t, v) for t, v in kept]
    frame = pd.DataFrame(rows, columns=["query", "series", "t", "value"])
    frame = frame.drop_duplicates(subset=["query", "series", "t"])  # the first read wins
    frame["time"] = pd.to_datetime(frame["t"], unit="s", utc=True)
    ordered = frame.sort_values(["query", "series", "time"], ignore_index=True)
    return ordered[["query", "series", "time", "value"]]


def test_the_series_frame_matches_its_definition_on_random_answers() -> None:
    """Unsorted and repeated times, NaN and ±Inf, empty series, label sets that coincide once
    `__name__` is left out, several queries: the vectorised reader gives the reference frame."""
    rng = random.Random(16)
    for _ in range(60):
        results = []
        for q in range(rng.randint(1, 3)):
            series = []
            for _ in range(rng.randint(0, 5)):
                metric = {"__name__": rng.choice("ab"), "instance": f"h{rng.randint(0, 2)}"}
                times = [1_700_000_000 + 60 * rng.randint(0, 30) for _ in range(rng.randint(0, 9))]
                values = [
                    rng.choice(["1.5", "NaN", "+Inf", "-Inf", "0", str(rng.random())])
                    for _ in times
                ]
                series.append(
                    {"metric": metric, "values": [list(p) for p in zip(times, values, strict=True)]}
                )
            results.append(
                {
                    "name": f"q{q}",
                    "kind": "custom",
                    "start": "2023-11-14T22:00:00Z",
                    "result": series,
                }
            )
        expected = _reference_series(results)
        pd.testing.assert_frame_equal(read_series(results), expected)


def test_snapshot_json_is_written_part_by_part_as_one_dumps_would(tmp_path: Path) -> None:
    """save_snapshot writes a big incident's JSON piece by piece (never one 50 MB string):
    the bytes are those of one compact `json.dumps`, whatever the text brings."""
    import json

    from collector.snapshot.gaps import gap_record
    from collector.snapshot.store import save_snapshot

    snapshot = load_snapshot(demo_dir() / "snapshot.json")
    snapshot.pagerduty["incident"]["title"] = 'Ünïcode … 日本語 🔥 "quoted" \\ \u2028'
    snapshot.prometheus["results"][0]["odd keys"] = {1: "one", "two": [1.5, None, True]}
    path = tmp_path / "snapshot.json"
    save_snapshot(snapshot, path)
    data = {f.name: getattr(snapshot, f.name) for f in fields(snapshot)}
    data["gaps"] = [gap_record(gap) for gap in snapshot.gaps]
    expected = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert path.read_bytes() == expected.encode("utf-8")
    assert load_snapshot(path).pagerduty["incident"]["title"].startswith("Ünïcode")


def test_the_query_kind_enum_is_the_configs_list_of_kinds() -> None:
    from collector.config import QUERY_KINDS
    from collector.records import QueryKind

    assert [kind.value for kind in QueryKind] == list(QUERY_KINDS)
